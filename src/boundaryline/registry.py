"""Versioned model folders, their manifests, the ``current`` pointer, promotion and rollback.

Layout under ``models/``::

    v001/model.joblib  v001/manifest.json  v001/card.md  v001/evaluation.json  v001/plots/*.png
    v001/corpus.csv.gz the corpus the version was trained on (what a rollback restores)
    current            one line: the version in service (replaced atomically by rename)
    promotions.json    every promotion and rollback, newest last
    .lock              held by whoever changes the registry or the corpus (train, retrain, rollback, clean)
    .promotion.json    a promotion under way: the pointer moves first, the corpus follows (a journal, so a
                       run killed in between is finished by the next one)

A joblib file is executable code, so ``load_pipeline`` refuses any file whose sha256 or scikit-learn
version does not match its manifest before it ever calls ``joblib.load``.
"""

from __future__ import annotations

import gzip
import json
import platform
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn
from filelock import FileLock, Timeout
from sklearn.pipeline import Pipeline

from boundaryline.files import default_mode, sha256_file, write_atomic

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
CURRENT_FILE = "current"
PROMOTIONS_FILE = "promotions.json"
CORPUS_SNAPSHOT = "corpus.csv.gz"
LOCK_FILE = ".lock"
JOURNAL_FILE = ".promotion.json"
_VERSION = re.compile(r"^v(\d{3,})$")


class ModelError(RuntimeError):
    """A model that cannot be used: missing, tampered with, or built by another scikit-learn."""


class RegistryBusy(RuntimeError):
    """Another process is changing the registry or the corpus."""


@contextmanager
def exclusive(models_dir: Path) -> Iterator[None]:
    """Hold the registry's lock while changing it or the corpus; a second holder is refused at once (the
    kernel drops the lock when its holder dies, so a killed run never leaves it stuck)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(models_dir / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except Timeout as error:
        raise RegistryBusy(
            f"another train, retrain, rollback or clean is changing {models_dir} (it holds {models_dir / LOCK_FILE});"
            " run this again when it has finished"
        ) from error
    try:
        yield
    finally:
        lock.release()


def begin_promotion(models_dir: Path, version: str, **details: Any) -> None:
    """Record, before the pointer moves, what promoting ``version`` will change after it."""
    write_atomic(models_dir / JOURNAL_FILE, json.dumps({"version": version, **details}) + "\n")


def pending_promotion(models_dir: Path) -> dict[str, Any] | None:
    """The promotion a killed run left unfinished, if any."""
    path = models_dir / JOURNAL_FILE
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None


def end_promotion(models_dir: Path) -> None:
    (models_dir / JOURNAL_FILE).unlink(missing_ok=True)


def corpus_snapshot(models_dir: Path, version: str) -> bytes | None:
    """The corpus CSV ``version`` was trained on, when its folder keeps one."""
    path = models_dir / version / CORPUS_SNAPSHOT
    return gzip.decompress(path.read_bytes()) if path.exists() else None


def leftovers(models_dir: Path, corpus_path: Path | None = None) -> dict[str, list[str]]:
    """What killed runs leave behind: staging folders and temp files (as paths; the corpus's temp files too,
    when ``corpus_path`` is given), a journal, versions (by name) never in service."""
    # A run killed inside an atomic write of the corpus or the challenge set (files.write_atomic) leaves a
    # temp file beside them; their writers hold this registry's lock (``exclusive``), as clean does.
    temp_files = sorted(corpus_path.parent.glob(".*.csv.*.tmp")) if corpus_path is not None else []
    if not models_dir.is_dir():
        return {"temp files": [str(p) for p in temp_files]} if temp_files else {}
    served = {e["version"] for e in promotions(models_dir)} | {current_version(models_dir)}
    temp_files = sorted(models_dir.glob(".*.tmp")) + temp_files
    found = {
        "staging folders": sorted(str(p) for p in models_dir.iterdir() if p.is_dir() and p.name.startswith(".v")),
        "temp files": [str(p) for p in temp_files],
        "unfinished promotion": [JOURNAL_FILE] if (models_dir / JOURNAL_FILE).exists() else [],
        "versions never in service": [v for v in versions(models_dir) if v not in served],
    }
    return {kind: names for kind, names in found.items() if names}


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
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: not a valid JSON manifest ({error})") from error
    if not isinstance(manifest, dict):
        raise ModelError(f"{path}: a manifest is a JSON object, found a {type(manifest).__name__}")
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
    staging.chmod(default_mode(staging.parent / version, folder=True))  # mkdtemp makes it private (0700)
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
