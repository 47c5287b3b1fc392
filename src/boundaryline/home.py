"""An installed boundaryline's own data folder (``BOUNDARYLINE_HOME``, else the platform's user data folder),
seeded on first use from the model the wheel ships (``boundaryline/shipped/``, put there by ``hatch_build.py``):
its version folder under ``models/``, ``current`` pointing at it, and its training corpus and the challenge set
under ``data/corpus/``, so that scoring, the service and a retrain work outside a checkout. Later versions
(retrains) and feedback live beside it; nothing is seeded again once ``models/current`` exists."""

from __future__ import annotations

import json
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from filelock import FileLock

from boundaryline.files import default_mode, write_atomic
from boundaryline.registry import LOCK_FILE, MANIFEST_FILE, corpus_snapshot, current_version, promote


def shipped_folder() -> Path | None:
    """The model the installed package carries, if it carries one (an editable checkout install does not)."""
    folder = Path(str(resources.files("boundaryline") / "shipped"))
    return folder if (folder / MANIFEST_FILE).is_file() else None


def seed_home(models_dir: Path, corpus_path: Path, challenge_path: Path) -> str | None:
    """Copy the shipped model into ``models_dir`` and promote it, when there is no current model there yet;
    also its corpus and the challenge set where there are none. The version seeded, or None (a current model
    exists, or the package ships none)."""
    shipped = shipped_folder()
    if shipped is None or current_version(models_dir) is not None:
        return None
    models_dir.mkdir(parents=True, exist_ok=True)
    # Two first runs at once (a mail filter on a fresh install): one seeds, the other waits, then finds it seeded.
    with FileLock(models_dir / LOCK_FILE, timeout=120):
        if current_version(models_dir) is not None:
            return None
        version = str(json.loads((shipped / MANIFEST_FILE).read_text(encoding="utf-8"))["version"])
        target = models_dir / version
        if not target.exists():
            staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=models_dir))  # a stopped run's is a leftover
            shutil.copytree(shipped, staging, ignore=shutil.ignore_patterns("challenge.csv", "__pycache__"),
                            dirs_exist_ok=True)  # fmt: skip
            staging.chmod(default_mode(target, folder=True))  # mkdtemp makes it private (0700)
            staging.rename(target)
        promote(models_dir, version, reason="seeded from the installed package")
        snapshot = corpus_snapshot(models_dir, version)
        if snapshot is not None and not corpus_path.exists():
            write_atomic(corpus_path, snapshot)
        if (shipped / "challenge.csv").is_file() and not challenge_path.exists():
            write_atomic(challenge_path, (shipped / "challenge.csv").read_bytes())
    return version
