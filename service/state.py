"""What the running service holds: the settings it started with, the model in service, the feedback store,
the scoring thread, the prediction counter and the rate limit on corrections. One typed object, created in
the lifespan."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from prometheus_client import Counter

from boundaryline.feedback import FeedbackStore
from boundaryline.predict import Scorer, load_scorer
from boundaryline.registry import ModelError, current_version
from boundaryline.settings import Settings
from service.ratelimit import RateLimit

log = logging.getLogger("boundaryline.service")


class CurrentModel:
    """The scorer in service, swapped for a newly promoted version without a restart, and never lost to a
    bad file.

    ``get`` looks at the ``models/current`` pointer at most every ``check_seconds``. When it names another
    version (or no model is loaded yet), that version is loaded and verified first, then swapped in under a
    lock; callers keep the ``Scorer`` they got, so requests in flight finish on the old model. When it
    cannot be loaded (missing, tampered with, a broken manifest), the last good model keeps serving and
    ``problem`` says why; the next look tries again, so the service recovers by itself once the files are
    good again.
    """

    def __init__(self, settings: Settings, *, check_seconds: float = 2.0) -> None:
        self.settings = settings
        self.check_seconds = check_seconds
        self.problem: str | None = None
        self._scorer: Scorer | None = None
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self.refresh()

    def refresh(self) -> None:
        """Load the version the pointer names now, unless it is the one in service."""
        self._checked = time.monotonic()
        with self._lock:
            wanted = self._wanted()
            if self._scorer is not None and wanted == self._scorer.version:
                self.problem = None
                return
            try:
                scorer = load_scorer(self.settings, wanted)
            except Exception as error:  # whatever is wrong with the files, keep serving what we have
                self._report(f"the model models/current names ({wanted or 'none'}) cannot be loaded: {error}")
                return
            previous = self._scorer.version if self._scorer is not None else None
            self._scorer, self.problem = scorer, None
            log.info("model in service: %s -> %s", previous, scorer.version)

    def _wanted(self) -> str | None:
        try:
            return current_version(self.settings.models_dir)
        except OSError as error:
            self._report(f"cannot read models/current: {error}")
            return self._scorer.version if self._scorer is not None else None

    def _report(self, problem: str) -> None:
        if problem != self.problem:  # one log line per new problem, not one per request
            kept = f"; still serving {self._scorer.version}" if self._scorer is not None else "; not ready"
            log.warning("%s%s", problem, kept)
        self.problem = problem

    def get(self) -> Scorer | None:
        """The scorer in service (None when no model could be loaded yet)."""
        if time.monotonic() - self._checked >= self.check_seconds:
            self.refresh()
        return self._scorer

    def reload(self) -> tuple[str | None, str]:
        """Load the version the pointer names now; returns (previous, current). Raises ``ModelError`` with the
        reason when it cannot be loaded (the model in service, if any, stays)."""
        previous = self._scorer.version if self._scorer is not None else None
        self.refresh()
        if self.problem is not None or self._scorer is None:
            raise ModelError(self.problem or "no model")
        return previous, self._scorer.version


@dataclass
class ServiceState:
    settings: Settings
    predictions: Counter
    feedback_limit: RateLimit  # POST /v1/feedback and a review POST, per caller
    executor: ThreadPoolExecutor = field(init=False)  # started by the lifespan, shut down when it ends
    model: CurrentModel = field(init=False)  # created by the lifespan
    _feedback: FeedbackStore | None = None
    _counted: dict[tuple[str, bool], Counter] = field(default_factory=dict)  # the counter's child per label set

    def count_prediction(self, label: str, flagged: bool) -> None:
        """One more ``label`` in the prediction counter (its child looked up once per label and flag)."""
        child = self._counted.get((label, flagged))
        if child is None:
            child = self._counted[label, flagged] = self.predictions.labels(label, str(flagged).lower())
        child.inc()

    @property
    def feedback(self) -> FeedbackStore:
        """The feedback store, created on first use so a service without feedback never touches the disk."""
        if self._feedback is None:
            self._feedback = FeedbackStore(self.settings.feedback_path)
        return self._feedback
