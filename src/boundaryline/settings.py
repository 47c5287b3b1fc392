"""One settings object: every path derived from the project root, every threshold and limit.

Values come from environment variables prefixed ``BOUNDARYLINE_`` (e.g. ``BOUNDARYLINE_API_KEY``,
``BOUNDARYLINE_THRESHOLDS='{"inappropriate_proposition": 0.35}'``) or a ``.env`` file at the project root, and
only there: a ``.env`` in whatever folder a command runs from is never read (it could point the models
folder at a pickle of someone else's).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

_CHECKOUT = Path(__file__).resolve().parents[2]
# Run from a checkout (an editable install included), the project's own folder is the root; installed from a
# wheel, the root is the user's data folder (BOUNDARYLINE_HOME, else the platform's), seeded on first use.
IN_CHECKOUT = (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "src" / "boundaryline").is_dir()


def _home() -> Path:
    given = os.environ.get("BOUNDARYLINE_HOME", "").strip()
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("boundaryline", appauthor=False))


PROJECT_ROOT = _CHECKOUT if IN_CHECKOUT else _home()

LABELS: tuple[str, ...] = ("professional", "pestering", "inappropriate_proposition")
CONCERN_LABELS: tuple[str, ...] = ("pestering", "inappropriate_proposition")
MIN_API_KEY_CHARS = 16


def check_thresholds(value: Mapping[str, float]) -> dict[str, float]:
    """Per-class thresholds as the setting and the API take them: known labels, each in (0, 1]."""
    for label, threshold in value.items():
        if label not in LABELS:
            raise ValueError(f"threshold for unknown label {label!r}; labels are {', '.join(LABELS)}")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold for {label!r} must be in (0, 1], got {threshold}")
    return dict(value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOUNDARYLINE_", env_file=PROJECT_ROOT / ".env", extra="ignore")

    root: Path = PROJECT_ROOT
    seed: int = 42

    # Per-class probability thresholds; a message is flagged when any concern class reaches its
    # threshold. An empty mapping means arg-max: flagged when the predicted label is a concern class.
    thresholds: dict[str, float] = Field(default_factory=dict)

    # `make train` chooses per-class thresholds on out-of-fold predictions: the best macro-F1 among those that
    # flag at most this share of professional messages. None: no choice (arg-max unless thresholds are set).
    threshold_target_flag_rate: float | None = 0.05
    # ...and at most this share of the real professional DMs among them (out of fold, whole exports held out).
    threshold_target_dm_flag_rate: float | None = 0.02
    # ...among the pairs that keep each concern class's out-of-fold recall at this floor (when any does).
    threshold_min_concern_recall: float = Field(default=0.70, ge=0, le=1)

    # Sender history (pestering is a pattern): a request or follow-up is pestering when it is one of at least
    # `pattern_min_unanswered` turns without a reply within `pattern_window_days` (a window ending at it), comes
    # after the owner said no or not now, or is the sender's `pattern_min_channels`-th channel without a reply;
    # once a run has been pestering it stays so until the owner replies (senders.PatternTracker).
    pattern_min_unanswered: int = Field(default=3, ge=2)
    pattern_window_days: float = Field(default=7.0, gt=0)
    # ...or `pattern_long_min_unanswered` within `pattern_long_window_days` (the vendor who writes every week).
    pattern_long_min_unanswered: int = Field(default=4, ge=2)
    pattern_long_window_days: float = Field(default=30.0, gt=0)
    pattern_min_channels: int = Field(default=3, ge=2)
    # Messages from one sender closer than this, with no reply between, are one turn ("Hi!", "How are you?",
    # "Free on Friday?"): a burst is never pestering by its count. 10 minutes: the knee of the gaps between a
    # real DM sender's consecutive messages (docs/model-selection.md, "Turns").
    pattern_turn_minutes: float = Field(default=10.0, ge=0)
    # The inbox owner's names or addresses (aliases), for exports that cannot say who it is (owner.py):
    # BOUNDARYLINE_OWNER='ana@example.com' or '["ana@example.com", "Ana Lima"]'. Empty: decided from the export.
    owner: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Where a LocalCluster's Dask dashboard listens (`score --engine dask`): loopback and a free port, so that
    # nobody else on the network sees the run; "0.0.0.0:8787" opens it, "" turns it off.
    dask_dashboard: str = "127.0.0.1:0"

    # The live mail path (`boundaryline watch`, issue 26): the IMAP password (BOUNDARYLINE_IMAP_PASSWORD, or
    # --password-file; never on the command line, never logged); where each account's place is kept (default:
    # <root>/data/watch); how long a look waits on a server without IDLE (and at most in one IDLE); the first
    # and the longest wait before reconnecting; how many earlier messages of the folder and of Sent make the
    # senders' history.
    imap_password: SecretStr | None = None
    watch_state_dir: Path | None = None
    watch_poll_seconds: float = Field(default=60.0, gt=0)
    watch_backoff_seconds: float = Field(default=1.0, gt=0)
    watch_backoff_max_seconds: float = Field(default=300.0, gt=0)
    watch_history: int = Field(default=500, ge=0)

    max_text_chars: int = 20_000
    max_batch_messages: int = 1_000
    explain_top_k: int = 8
    # The service scores a call of at most this many characters on the event loop (the folded scorer takes a
    # fraction of a millisecond, less than the hop to the scoring thread; docs/benchmarks.md); a longer call
    # goes to the scoring thread, so that others are not kept waiting. 0: always the thread.
    inline_score_chars: int = Field(default=5_000, ge=0)

    # Third-party real mail shared beside the checkout; linked into data/external/ by `make train`.
    shared_real_mail: Path | None = None  # default: <root>/../shared/real-mail
    # Third-party real direct messages shared beside the checkout; linked into data/external/ by `make train`.
    shared_real_dm: Path | None = None  # default: <root>/../shared/real-dm

    # The service's guards (issue 23). A request body longer than `max_request_bytes` is refused with a 413 while
    # it is read, before anything parses it. The largest legitimate call is a full batch, max_batch_messages ×
    # max_text_chars = 1,000 × 20,000 = 20M characters: 20 MB in ASCII, 40 MB where every character takes two
    # UTF-8 bytes (accented Latin, Greek, Cyrillic); one message's history is at most 500 × 20,000 = 10M
    # characters (service/schemas.py). 64 MB fits either with room for the JSON around them, and even a full batch
    # of three-byte characters (CJK); a full batch sent as \uXXXX escapes (six bytes a character) does not: such
    # a client sends UTF-8 or smaller batches.
    max_request_bytes: int = Field(default=64_000_000, gt=0)
    # At most this many corrections (POST /v1/feedback, and a review POST) per API key, or per client address
    # when the key is missing or wrong, in any moving window of that length, per worker process (the `limits`
    # notation: "60/minute", "10 per second", "1000/day").
    feedback_rate_limit: str = "60/minute"
    # The host names the service answers to (the Host header, port aside); any other gets a 400, so that a web
    # page which rebinds its own name to this machine cannot reach it. A name the service is reached by on the
    # network must be added, e.g. BOUNDARYLINE_ALLOWED_HOSTS='["localhost", "127.0.0.1", "boundaryline.lan"]'.
    allowed_hosts: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1", "::1", "[::1]"])

    api_key: SecretStr | None = None
    feedback_db: Path | None = None  # default: <root>/data/feedback/feedback.sqlite3
    # A retrain merges the corrections a person accepted (boundaryline feedback accept, the page's Corrections
    # tab); True merges every correction not rejected, for those who review nothing.
    feedback_auto_accept: bool = False
    # A retrain merges at most this many corrections, the oldest first; the rest stay queued for the next one.
    # A backlog (48,362 were once queued) then goes in steps the gate judges one at a time, each under 40% of the
    # training set it joins (~8,000 authored rows), so one bad batch cannot swamp them unnoticed; and a run holds
    # the registry's lock for minutes, not hours.
    retrain_max_feedback: int = Field(default=5_000, ge=1)
    models_root: Path | None = None  # default: <root>/models

    # Retraining gate: a candidate is promoted only when it is not worse than this.
    gate_macro_f1_tolerance: float = 0.01
    gate_recall_tolerance: float = 0.03
    # ...and it must not flag more real professional messages (on a real set: mail or DMs) than the model in service.
    gate_real_flag_tolerance: float = 0.005

    @field_validator("thresholds")
    @classmethod
    def _known_labels(cls, value: dict[str, float]) -> dict[str, float]:
        return check_thresholds(value)

    @field_validator("owner", mode="before")
    @classmethod
    def _one_or_more_names(cls, value: object) -> object:
        """One name or address as it is, or a JSON list of them (``NoDecode``: a bare address is not JSON)."""
        if isinstance(value, str):
            value = value.strip()
            return json.loads(value) if value.startswith("[") else [value] if value else []
        return value

    @field_validator("api_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_API_KEY_CHARS:
            raise ValueError(
                f"the API key must be at least {MIN_API_KEY_CHARS} characters (an empty or short key would open"
                " the protected endpoints to anyone who guesses it); unset it to turn those endpoints off"
            )
        return value

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
    def external_dir(self) -> Path:
        return self.data_dir / "external"

    @property
    def real_mail_source(self) -> Path:
        return self.shared_real_mail or self.root.parent / "shared" / "real-mail"

    @property
    def real_mail_dir(self) -> Path:
        return self.external_dir / "real-mail"

    @property
    def real_dm_source(self) -> Path:
        return self.shared_real_dm or self.root.parent / "shared" / "real-dm"

    @property
    def real_dm_dir(self) -> Path:
        return self.external_dir / "real-dm"

    @property
    def real_dm_review_path(self) -> Path:
        return self.data_dir / "real_dm_review.csv"

    @property
    def real_mail_review_path(self) -> Path:
        return self.data_dir / "real_mail_review.csv"

    @property
    def threads_path(self) -> Path:
        return self.data_dir / "corpus" / "threads.jsonl"

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

    @property
    def timings_path(self) -> Path:
        """How long each stage of the last train and retrain took here: the next run's estimates."""
        return self.reports_dir / "timings.json"

    @property
    def metrics_dir(self) -> Path:
        """Where the service's worker processes keep their Prometheus counts (multiprocess mode), so that
        ``/metrics`` on any worker reports them all; emptied by ``boundaryline serve`` at start."""
        return self.root / "reports" / "metrics"

    def service_metrics_dir(self, port: int) -> Path:
        """``reports/metrics/<port>/``: the service on ``port``'s own folder, emptied by ``boundaryline serve``
        when it starts; two services of one checkout never count into, or wipe, each other's files."""
        return self.metrics_dir / str(port)


# What each setting expects, for the one-line error a bad value gets.
EXPECTED = {
    "thresholds": 'a JSON object of per-class thresholds in (0, 1], e.g. \'{"pestering": 0.6, "inappropriate_proposition": 0.6}\'',
    "api_key": f"at least {MIN_API_KEY_CHARS} characters, or unset",
    "threshold_target_flag_rate": "a share between 0 and 1, e.g. 0.04",
    "owner": 'an address or name, or a JSON list of them, e.g. \'["ana@example.com", "Ana Lima"]\'',
}


class SettingsProblem(ValueError):
    """A setting with a bad value, said in one line: the variable, the value (never a secret) and what it expects."""


def settings_problem(error: Exception) -> SettingsProblem:
    """One line per bad setting from pydantic's multi-line error (or pydantic-settings' parse error)."""
    if isinstance(error, ValidationError):
        lines = []
        for e in error.errors():
            field = str(e["loc"][0]) if e["loc"] else "settings"
            value = "(hidden)" if field == "api_key" else repr(e.get("input"))
            expected = EXPECTED.get(field, e["msg"])
            lines.append(f"BOUNDARYLINE_{field.upper()}={value}: {e['msg']}; expected {expected}")
        return SettingsProblem("; ".join(lines))
    match = re.search(r'field "(\w+)"', str(error))
    field = match.group(1) if match else ""
    value = os.environ.get(f"BOUNDARYLINE_{field.upper()}", "")
    return SettingsProblem(
        f"BOUNDARYLINE_{field.upper()}={value!r} cannot be read; expected {EXPECTED.get(field, 'JSON')}"
    )


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``). A bad value raises
    ``SettingsProblem`` with one line that names the variable and what it expects. Outside a checkout the
    data folder is seeded with the shipped model first (``home.seed_home``)."""
    try:
        settings = Settings()
    except (ValidationError, SettingsError) as error:
        raise settings_problem(error) from None
    if not IN_CHECKOUT:  # an installed boundaryline: its data folder gets the shipped model on first use
        from boundaryline.home import seed_home

        seed_home(settings.models_dir, settings.corpus_path, settings.challenge_path)
    return settings
