"""The wheel carries the model in service: the version ``models/current`` names, as ``boundaryline/shipped/``
(its scoring table, pipeline, manifest, card and corpus snapshot), so that an installed ``boundaryline`` scores,
serves and retrains outside a checkout (``settings.seed_home`` copies it into the user's data folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIPPED = ("manifest.json", "scoring.npz", "model.joblib", "card.md", "corpus.csv.gz")


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":  # a checkout uses models/ itself
            return
        models = Path(self.root) / "models"
        current = (models / "current").read_text(encoding="utf-8").strip()
        folder = models / current
        for name in SHIPPED:
            if (folder / name).is_file():
                build_data["force_include"][str(folder / name)] = f"boundaryline/shipped/{name}"
        challenge = Path(self.root) / "data" / "corpus" / "challenge.csv"  # the frozen set a retrain is judged on
        build_data["force_include"][str(challenge)] = "boundaryline/shipped/challenge.csv"
