"""The model of the live path: loaded by one function (``load_model``, from the version's scoring table, so
scikit-learn is never imported); and, for a watch that runs for weeks, the version ``models/current`` names,
reloaded when a retrain promotes another."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from boundaryline.registry import current_version
from boundaryline.settings import Settings

if TYPE_CHECKING:
    from boundaryline.predict import Scorer

log = logging.getLogger("boundaryline.live")


def load_model(settings: Settings) -> Scorer:
    """The verified model in service, with the thresholds in force: the one place the live path loads a model."""
    from boundaryline.predict import load_scorer

    return load_scorer(settings)


class CurrentModel:
    """The model ``models/current`` names, looked at on every ``get``: when it names another version that one
    is loaded and used from then on; when that cannot be loaded the last good one stays, with one warning."""

    def __init__(self, settings: Settings, loader: Callable[[Settings], Scorer] = load_model) -> None:
        self.settings, self.loader = settings, loader
        self.scorer = loader(settings)
        self.problem: str | None = None

    def get(self) -> tuple[Scorer, str | None]:
        """The scorer to use now, and the version it replaced when it was just reloaded (else None)."""
        try:
            wanted = current_version(self.settings.models_dir)
        except OSError as error:
            self._report(f"cannot read models/current ({type(error).__name__})")
            return self.scorer, None
        if wanted is None or wanted == self.scorer.version:
            return self.scorer, None
        try:
            scorer = self.loader(self.settings)
        except Exception as error:  # a half-written or tampered version: keep scoring with the last good one
            self._report(f"model {wanted} cannot be loaded ({error}); still scoring with {self.scorer.version}")
            return self.scorer, None
        previous, self.scorer, self.problem = self.scorer.version, scorer, None
        return scorer, previous

    def _report(self, problem: str) -> None:
        if problem != self.problem:
            log.warning("%s", problem)
        self.problem = problem
