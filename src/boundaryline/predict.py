"""Score messages with a verified model and say which words drove each score.

The same calls serve notebooks, the CLI, the batch scorer and the HTTP service::

    from boundaryline import load_scorer
    scorer = load_scorer()
    scorer.score(["Coffee next week?"], explain=True)
    scorer.explain("You looked stunning on stage", label="inappropriate_proposition")
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from scipy import sparse
from sklearn.pipeline import Pipeline

from boundaryline.registry import current_version, load_pipeline
from boundaryline.settings import CONCERN_LABELS, Settings, get_settings

log = logging.getLogger(__name__)
_EDGE_PUNCTUATION = re.compile(r"^[^\w\u2600-\u27bf\U0001f300-\U0001faff]+|[^\w\u2600-\u27bf\U0001f300-\U0001faff]+$")


@dataclass(frozen=True)
class Contribution:
    """One term's signed push on a class's decision value (coefficient × feature value, summed)."""

    term: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    """Why a message got its score for one class: ``intercept + sum(all contributions) == decision``."""

    label: str
    decision: float
    intercept: float
    contributions: tuple[Contribution, ...]  # every term, largest |weight| first

    def top(self, k: int) -> list[Contribution]:
        """The ``k`` terms with the largest effect, either way."""
        return list(self.contributions[:k])

    def supporting(self, k: int) -> list[Contribution]:
        """The ``k`` terms that pushed hardest *towards* this label: the evidence for it."""
        return sorted((c for c in self.contributions if c.weight > 0), key=lambda c: -c.weight)[:k]


@dataclass(frozen=True)
class Score:
    """The verdict on one message."""

    label: str
    scores: dict[str, float]
    flagged: bool
    explanation: list[Contribution] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "scores": self.scores, "flagged": self.flagged}
        if self.explanation is not None:
            out["explanation"] = [{"term": c.term, "weight": c.weight} for c in self.explanation]
        return out


def decide(probabilities: np.ndarray, labels: Sequence[str], thresholds: Mapping[str, float]) -> list[str]:
    """The label of each row. Every entry point (API, CLI, batch, evaluation) labels through this.

    A concern class qualifies when its probability reaches its threshold, or, without a threshold, when
    it is the arg-max. The most probable qualifying concern class is the label; when none qualifies, the
    message is ``professional``. With no thresholds this is exactly the arg-max. A low threshold
    (``{"inappropriate_proposition": 0.35}``) flags more; a high one (``0.8``) flags only confident calls.
    """
    chosen = probabilities.argmax(axis=1)
    qualifies = np.zeros(probabilities.shape, dtype=bool)
    for k, label in enumerate(labels):
        if label in CONCERN_LABELS:
            limit = thresholds.get(label)
            qualifies[:, k] = probabilities[:, k] >= limit if limit is not None else chosen == k
    best = np.where(qualifies, probabilities, -1.0).argmax(axis=1)
    fallback = next(k for k, label in enumerate(labels) if label not in CONCERN_LABELS)
    return [labels[k] for k in np.where(qualifies.any(axis=1), best, fallback)]


class Scorer:
    """A loaded, verified pipeline with its manifest and the thresholds in force."""

    def __init__(
        self,
        pipeline: Pipeline,
        manifest: Mapping[str, Any],
        *,
        thresholds: Mapping[str, float] | None = None,
        top_k: int = 8,
    ) -> None:
        self.pipeline = pipeline
        self.manifest = dict(manifest)
        self.labels: list[str] = [str(c) for c in pipeline.classes_]
        self.thresholds: dict[str, float] = dict(thresholds if thresholds else self.manifest.get("thresholds") or {})
        self.top_k = top_k
        self._features = pipeline[:-1]
        self._clf = pipeline[-1]
        names = self._features[-1].get_feature_names_out()
        self._is_char = np.char.startswith(names.astype(str), "char__")
        self._names = np.array([n.split("__", 1)[1] for n in names], dtype=object)
        union = dict(self._features[-1].transformer_list)
        char = union.get("char")
        analyzer = char.build_analyzer() if char is not None and char != "drop" else None
        # Words repeat across messages, so each word's character n-grams are counted once and kept.
        self._word_grams = lru_cache(maxsize=100_000)(self._grams_of) if analyzer else None
        self._char_analyzer = analyzer

    def _grams_of(self, word: str) -> tuple[str, tuple[tuple[str, int], ...]]:
        """A white-space word as an evidence term (edge punctuation dropped) and its char n-gram counts."""
        assert self._char_analyzer is not None
        term = _EDGE_PUNCTUATION.sub("", word) or word
        return term, tuple(Counter(self._char_analyzer(word)).items())

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unversioned"))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.pipeline.predict_proba(list(texts)))

    def score(
        self,
        texts: Sequence[str],
        *,
        explain: bool | Sequence[bool] | Literal["flagged"] = False,
        top_k: int | None = None,
    ) -> list[Score]:
        """Label, per-class probability and flag for each text; with ``explain`` the terms that pushed
        hardest towards the label: for every text (True), per text (a list of bools), or only for the
        flagged ones ("flagged": the evidence a reviewer needs, at a fraction of the cost)."""
        texts = list(texts)
        if not texts:
            return []
        normalised = self._features[0].transform(texts)  # once, shared by the features and the evidence
        matrix = sparse.csr_matrix(self._features[1:].transform(normalised))
        proba = self._clf.predict_proba(matrix)
        labels = decide(proba, self.labels, self.thresholds)
        if explain == "flagged":
            wanted = [label in CONCERN_LABELS for label in labels]
        else:
            wanted = [explain] * len(texts) if isinstance(explain, bool) else list(explain)
        k = top_k or self.top_k
        results = []
        for i, (label, row) in enumerate(zip(labels, proba.tolist(), strict=True)):
            explanation = self._explain_row(matrix, i, normalised[i], label).supporting(k) if wanted[i] else None
            scores = dict(zip(self.labels, row, strict=True))
            results.append(Score(label, scores, label in CONCERN_LABELS, explanation))
        return results

    def explain(self, text: str, label: str | None = None) -> Explanation:
        """Every term's contribution to ``label``'s decision value (default: the label the message gets)."""
        if label is not None and label not in self.labels:
            raise ValueError(f"unknown label {label!r}; the model knows {', '.join(self.labels)}")
        normalised = self._features[0].transform([text])
        matrix = sparse.csr_matrix(self._features[1:].transform(normalised))
        if label is None:
            label = decide(self._clf.predict_proba(matrix), self.labels, self.thresholds)[0]
        return self._explain_row(matrix, 0, normalised[0], label)

    def _explain_row(self, matrix: sparse.csr_matrix, i: int, normalised: str, label: str) -> Explanation:
        k = self.labels.index(label)
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        columns, values = matrix.indices[start:end], matrix.data[start:end]
        pushes = self._clf.coef_[k, columns] * values
        is_char = self._is_char[columns]
        terms: dict[str, float] = defaultdict(float)
        for name, push in zip(self._names[columns[~is_char]].tolist(), pushes[~is_char].tolist(), strict=True):
            terms[name] += push
        if is_char.any():
            char_pushes = dict(zip(self._names[columns[is_char]].tolist(), pushes[is_char].tolist(), strict=True))
            self._spread_char_ngrams(normalised, char_pushes, terms)
        ordered = sorted(terms.items(), key=lambda item: (-abs(item[1]), item[0]))
        intercept = float(self._clf.intercept_[k])
        return Explanation(
            label=label,
            decision=intercept + float(pushes.sum()),
            intercept=intercept,
            contributions=tuple(Contribution(t, w) for t, w in ordered if w != 0.0),
        )

    def _spread_char_ngrams(self, normalised: str, char_pushes: dict[str, float], terms: dict[str, float]) -> None:
        """Give each character n-gram's push to the words it came from, so evidence reads as words.

        ``char_wb`` n-grams are taken word by word (white-space split), so each n-gram's push is shared
        among the words that contain it, in proportion to how often; the total is unchanged.
        """
        assert self._word_grams is not None
        words = [self._word_grams(word) for word in normalised.split()]
        totals: dict[str, int] = defaultdict(int)
        for _, grams in words:
            for gram, count in grams:
                totals[gram] += count
        for term, grams in words:
            share = 0.0
            for gram, count in grams:
                push = char_pushes.get(gram)
                if push is not None:
                    share += push * count / totals[gram]
            terms[term] += share


def load_scorer(settings: Settings | None = None, version: str | None = None) -> Scorer:
    """The verified model in service (or ``version``), with the thresholds from the settings."""
    settings = settings or get_settings()
    pipeline, manifest = load_pipeline(settings.models_dir, version)
    return Scorer(pipeline, manifest, thresholds=settings.thresholds, top_k=settings.explain_top_k)


def score_messages(texts: Sequence[str], *, scorer: Scorer | None = None, explain: bool = False) -> list[Score]:
    """Score a list of texts with ``scorer`` (default: the model in service)."""
    return (scorer or load_scorer()).score(texts, explain=explain)


def explain(text: str, label: str | None = None, *, scorer: Scorer | None = None) -> Explanation:
    """Explain one text's score for ``label`` (default: its predicted label)."""
    return (scorer or load_scorer()).explain(text, label)


__all__ = [
    "Contribution",
    "CurrentModel",
    "Explanation",
    "Score",
    "Scorer",
    "decide",
    "explain",
    "load_scorer",
    "score_messages",
]


class CurrentModel:
    """The scorer in service, swapped for a newly promoted version without a restart.

    ``get`` looks at the ``models/current`` pointer at most every ``check_seconds``; when it names another
    version, the new model is loaded and verified first, then swapped in under a lock. Callers keep the
    ``Scorer`` they got, so requests in flight finish on the old model.
    """

    def __init__(self, settings: Settings, *, check_seconds: float = 2.0) -> None:
        self.settings = settings
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._scorer = load_scorer(settings)
        self._checked = time.monotonic()

    def get(self) -> Scorer:
        if time.monotonic() - self._checked >= self.check_seconds:
            self._checked = time.monotonic()
            if current_version(self.settings.models_dir) not in (None, self._scorer.version):
                self.reload()
        return self._scorer

    def reload(self) -> tuple[str, str]:
        """Load the version the pointer names now; returns (previous, current) versions."""
        with self._lock:
            previous = self._scorer.version
            self._scorer = load_scorer(self.settings)
            log.info("model reloaded: %s -> %s", previous, self._scorer.version)
            return previous, self._scorer.version
