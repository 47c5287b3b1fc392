"""Score messages with a verified model and say which words drove each score.

The same calls serve notebooks, the CLI, the batch scorer and the HTTP service::

    from boundaryline import load_scorer
    scorer = load_scorer()
    scorer.score(["Coffee next week?"], explain=True)
    scorer.explain("You looked stunning on stage", label="inappropriate_proposition")
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from boundaryline.decision import decide, thresholds_in_force
from boundaryline.folded import Rows
from boundaryline.registry import ModelError, load_pipeline, load_table
from boundaryline.results import Contribution, Explanation, Score
from boundaryline.settings import CONCERN_LABELS, Settings, get_settings
from boundaryline.table import CACHED_WORD_CHARS, ScoringTable, Unfoldable

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline
from boundaryline.text import normalise_texts

# The pipeline's steps, by the names ``model.build_pipeline`` gives them; the scorer addresses them by name.
STEPS = ("normalise", "tfidf", "clf")
# Texts a pipeline's table is checked on in memory, beside a sample of the model's own vocabulary.
CHECK_TEXTS = (
    "",
    "Dinner tonight, just the two of us? You looked stunning at the conference 😍",
    "Following up AGAIN, this is my 4th email: please reply!! www.example.com +44 20 7946 0958",
    "Thanks for the intro to María, we meet on Tuesday. ana@example.org",
)
_EDGE_PUNCTUATION = re.compile(r"^[^\w\u2600-\u27bf\U0001f300-\U0001faff]+|[^\w\u2600-\u27bf\U0001f300-\U0001faff]+$")


class Scorer:
    """A verified scoring table (``table.ScoringTable``) with its manifest and the thresholds in force: scores
    and explains without scikit-learn. ``Scorer.of_pipeline`` makes one of a fitted pipeline in memory."""

    def __init__(
        self,
        table: ScoringTable,
        manifest: Mapping[str, Any],
        *,
        thresholds: Mapping[str, float] | None = None,
        top_k: int = 8,
    ) -> None:
        self.table = table
        self.manifest = dict(manifest)
        self.labels: list[str] = list(table.labels)
        self.thresholds = thresholds_in_force(thresholds or {}, self.manifest)
        self.top_k = top_k
        # Per feature column (the terms are the table's): whether it is a char n-gram, shared out among words.
        self._is_char = table.is_char
        self._has_char = bool(self._is_char.any())
        char_blocks = [block for block in table.blocks if block.kind != "word"]
        self._char_analyzer = table.analyzer(char_blocks[0]) if char_blocks else None
        # Words repeat across messages, so each word's character n-grams are counted once and kept.
        self._word_grams = lru_cache(maxsize=100_000)(self._grams_of)
        self.folded = table.folded()
        # Decision values are ``rows @ weights + intercept``: rows of scaled term frequencies, folded weights.
        self._weights: np.ndarray = self.folded.table

    @classmethod
    def of_pipeline(
        cls,
        pipeline: Pipeline,
        manifest: Mapping[str, Any],
        *,
        thresholds: Mapping[str, float] | None = None,
        top_k: int = 8,
    ) -> Scorer:
        """The scorer of a fitted pipeline in memory (training, evaluation, a version saved before scoring
        tables): its table, checked against ``pipeline.predict_proba`` on a sample; ``ModelError`` for a
        pipeline the table does not reproduce."""
        names = [name for name, _ in pipeline.steps]
        if names != list(STEPS):
            raise ModelError(f"expected a pipeline with the steps {list(STEPS)}, found {names}")
        try:
            table = ScoringTable.of_pipeline(pipeline)
            table.check(pipeline, CHECK_TEXTS)
        except Unfoldable as error:
            raise ModelError(f"this pipeline cannot be scored from a table: {error}") from None
        return cls(table, manifest, thresholds=thresholds, top_k=top_k)

    def _grams_of(self, word: str) -> tuple[str, tuple[tuple[str, int], ...]]:
        """A white-space word as an evidence term (edge punctuation dropped) and its char n-gram counts."""
        assert self._char_analyzer is not None
        term = _EDGE_PUNCTUATION.sub("", word) or word
        return term, tuple(Counter(self._char_analyzer(word)).items())

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unversioned"))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Per-class probabilities, columns in ``labels`` order (the folded table's, when in use)."""
        return self._transform(list(texts))[2]

    def _transform(self, texts: list[str]) -> tuple[list[str], Rows, np.ndarray]:
        """The normalised texts (once, shared by the features and the evidence), their feature rows (whose
        values times ``_weights`` are the terms' pushes) and the probabilities."""
        normalised = normalise_texts(texts)  # the ``normalise`` step's own function (checked by the table)
        rows = self.folded.rows(normalised)
        return normalised, rows, self.folded.predict_proba(rows)

    def score(
        self,
        texts: Sequence[str],
        *,
        explain: bool | Sequence[bool] | Literal["flagged"] = False,
        top_k: int | None = None,
        thresholds: Mapping[str, float] | None = None,
    ) -> list[Score]:
        """Label, per-class probability and flag for each text; with ``explain`` the terms that pushed
        hardest towards the label: for every text (True), per text (a list of bools), or only for the
        flagged ones ("flagged": the evidence a reviewer needs, at a fraction of the cost).
        ``thresholds`` replaces the thresholds in force for this call (``{}``: arg-max)."""
        if isinstance(texts, str):
            raise TypeError("score() takes a list of texts; for one message write score([text])")
        texts = list(texts)
        if not texts:
            return []
        normalised, matrix, proba = self._transform(texts)
        labels = decide(proba, self.labels, self.thresholds if thresholds is None else thresholds)
        if explain == "flagged":
            wanted = [label in CONCERN_LABELS for label in labels]
        else:
            wanted = [explain] * len(texts) if isinstance(explain, bool) else list(explain)
        evidence = self._supporting(matrix, normalised, labels, wanted, top_k or self.top_k)
        return [
            Score(label, dict(zip(self.labels, row, strict=True)), label in CONCERN_LABELS, explanation)
            for label, row, explanation in zip(labels, proba.tolist(), evidence, strict=True)
        ]

    def explain(self, text: str, label: str | None = None) -> Explanation:
        """Every term's contribution to ``label``'s decision value (default: the label the message gets)."""
        if label is not None and label not in self.labels:
            raise ValueError(f"unknown label {label!r}; the model knows {', '.join(self.labels)}")
        normalised, matrix, proba = self._transform([text])
        if label is None:
            label = decide(proba, self.labels, self.thresholds)[0]
        return self._explain_row(matrix, 0, normalised[0], label)

    def _supporting(
        self, matrix: Rows, normalised: list[str], labels: list[str], wanted: list[bool], k: int
    ) -> list[list[Contribution] | None]:
        """``_explain_row(...).supporting(k)`` for each wanted row (None for the others), without building every
        term's contribution: every term's push on its row's label in one product, then each row's k largest
        positive pushes, ordered by weight then term as the full explanation orders them."""
        evidence: list[list[Contribution] | None] = [None] * len(labels)
        if not any(wanted):
            return evidence
        lengths = np.diff(matrix.indptr)
        on_label = np.repeat(np.array([self.labels.index(label) for label in labels]), lengths)
        pushes = self._weights[matrix.indices, on_label] * matrix.data
        order = np.lexsort((-pushes, np.repeat(np.arange(len(labels)), lengths)))  # each row's largest push first
        largest, columns = pushes[order].tolist(), matrix.indices[order].tolist()
        bounds, terms = matrix.indptr.tolist(), self.table.terms
        for i in (i for i, want in enumerate(wanted) if want):
            start, end = bounds[i], bounds[i + 1]
            if self._has_char and self._is_char[columns[start:end]].any():  # shared out among words: the full path
                evidence[i] = self._explain_row(matrix, i, normalised[i], labels[i]).supporting(k)
                continue
            found: list[tuple[float, str]] = []  # the k largest positive pushes, and any tied with the k-th
            for push, column in zip(largest[start:end], columns[start:end], strict=True):
                if push <= 0 or (len(found) >= k and -push > found[k - 1][0]):
                    break
                found.append((-push, terms[column]))
            evidence[i] = [Contribution(term, -weight) for weight, term in sorted(found)[:k]]
        return evidence

    def _explain_row(self, matrix: Rows, i: int, normalised: str, label: str) -> Explanation:
        k = self.labels.index(label)
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        columns, values = matrix.indices[start:end], matrix.data[start:end]
        pushes = self._weights[columns, k] * values
        is_char = self._is_char[columns]
        terms: dict[str, float] = defaultdict(float)
        names = self.table.terms
        for column, push in zip(columns[~is_char].tolist(), pushes[~is_char].tolist(), strict=True):
            terms[names[column]] += push
        if is_char.any():
            char_pushes = {
                names[c]: push for c, push in zip(columns[is_char].tolist(), pushes[is_char].tolist(), strict=True)
            }
            self._spread_char_ngrams(normalised, char_pushes, terms)
        ordered = sorted(terms.items(), key=lambda item: (-abs(item[1]), item[0]))
        intercept = float(self.folded.intercept[k])
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
        # Short words from the cache; a long one (seldom repeated) is not kept (table.CACHED_WORD_CHARS).
        grams_of = self._word_grams
        words = [grams_of(w) if len(w) <= CACHED_WORD_CHARS else self._grams_of(w) for w in normalised.split()]
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
    """The verified model in service (or ``version``), with the thresholds in force."""
    settings = settings or get_settings()
    table, manifest = load_table(settings.models_dir, version)
    if table is None:  # a version saved before scoring tables: its pipeline (scikit-learn imported)
        pipeline, manifest = load_pipeline(settings.models_dir, version)
        return Scorer.of_pipeline(pipeline, manifest, thresholds=settings.thresholds, top_k=settings.explain_top_k)
    return Scorer(table, manifest, thresholds=settings.thresholds, top_k=settings.explain_top_k)


def score_messages(texts: Sequence[str], *, scorer: Scorer | None = None, explain: bool = False) -> list[Score]:
    """Score a list of texts with ``scorer`` (default: the model in service)."""
    return (scorer or load_scorer()).score(texts, explain=explain)


def explain(text: str, label: str | None = None, *, scorer: Scorer | None = None) -> Explanation:
    """Explain one text's score for ``label`` (default: its predicted label)."""
    return (scorer or load_scorer()).explain(text, label)


__all__ = ["Contribution", "Explanation", "Score", "Scorer", "decide", "explain", "load_scorer", "score_messages"]
