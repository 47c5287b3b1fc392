"""The decision policy: per-class probabilities to a label, under the thresholds in force.

Every entry point (API, CLI, batch, evaluation, the retraining gate) labels through ``decide``, with the
thresholds ``thresholds_in_force`` names, so two models are never compared under different rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from boundaryline.settings import CONCERN_LABELS


def decide(probabilities: np.ndarray, labels: Sequence[str], thresholds: Mapping[str, float]) -> list[str]:
    """The label of each row.

    A concern class qualifies when its probability reaches its threshold, or, without a threshold, when
    it is the arg-max and above ``professional`` (a tie, as for a message with no known words, is no
    evidence). The most probable qualifying concern class is the label; when none qualifies, the
    message is ``professional``. With no thresholds this is exactly the arg-max. A low threshold
    (``{"inappropriate_proposition": 0.35}``) flags more; a high one (``0.8``) flags only confident calls.
    """
    fallback = next(k for k, label in enumerate(labels) if label not in CONCERN_LABELS)
    if len(probabilities) <= FEW_ROWS:
        return [_decide_row(row, labels, thresholds, fallback) for row in probabilities.tolist()]
    chosen = probabilities.argmax(axis=1)
    qualifies = np.zeros(probabilities.shape, dtype=bool)
    for k, label in enumerate(labels):
        if label in CONCERN_LABELS:
            limit = thresholds.get(label)
            above = probabilities[:, k] > probabilities[:, fallback]
            qualifies[:, k] = probabilities[:, k] >= limit if limit is not None else (chosen == k) & above
    best = np.where(qualifies, probabilities, -1.0).argmax(axis=1)
    return [labels[k] for k in np.where(qualifies.any(axis=1), best, fallback)]


FEW_ROWS = 8  # up to this many rows (a service call, a filtered mail) are decided in plain Python: numpy's
# per-call cost on tiny arrays was a sixth of scoring one message


def _decide_row(row: list[float], labels: Sequence[str], thresholds: Mapping[str, float], fallback: int) -> str:
    """``decide`` for one row, in plain Python: the same rule, ties resolved as ``argmax`` resolves them (the
    first of equal values)."""
    chosen = row.index(max(row))
    best = None
    for k, label in enumerate(labels):
        if label not in CONCERN_LABELS:
            continue
        limit = thresholds.get(label)
        qualifies = row[k] >= limit if limit is not None else chosen == k and row[k] > row[fallback]
        if qualifies and (best is None or row[k] > row[best]):
            best = k
    return labels[fallback if best is None else best]


def thresholds_in_force(configured: Mapping[str, float], manifest: Mapping[str, Any]) -> dict[str, float]:
    """The thresholds a model is used with: the configured ones (``BOUNDARYLINE_THRESHOLDS``) when any
    are set, else the ones recorded in the model's manifest, else none (arg-max)."""
    return dict(configured or manifest.get("thresholds") or {})


def combine(text_label: str, pattern_reason: str | None, request: bool) -> tuple[str, str]:
    """The label that weighs the text and the sender's pattern, and which of the two fired.

    ``pestering`` when the text model says so, or when the pattern has a reason (many unanswered messages
    in a short time, a message after a refusal, channel hopping) and the message asks or follows up; an
    ``inappropriate_proposition`` is never downgraded by a pattern. Returns (label, fired) with fired one of
    "text", "pattern", "both", or "" (not flagged).
    """
    if text_label == "inappropriate_proposition":
        return text_label, "text"
    by_text, by_pattern = text_label == "pestering", pattern_reason is not None and request
    if by_text or by_pattern:
        return "pestering", "both" if by_text and by_pattern else "text" if by_text else "pattern"
    return text_label, ""
