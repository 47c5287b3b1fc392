"""Versioned model folders, their manifests, the ``current`` pointer, promotion and rollback.

Layout under ``models/``::

    v001/model.joblib  v001/manifest.json  v001/card.md  v001/evaluation.json  v001/plots/*.png
    current            one line: the version in service (replaced atomically by rename)
    promotions.json    every promotion and rollback, newest last

A joblib file is executable code, so ``load_pipeline`` refuses any file whose sha256 or scikit-learn
version does not match its manifest before it ever calls ``joblib.load``.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.pipeline import Pipeline

from boundaryline.files import sha256_file, write_atomic

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
CURRENT_FILE = "current"
PROMOTIONS_FILE = "promotions.json"
_VERSION = re.compile(r"^v(\d{3,})$")


class ModelError(RuntimeError):
    """A model that cannot be used: missing, tampered with, or built by another scikit-learn."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def versions(models_dir: Path) -> list[str]:
    """Every version folder, oldest first."""
    if not models_dir.is_dir():
        return []
    found = [p.name for p in models_dir.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return sorted(found, key=lambda v: int(v[1:]))


def next_version(models_dir: Path) -> str:
    existing = versions(models_dir)
    return f"v{int(existing[-1][1:]) + 1 if existing else 1:03d}"


def current_version(models_dir: Path) -> str | None:
    """The version in service, or None when nothing has been promoted."""
    pointer = models_dir / CURRENT_FILE
    if not pointer.exists():
        return None
    version = pointer.read_text(encoding="utf-8").strip()
    return version or None


def read_manifest(models_dir: Path, version: str) -> dict[str, Any]:
    path = models_dir / version / MANIFEST_FILE
    if not path.exists():
        raise ModelError(f"{path}: no manifest; is {version!r} a model version?")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def save_model(
    pipeline: Pipeline,
    manifest: dict[str, Any],
    models_dir: Path,
    *,
    extra_files: dict[str, str | bytes] | None = None,
    version: str | None = None,
) -> str:
    """Write a new version folder (built in a temp folder, then renamed into place) and return its name.

    ``manifest`` gets the version, creation time, file hash and library versions added; the folder is
    not promoted: call ``promote`` for that.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    version = version or next_version(models_dir)
    if (models_dir / version).exists():
        raise ModelError(f"{models_dir / version}: version already exists")
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=models_dir))
    try:
        model_path = staging / MODEL_FILE
        joblib.dump(pipeline, model_path, compress=3)
        full = {
            "version": version,
            "created": now_iso(),
            "model_file": MODEL_FILE,
            "sha256": sha256_file(model_path),
            "sklearn_version": sklearn.__version__,
            "python_version": platform.python_version(),
            **manifest,
        }
        write_atomic(staging / MANIFEST_FILE, json.dumps(full, indent=2, ensure_ascii=False) + "\n")
        for name, content in (extra_files or {}).items():
            write_atomic(staging / name, content)
        staging.rename(models_dir / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


def load_pipeline(models_dir: Path, version: str | None = None) -> tuple[Pipeline, dict[str, Any]]:
    """Load a version (default: current) after checking its sha256 and scikit-learn version."""
    version = version or current_version(models_dir)
    if version is None:
        raise ModelError(f"{models_dir}: no current model; run `make train` to build one")
    manifest = read_manifest(models_dir, version)
    path = models_dir / version / manifest.get("model_file", MODEL_FILE)
    if not path.exists():
        raise ModelError(f"{path}: model file missing")
    actual = sha256_file(path)
    if actual != manifest.get("sha256"):
        raise ModelError(
            f"{path}: sha256 {actual[:12]}… does not match the manifest's {str(manifest.get('sha256'))[:12]}…;"
            " refusing to load a file that may have been tampered with"
        )
    if manifest.get("sklearn_version") != sklearn.__version__:
        raise ModelError(
            f"{path}: built with scikit-learn {manifest.get('sklearn_version')}, this is {sklearn.__version__};"
            " retrain with `make train` (or install the pinned versions with `make install`)"
        )
    pipeline = joblib.load(path)
    if not isinstance(pipeline, Pipeline):
        raise ModelError(f"{path}: expected a scikit-learn Pipeline, found {type(pipeline).__name__}")
    return pipeline, manifest


def _log(models_dir: Path, event: dict[str, Any]) -> None:
    path = models_dir / PROMOTIONS_FILE
    history = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    history.append(event)
    write_atomic(path, json.dumps(history, indent=2) + "\n")


def promotions(models_dir: Path) -> list[dict[str, Any]]:
    path = models_dir / PROMOTIONS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def promote(models_dir: Path, version: str, *, reason: str, forced: bool = False) -> None:
    """Point ``current`` at ``version`` (atomic rename) and record why."""
    read_manifest(models_dir, version)  # refuses a folder that is not a model
    previous = current_version(models_dir)
    write_atomic(models_dir / CURRENT_FILE, version + "\n")
    _log(
        models_dir,
        {"at": now_iso(), "event": "promote", "version": version, "previous": previous,
         "reason": reason, "forced": forced},
    )  # fmt: skip


def _service_stack(models_dir: Path) -> list[str]:
    """The versions that were in service, as a stack: a promotion pushes, a rollback pops back."""
    stack: list[str] = []
    for event in promotions(models_dir):
        if event["event"] == "rollback" and len(stack) > 1 and stack[-2] == event["version"]:
            stack.pop()
        else:
            stack.append(event["version"])
    return stack


def rollback(models_dir: Path, version: str | None = None) -> str:
    """Move ``current`` back to ``version``, or to the version that was in service before the current one."""
    current = current_version(models_dir)
    if version is None:
        stack = _service_stack(models_dir)
        if len(stack) < 2:
            raise ModelError("nothing to roll back to: no earlier version has been in service")
        version = stack[-2]
    read_manifest(models_dir, version)
    write_atomic(models_dir / CURRENT_FILE, version + "\n")
    _log(models_dir, {"at": now_iso(), "event": "rollback", "version": version, "previous": current})
    return version
