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
version does not match its manifest before it ever calls ``joblib.load``, and any file outside the models
root: ``current``, ``promote`` and ``rollback`` take only a version's name (``v003``), whose folder must be a
real folder directly inside the root (not a symlink out of it), and its model file must sit in that folder.
A manifest beside a file proves nothing about where the pair came from.
"""

from __future__ import annotations

import gzip
import json
import platform
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from filelock import FileLock, Timeout

from boundaryline.files import default_mode, sha256_file, write_atomic
from boundaryline.table import TABLE_FILE, ScoringTable, Unfoldable

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

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


class NotAVersion(ModelError, ValueError):
    """A version that is not a folder directly inside the models root (a path elsewhere, ``..``, a symlink out)."""


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
    path = _version_dir(models_dir, version) / CORPUS_SNAPSHOT
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
    """Every version folder, oldest first (a symlink leading out of the root is none)."""
    if not models_dir.is_dir():
        return []
    root = models_dir.resolve()
    found = [
        p.name for p in models_dir.iterdir() if p.is_dir() and _VERSION.match(p.name) and p.resolve().parent == root
    ]
    return sorted(found, key=lambda v: int(v[1:]))


def next_version(models_dir: Path) -> str:
    existing = versions(models_dir)
    return f"v{int(existing[-1][1:]) + 1 if existing else 1:03d}"


def version_name(models_dir: Path, given: str) -> str:
    """The version ``given`` names, checked to be a folder directly inside ``models_dir``: a name (``v003``), or
    a path that resolves to such a folder (stored as its name). Anything else is refused (``NotAVersion``)."""
    root = models_dir.resolve()
    where = models_dir / given if _VERSION.match(given) else Path(given)
    folder = where.resolve()
    if folder.parent != root or not _VERSION.match(folder.name):  # a symlink is judged by where it leads
        raise NotAVersion(
            f"{given!r} is not a model version inside the models root {root}: give a version's name"
            " (`boundaryline models list` shows them); a path elsewhere, `..` or a symlink out of the root is refused"
        )
    return folder.name


def _version_dir(models_dir: Path, version: str) -> Path:
    """The folder of ``version``, refused unless it is a version's name whose folder sits inside the root."""
    if not _VERSION.match(version):
        raise NotAVersion(
            f"{version!r} is not the name of a model version (v001, v002, …) inside the models root"
            f" {models_dir.resolve()}; refusing to read it"
        )
    folder = models_dir / version
    if folder.resolve().parent != models_dir.resolve():
        raise NotAVersion(
            f"{folder} leads out of the models root {models_dir.resolve()} (to {folder.resolve()}); refusing to read it"
        )
    return folder


def current_version(models_dir: Path) -> str | None:
    """The version in service, or None when nothing has been promoted. The pointer's text as it is: whoever
    reads files by it goes through ``_version_dir`` (``load_pipeline`` refuses one that leads out of the root)."""
    pointer = models_dir / CURRENT_FILE
    if not pointer.exists():
        return None
    version = pointer.read_text(encoding="utf-8").strip()
    return version or None


def read_manifest(models_dir: Path, version: str) -> dict[str, Any]:
    path = _version_dir(models_dir, version) / MANIFEST_FILE
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
    check_texts: Sequence[str] = (),
) -> str:
    """Write a new version folder (built in a temp folder, then renamed into place) and return its name.

    Beside the pipeline goes its scoring table (``table.ScoringTable``), checked against
    ``pipeline.predict_proba`` on ``check_texts`` (the frozen sets) and a sample of its vocabulary: a table
    off by more than 1e-9 is refused, and so is the version. ``manifest`` gets the version, creation time, file
    hashes and library versions added; the folder is not promoted: call ``promote`` for that.
    """
    import joblib
    import sklearn

    models_dir.mkdir(parents=True, exist_ok=True)
    version = version or next_version(models_dir)
    if _version_dir(models_dir, version).exists():
        raise ModelError(f"{models_dir / version}: version already exists")
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=models_dir))
    staging.chmod(default_mode(staging.parent / version, folder=True))  # mkdtemp makes it private (0700)
    try:
        model_path = staging / MODEL_FILE
        joblib.dump(pipeline, model_path, compress=3)
        table_entry = _write_table(pipeline, staging, check_texts, version)
        full = {
            "version": version,
            "created": now_iso(),
            "model_file": MODEL_FILE,
            "sha256": sha256_file(model_path),
            "sklearn_version": sklearn.__version__,
            "python_version": platform.python_version(),
            **manifest,
            "scoring_table": table_entry,
        }
        write_atomic(staging / MANIFEST_FILE, json.dumps(full, indent=2, ensure_ascii=False) + "\n")
        for name, content in (extra_files or {}).items():
            write_atomic(staging / name, content)
        staging.rename(models_dir / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


def _write_table(pipeline: Pipeline, folder: Path, check_texts: Sequence[str], version: str) -> dict[str, Any]:
    """The pipeline's scoring table, checked (``ScoringTable.check``) and written into ``folder``; its manifest
    entry. A table that would not score as the pipeline does is refused, and so is the version."""
    try:
        table = ScoringTable.of_pipeline(pipeline)
        gap = table.check(pipeline, check_texts)
    except Unfoldable as error:
        raise ModelError(f"version {version} refused: its scoring table is not exact: {error}") from None
    table.save(folder / TABLE_FILE)
    saved = ScoringTable.load(folder / TABLE_FILE)  # the file, not the memory, is what scoring will load
    if saved.terms != table.terms or saved.blocks != table.blocks or not np.array_equal(saved.weights, table.weights):
        raise ModelError(f"version {version} refused: its scoring table did not read back as written")
    return {
        "file": TABLE_FILE,
        "sha256": sha256_file(folder / TABLE_FILE),
        "max_gap": gap,
        "checked_texts": len(check_texts),
    }


def _resolve(models_dir: Path, version: str | None) -> tuple[Path, dict[str, Any]]:
    """The folder and manifest of ``version`` (default: the one ``current`` names), inside the models root."""
    pointer = version is None
    version = version or current_version(models_dir)
    if version is None:
        raise ModelError(f"{models_dir}: no current model; run `make train` to build one")
    try:
        folder = _version_dir(models_dir, version)
    except NotAVersion as error:
        if not pointer:
            raise
        raise NotAVersion(
            f"{models_dir / CURRENT_FILE} names {version!r}, which is not a model version inside the models root"
            f" {models_dir.resolve()}; refusing to load it. Put a version's name there with"
            " `boundaryline models rollback VERSION`"
        ) from error
    return folder, read_manifest(models_dir, version)


def _member(folder: Path, name: str, sha256: object) -> Path:
    """A file of a version's folder that the manifest names, checked: in the folder, present, its sha256."""
    path = folder / name
    if path.resolve().parent != folder.resolve():  # an absolute path, `..` or a symlink in the manifest
        raise ModelError(f"{folder / MANIFEST_FILE}: its file {name!r} is not in {folder}; refusing to load it")
    if not path.exists():
        raise ModelError(f"{path}: model file missing")
    actual = sha256_file(path)
    if actual != sha256:
        raise ModelError(
            f"{path}: sha256 {actual[:12]}… does not match the manifest's {str(sha256)[:12]}…;"
            " refusing to load a file that may have been tampered with"
        )
    return path


def load_table(models_dir: Path, version: str | None = None) -> tuple[ScoringTable | None, dict[str, Any]]:
    """A version's scoring table (default: current) after checking its sha256: what scoring needs, without
    scikit-learn. None for a version saved before scoring tables (``load_pipeline`` then)."""
    folder, manifest = _resolve(models_dir, version)
    entry = manifest.get("scoring_table")
    if not isinstance(entry, dict):
        return None, manifest
    return ScoringTable.load(_member(folder, str(entry.get("file")), entry.get("sha256"))), manifest


def add_table(models_dir: Path, version: str, check_texts: Sequence[str]) -> float:
    """Give a version saved before scoring tables its table, checked as ``save_model`` checks one (on
    ``check_texts`` and its vocabulary), and name it in the manifest; the largest gap found. The pipeline and
    everything else in the folder stay as they are."""
    pipeline, manifest = load_pipeline(models_dir, version)
    folder = _version_dir(models_dir, version)
    manifest["scoring_table"] = _write_table(pipeline, folder, check_texts, version) | {"added": now_iso()}
    write_atomic(folder / MANIFEST_FILE, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return float(manifest["scoring_table"]["max_gap"])


def load_pipeline(models_dir: Path, version: str | None = None) -> tuple[Pipeline, dict[str, Any]]:
    """Load a version (default: current) after checking its sha256 and scikit-learn version."""
    import joblib
    import sklearn
    from sklearn.pipeline import Pipeline

    folder, manifest = _resolve(models_dir, version)
    path = _member(folder, str(manifest.get("model_file", MODEL_FILE)), manifest.get("sha256"))
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
    """Point ``current`` at ``version`` (a name; atomic rename) and record why."""
    version = version_name(models_dir, version)
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
    """Move ``current`` back to ``version``, or to the version that was in service before the current one.

    ``version`` is a version's name, or a path to a version folder directly inside ``models_dir``; anything
    else is refused (``NotAVersion``, a ValueError naming it and the models root)."""
    current = current_version(models_dir)
    if version is not None:
        version = version_name(models_dir, version)
    else:
        stack = _service_stack(models_dir)
        if len(stack) < 2:
            raise ModelError("nothing to roll back to: no earlier version has been in service")
        version = stack[-2]
    read_manifest(models_dir, version)
    write_atomic(models_dir / CURRENT_FILE, version + "\n")
    _log(models_dir, {"at": now_iso(), "event": "rollback", "version": version, "previous": current})
    return version
