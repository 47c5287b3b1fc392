"""What scoring returns: a ``Score`` per message, and the ``Explanation`` of one class's decision value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
