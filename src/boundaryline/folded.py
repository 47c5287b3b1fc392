"""The TF-IDF + logistic-regression pipeline as one sparse dot product, for scoring without sklearn's overhead.

A TF-IDF vector followed by a linear model is ``decision = Σ_t tf_t · idf_t · coef_t / ‖tf · idf‖ + intercept``
per vectoriser block, so each vocabulary entry's IDF (and the union's block weight) is folded into the
coefficients once, when the scoring table is built, and a message is scored with one pass over its tokens.
The tokens come from the analyzers of ``text`` (those the fitted vectorisers call themselves), so they cannot
drift from what the model was trained on. The sklearn pipeline stays the truth: the table is
built from it (``table.ScoringTable.of_pipeline``, which refuses any shape it does not reproduce) and checked
against ``pipeline.predict_proba`` before it is saved or used. Nothing here imports scikit-learn or scipy.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Block:
    """One vectoriser of the feature union: which columns a text's terms fall in, and how its term counts
    become feature values."""

    columns: Callable[[str], list[int]]  # the union's output column of each term the analyzer gives, if known
    sublinear: bool
    binary: bool
    norm: str | None


@dataclass(frozen=True)
class Rows:
    """Sparse feature rows in CSR layout (``indptr``, ``indices``, ``data``, as ``scipy.sparse`` names them),
    without scipy's per-matrix checks, which cost more than scoring one message."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def dot(self, table: np.ndarray) -> np.ndarray:
        """``rows @ table``: each row's sum of value × table row."""
        row = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        pushes = self.data[:, None] * table[self.indices]
        return np.stack(
            [np.bincount(row, weights=pushes[:, k], minlength=len(self)) for k in range(table.shape[1])], axis=1
        )


class FoldedModel:
    """``table[column, class]`` = block weight × IDF × coefficient; rows of scaled term frequencies times the
    table, plus the intercept, are the decision values."""

    def __init__(self, blocks: list[Block], idf: np.ndarray, table: np.ndarray, intercept: np.ndarray) -> None:
        self.blocks = blocks
        self.idf = idf  # per column, for the block norms (the weights are in the table)
        self.table = table
        self.intercept = intercept
        self._idf_list: list[float] = idf.tolist()  # plain floats for the one-message path

    def row(self, normalised: str) -> Rows:
        """``rows([normalised])`` in plain Python: for one message, numpy's per-call cost is most of the time."""
        columns: list[int] = []
        values: list[float] = []
        idf = self._idf_list
        for block in self.blocks:
            counts = Counter(block.columns(normalised))
            order = sorted(counts)
            tfs = [1.0 if block.binary else float(counts[c]) for c in order]
            if block.sublinear:
                tfs = [math.log(tf) + 1.0 for tf in tfs]
            norm = 1.0
            if block.norm is not None:
                weighted = [tf * idf[c] for tf, c in zip(tfs, order, strict=True)]
                # as before, not math.hypot: hypot differs in the last place for one row in eight
                norm = (
                    math.sqrt(math.fsum(w**2 for w in weighted))
                    if block.norm == "l2"
                    else math.fsum(map(abs, weighted))
                )
                norm = norm or 1.0
            columns += order
            values += [tf / norm for tf in tfs]
        return Rows(np.array([0, len(columns)]), np.array(columns, dtype=np.int64), np.array(values))

    def rows(self, normalised: Sequence[str]) -> Rows:
        """Each text's term frequencies, scaled by its block norms: ``rows @ table`` gives the decision
        values, and ``rows[i, t] * table[t, k]`` term ``t``'s push on class ``k``."""
        if len(normalised) == 1:
            return self.row(normalised[0])
        found: list[int] = []  # the vocabulary columns of every token, text by text and block by block
        lengths_of: list[int] = []  # how many of them each (text, block) segment has
        for text in normalised:
            for block in self.blocks:
                columns = block.columns(text)
                found += columns
                lengths_of.append(len(columns))
        # Count repeats with one sort: unique (segment, column) keys, in row order and column order.
        width = len(self.table)
        tokens_segment = np.repeat(np.arange(len(lengths_of)), lengths_of)
        keys, counts = np.unique(tokens_segment * width + np.asarray(found, dtype=np.int64), return_counts=True)
        column_array = keys % width
        values = counts.astype(np.float64)
        segment = keys // width  # each value's (text, block) segment
        lengths = np.bincount(segment, minlength=len(lengths_of))
        block_of = segment % len(self.blocks)
        norms = np.ones(len(lengths))
        for b, block in enumerate(self.blocks):
            # TfidfTransformer's arithmetic, block by block: binary or 1 + log(tf), times IDF, then the norm.
            mask = block_of == b
            tf = values[mask]
            if block.binary:
                tf = np.ones_like(tf)
            if block.sublinear:
                tf = np.log(tf) + 1.0
            values[mask] = tf
            if block.norm is None:
                continue
            weighted = tf * self.idf[column_array[mask]]
            measure = weighted * weighted if block.norm == "l2" else np.abs(weighted)
            sums = np.bincount(segment[mask], weights=measure, minlength=len(lengths))[b :: len(self.blocks)]
            block_norms = np.sqrt(sums) if block.norm == "l2" else sums
            block_norms[block_norms == 0.0] = 1.0  # an empty block stays zero, as in sklearn
            norms[b :: len(self.blocks)] = block_norms
        values /= norms[segment]
        indptr = np.concatenate(([0], np.cumsum(lengths.reshape(-1, len(self.blocks)).sum(axis=1))))
        return Rows(indptr, column_array, values)

    def decision(self, rows: Rows) -> np.ndarray:
        if len(rows) == 1:  # one message: a small dense product, not the scatter of ``Rows.dot``
            return (rows.data @ self.table[rows.indices] + self.intercept)[None, :]
        return rows.dot(self.table) + self.intercept

    def predict_proba(self, rows: Rows) -> np.ndarray:
        """Softmax of the decision values, computed as sklearn's multinomial ``predict_proba`` does."""
        decision = self.decision(rows)
        decision -= decision.max(axis=1, keepdims=True)
        np.exp(decision, out=decision)
        decision /= decision.sum(axis=1, keepdims=True)
        return decision
