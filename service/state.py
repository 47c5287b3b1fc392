"""What the running service holds: the settings it started with, the model in service, the feedback store,
the scoring thread and the prediction counter. One typed object, created in the lifespan."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from prometheus_client import Counter

from boundaryline.feedback import FeedbackStore
from boundaryline.predict import Scorer, load_scorer
from boundaryline.registry import current_version
from boundaryline.settings import Settings

log = logging.getLogger("boundaryline.service")


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


@dataclass
class ServiceState:
    settings: Settings
    predictions: Counter
    executor: ThreadPoolExecutor = field(init=False)  # started by the lifespan, shut down when it ends
    model: CurrentModel | None = None
    model_error: str = "no model loaded"
    _feedback: FeedbackStore | None = None

    @property
    def feedback(self) -> FeedbackStore:
        """The feedback store, created on first use so a service without feedback never touches the disk."""
        if self._feedback is None:
            self._feedback = FeedbackStore(self.settings.feedback_path)
        return self._feedback
