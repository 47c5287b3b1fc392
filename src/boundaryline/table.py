"""The scoring table: a model version's folded model in a plain file (``scoring.npz``), scored without
scikit-learn.

Everything scoring and explaining need: the labels, each feature block's analyzer settings (kind, n-gram
range, token pattern, whether function words count only in context), the vocabulary in column order, the IDF,
the folded weights (block weight × IDF × coefficient), the intercepts and the function words. It is built from
the fitted pipeline at save time (``of_pipeline``, the one place that imports scikit-learn), checked against
``pipeline.predict_proba`` there (``check``), and its sha256 goes into the manifest. Loading it imports numpy
and the project's own text functions only: a fresh ``boundaryline score`` skips the ~1 s of importing
scikit-learn, scipy and pandas and of unpickling the pipeline.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from boundaryline.files import AtomicFile
from boundaryline.folded import Block, FoldedModel
from boundaryline.text import (
    char_wb_ngrams,
    is_content_word,
    normalise_texts,
    tokenizer,
    word_char_ngrams,
    word_ngrams,
)

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

TABLE_FILE = "scoring.npz"
FORMAT_VERSION = 2  # 2: terms as one string and their lengths (1 joined them with NUL)
WORD_CACHE = 50_000  # words whose char n-gram columns a scorer keeps (a few MB)
CACHED_WORD_CHARS = 40  # only words this short are kept: a long one seldom repeats, and would hold ~0.3 MB
TOLERANCE = 1e-9  # the largest gap to predict_proba a table may show on the texts it is checked on


class Unfoldable(ValueError):
    """The pipeline has a shape the table does not reproduce exactly."""


@dataclass(frozen=True)
class BlockSpec:
    """One feature block as its analyzer and TF-IDF arithmetic need it."""

    kind: str  # "word" or "char_wb"
    ngram_range: tuple[int, int]
    token_pattern: str | None  # word blocks
    contextual: bool  # function words count only in context (features.Contextual*Vectorizer)
    sublinear: bool
    binary: bool
    norm: str | None
    size: int  # vocabulary entries, in the union's column order


@dataclass(frozen=True)
class ScoringTable:
    labels: tuple[str, ...]
    blocks: tuple[BlockSpec, ...]
    terms: list[str]  # one per feature column
    idf: np.ndarray  # per column
    weights: np.ndarray  # [column, class]: block weight × IDF × coefficient
    intercept: np.ndarray  # per class
    function_words: frozenset[str]

    # ----- built from a fitted pipeline (scikit-learn imported here only)

    @classmethod
    def of_pipeline(cls, pipeline: Pipeline) -> ScoringTable:
        """The table of a fitted ``normalise → tfidf → clf`` pipeline of TF-IDF vectorisers and a multinomial
        logistic regression; ``Unfoldable`` for any shape it would not reproduce exactly."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        from boundaryline.features import FUNCTION_WORDS, ContextualCharVectorizer, ContextualTfidfVectorizer

        steps: dict[str, Any] = dict(pipeline.steps)
        normalise: Any = steps.get("normalise")
        features: Any = steps.get("tfidf")
        clf: Any = steps.get("clf")
        if getattr(normalise, "func", None) is not normalise_texts or getattr(normalise, "kw_args", None):
            raise Unfoldable("the normalise step is not text.normalise_texts")
        if type(features) is not FeatureUnion or type(clf) is not LogisticRegression:
            raise Unfoldable(f"expected a FeatureUnion and a LogisticRegression, got {type(features).__name__} "
                             f"and {type(clf).__name__}")  # fmt: skip
        if len(clf.classes_) < 3 or getattr(clf, "multi_class", "auto") not in ("auto", "multinomial", "deprecated"):
            raise Unfoldable("only a multinomial model of three or more classes is folded")
        block_weights = features.transformer_weights or {}
        specs: list[BlockSpec] = []
        terms: list[str] = []
        idf_parts: list[np.ndarray] = []
        weight_parts: list[np.ndarray] = []
        for name, vectoriser in features.transformer_list:
            if vectoriser in ("drop", None):
                continue
            kind = type(vectoriser)
            if kind not in (TfidfVectorizer, ContextualTfidfVectorizer, ContextualCharVectorizer):
                raise Unfoldable(f"feature block {name!r} is a {kind.__name__}")
            plain = (
                vectoriser.input == "content"
                and vectoriser.preprocessor is None
                and vectoriser.tokenizer is None
                and not vectoriser.lowercase
                and vectoriser.strip_accents is None
                and vectoriser.stop_words is None
                and vectoriser.dtype == np.float64
                and vectoriser.norm in ("l2", "l1", None)
                and vectoriser.analyzer in ("word", "char_wb")
                and (vectoriser.analyzer == "word") == (kind is not ContextualCharVectorizer)
            )
            if not plain:
                raise Unfoldable(f"feature block {name!r}: a setting the table does not reproduce")
            vocabulary = sorted(vectoriser.vocabulary_.items(), key=lambda item: item[1])
            if [column for _, column in vocabulary] != list(range(len(vocabulary))):
                raise Unfoldable(f"feature block {name!r}: its vocabulary's columns are not 0…n-1")
            size = len(vocabulary)
            specs.append(
                BlockSpec(
                    kind=vectoriser.analyzer,
                    ngram_range=tuple(vectoriser.ngram_range),
                    token_pattern=vectoriser.token_pattern if vectoriser.analyzer == "word" else None,
                    contextual=kind is not TfidfVectorizer,
                    sublinear=bool(vectoriser.sublinear_tf),
                    binary=bool(vectoriser.binary),
                    norm=vectoriser.norm,
                    size=size,
                )
            )
            terms += [term for term, _ in vocabulary]
            idf_parts.append(np.asarray(vectoriser.idf_ if vectoriser.use_idf else np.ones(size), dtype=np.float64))
            weight_parts.append(np.full(size, float(block_weights.get(name, 1.0))))
        if not specs or len(terms) != clf.coef_.shape[1]:
            raise Unfoldable(f"{len(terms)} feature columns for a model of {clf.coef_.shape[1]}")
        idf = np.concatenate(idf_parts)
        return cls(
            labels=tuple(str(c) for c in clf.classes_),
            blocks=tuple(specs),
            terms=terms,
            idf=idf,
            weights=np.ascontiguousarray((idf * np.concatenate(weight_parts))[:, None] * clf.coef_.T),
            intercept=np.asarray(clf.intercept_, dtype=np.float64),
            function_words=frozenset(FUNCTION_WORDS),
        )

    def check(self, pipeline: Pipeline, texts: Sequence[str]) -> float:
        """The largest gap between this table's probabilities and ``pipeline.predict_proba`` on ``texts``
        (and on the model's own vocabulary, a sample of it); ``Unfoldable`` when over ``TOLERANCE``."""
        sample = self.terms[:: max(1, len(self.terms) // 400)]
        texts = [*texts, *(" ".join(sample[i : i + 12]) for i in range(0, len(sample), 12))]
        folded = self.folded()
        gap = 0.0
        for start in range(0, len(texts), 2_000):
            chunk = list(texts[start : start + 2_000])
            expected = np.asarray(pipeline.predict_proba(chunk))
            found = folded.predict_proba(folded.rows(normalise_texts(chunk)))
            gap = max(gap, float(np.abs(expected - found).max()))
        if gap > TOLERANCE:
            raise Unfoldable(f"its probabilities differ from the pipeline's by up to {gap:.2g}")
        return gap

    # ----- the analyzers and the folded model, without scikit-learn

    def analyzer(self, block: BlockSpec) -> Callable[[str], list[str]]:
        """The block's analyzer, as the fitted vectoriser's ``build_analyzer()`` (the tests compare them)."""
        function_words = self.function_words if block.contextual else None
        if block.kind == "char_wb":
            return partial(char_wb_ngrams, ngram_range=block.ngram_range, function_words=function_words)
        tokenize = tokenizer(block.token_pattern or "")
        ngram_range = block.ngram_range

        def analyze(text: str) -> list[str]:
            return word_ngrams(tokenize(text), ngram_range, function_words)

        return analyze

    def columns(self, block: BlockSpec, vocabulary: dict[str, int]) -> Callable[[str], list[int]]:
        """The vocabulary columns of the block's terms in a text (unknown terms dropped): what looking up each
        term of ``analyzer(block)`` gives, found faster. Character n-grams depend on their white-space word
        alone, and words repeat from message to message, so each word's columns are kept (up to
        ``WORD_CACHE`` words)."""
        known = vocabulary.get
        if block.kind == "word":
            # Every n-gram of the tokens, joined and looked up in C: the vocabulary holds only what the analyzer
            # gives, so those a contextual analyzer leaves out (function words alone) are never found, and
            # looking them up costs less than leaving them out. (Column order does not matter: they are counted.)
            tokenize = tokenizer(block.token_pattern or "")
            min_n, max_n = block.ngram_range
            longer = range(max(min_n, 2), max_n + 1)

            def word_columns(text: str) -> list[int]:
                tokens = tokenize(text)
                grams = [map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False)) for n in longer]
                return [c for c in map(known, chain(tokens if min_n == 1 else (), *grams)) if c is not None]

            return word_columns
        function_words = self.function_words if block.contextual else None
        ngram_range = block.ngram_range
        of_word: dict[str, tuple[int, ...]] = {}

        def char_columns(text: str) -> list[int]:
            found: list[int] = []
            for word in text.split():
                columns = of_word.get(word)
                if columns is None:
                    if function_words is not None and not is_content_word(word, function_words):
                        columns = ()
                    else:
                        columns = tuple(c for c in map(known, word_char_ngrams(word, ngram_range)) if c is not None)
                    if len(word) <= CACHED_WORD_CHARS:
                        if len(of_word) >= WORD_CACHE:  # a bounded memory: start again rather than grow
                            of_word.clear()
                        of_word[word] = columns
                found += columns
            return found

        return char_columns

    def folded(self) -> FoldedModel:
        blocks: list[Block] = []
        offset = 0
        for spec in self.blocks:
            vocabulary = dict(
                zip(self.terms[offset : offset + spec.size], range(offset, offset + spec.size), strict=True)
            )
            blocks.append(Block(self.columns(spec, vocabulary), spec.sublinear, spec.binary, spec.norm))
            offset += spec.size
        return FoldedModel(blocks, self.idf, self.weights, self.intercept)

    @property
    def is_char(self) -> np.ndarray:
        """Per column: whether it is a character n-gram (evidence shares those out among words)."""
        return np.concatenate([np.full(spec.size, spec.kind != "word") for spec in self.blocks])

    # ----- the file

    def save(self, path: Path) -> None:
        """``path`` (an ``.npz``), written whole or not at all."""
        header = {
            "format": FORMAT_VERSION,
            "labels": list(self.labels),
            "blocks": [asdict(spec) for spec in self.blocks],
            "function_words": sorted(self.function_words),
        }
        buffer = io.BytesIO()
        np.savez(
            buffer,
            header=np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
            # One string and each term's length: a term may hold any character (a NUL included), so no separator.
            terms=np.frombuffer("".join(self.terms).encode("utf-8"), dtype=np.uint8),
            term_lengths=np.fromiter(map(len, self.terms), dtype=np.int64, count=len(self.terms)),
            idf=self.idf,
            weights=self.weights,
            intercept=self.intercept,
        )
        out = AtomicFile(path)
        try:
            out.handle.write(buffer.getvalue())
        except BaseException:
            out.abort()
            raise
        out.commit()

    @classmethod
    def load(cls, path: Path) -> ScoringTable:
        with np.load(path, allow_pickle=False) as data:  # no pickle: the file holds arrays, never objects
            header: dict[str, Any] = json.loads(data["header"].tobytes().decode("utf-8"))
            if header.get("format") != FORMAT_VERSION:
                raise ValueError(f"{path}: scoring table format {header.get('format')!r}, expected {FORMAT_VERSION}")
            text = data["terms"].tobytes().decode("utf-8")
            ends = np.cumsum(data["term_lengths"]).tolist()
            terms = [text[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]
            blocks = tuple(BlockSpec(**{**b, "ngram_range": tuple(b["ngram_range"])}) for b in header["blocks"])
            table = cls(
                labels=tuple(header["labels"]),
                blocks=blocks,
                terms=terms,
                idf=data["idf"],
                weights=data["weights"],
                intercept=data["intercept"],
                function_words=frozenset(header["function_words"]),
            )
        if sum(b.size for b in blocks) != len(terms) or table.weights.shape != (len(terms), len(table.labels)):
            raise ValueError(f"{path}: its blocks, terms and weights do not agree in size")
        return table


__all__ = ["TABLE_FILE", "BlockSpec", "ScoringTable", "Unfoldable"]
