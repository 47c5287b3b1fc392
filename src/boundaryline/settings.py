"""One settings object: every path derived from the project root, every threshold and limit.

Values come from environment variables prefixed ``BOUNDARYLINE_`` (e.g. ``BOUNDARYLINE_API_KEY``,
``BOUNDARYLINE_THRESHOLDS='{"inappropriate_proposition": 0.35}'``) or a ``.env`` file at the root.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]

LABELS: tuple[str, ...] = ("professional", "pestering", "inappropriate_proposition")
CONCERN_LABELS: tuple[str, ...] = ("pestering", "inappropriate_proposition")


def check_thresholds(value: Mapping[str, float]) -> dict[str, float]:
    """Per-class thresholds as the setting and the API take them: known labels, each in (0, 1]."""
    for label, threshold in value.items():
        if label not in LABELS:
            raise ValueError(f"threshold for unknown label {label!r}; labels are {', '.join(LABELS)}")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold for {label!r} must be in (0, 1], got {threshold}")
    return dict(value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOUNDARYLINE_", env_file=".env", extra="ignore")

    root: Path = PROJECT_ROOT
    seed: int = 42

    # Per-class probability thresholds; a message is flagged when any concern class reaches its
    # threshold. An empty mapping means arg-max: flagged when the predicted label is a concern class.
    thresholds: dict[str, float] = Field(default_factory=dict)

    max_text_chars: int = 20_000
    max_batch_messages: int = 1_000
    explain_top_k: int = 8

    api_key: SecretStr | None = None
    feedback_db: Path | None = None  # default: <root>/data/feedback/feedback.sqlite3
    models_root: Path | None = None  # default: <root>/models

    # Retraining gate: a candidate is promoted only when it is not worse than this.
    gate_macro_f1_tolerance: float = 0.01
    gate_recall_tolerance: float = 0.03

    @field_validator("thresholds")
    @classmethod
    def _known_labels(cls, value: dict[str, float]) -> dict[str, float]:
        return check_thresholds(value)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def corpus_path(self) -> Path:
        return self.data_dir / "corpus" / "messages.csv"

    @property
    def challenge_path(self) -> Path:
        return self.data_dir / "corpus" / "challenge.csv"

    @property
    def examples_dir(self) -> Path:
        return self.data_dir / "examples"

    @property
    def models_dir(self) -> Path:
        return self.models_root or self.root / "models"

    @property
    def feedback_path(self) -> Path:
        return self.feedback_db or self.data_dir / "feedback" / "feedback.sqlite3"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
