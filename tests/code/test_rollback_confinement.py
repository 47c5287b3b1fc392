"""Issue 23, item 1: the registry loads code only from version folders inside the models root. A folder
elsewhere comes with its own manifest, so its sha256 matches: only its place gives it away."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
from pathlib import Path

import joblib
import pytest
import sklearn

from boundaryline import registry
from boundaryline.cli import main as cli
from boundaryline.files import sha256_file
from boundaryline.settings import Settings


class Payload:
    """Unpickling it creates ``marker``: what a hostile model.joblib could run instead."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return pathlib.Path.touch, (self.marker,)


@pytest.fixture
def evil(tmp_path: Path) -> tuple[Path, Path]:
    """A folder outside the models root holding a hostile model.joblib and a manifest that matches it."""
    marker, folder = tmp_path / "pwned", tmp_path / "evil"
    folder.mkdir()
    joblib.dump(Payload(marker), folder / registry.MODEL_FILE)
    manifest = {
        "version": "v001",
        "model_file": registry.MODEL_FILE,
        "sha256": sha256_file(folder / registry.MODEL_FILE),
        "sklearn_version": sklearn.__version__,
    }
    (folder / registry.MANIFEST_FILE).write_text(json.dumps(manifest))
    assert not marker.exists()
    return folder, marker


def test_the_payload_really_runs_when_loaded(evil: tuple[Path, Path]) -> None:
    """The fixture is hostile indeed: loaded from inside a root, it creates the marker."""
    folder, marker = evil
    root = folder.parent / "root"
    root.mkdir()
    shutil.copytree(folder, root / "v001")
    with pytest.raises(registry.ModelError, match="expected a scikit-learn Pipeline"):
        registry.load_pipeline(root, "v001")
    assert marker.exists()


def pointer(settings: Settings) -> bytes:
    return (settings.models_dir / registry.CURRENT_FILE).read_bytes()


def test_rollback_to_a_folder_outside_the_root_is_refused(
    tiny_project: Settings, evil: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, marker = evil
    models = tiny_project.models_dir
    before, history = pointer(tiny_project), registry.promotions(models)
    (models / "v009").symlink_to(folder, target_is_directory=True)
    monkeypatch.chdir(models)
    for given in (str(folder), os.path.relpath(folder, models), "v009", str(models / "v009")):
        with pytest.raises(ValueError, match="is not a model version inside the models root") as caught:
            registry.rollback(models, given)
        assert repr(given) in str(caught.value) and str(models.resolve()) in str(caught.value)
        assert isinstance(caught.value, registry.ModelError)
        with pytest.raises(ValueError, match="models root"):
            registry.promote(models, given, reason="test")
    assert pointer(tiny_project) == before and registry.promotions(models) == history
    registry.load_pipeline(models)  # the model in service is still the one loaded
    assert not marker.exists()


def test_rollback_by_the_cli_is_refused(
    tiny_project: Settings, evil: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, marker = evil
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_project)
    before = pointer(tiny_project)
    assert cli(["models", "rollback", str(folder)]) == 2
    assert f"{str(folder)!r} is not a model version inside the models root" in capsys.readouterr().err
    assert pointer(tiny_project) == before
    assert cli(["models", "check"]) == 0
    assert not marker.exists()


def test_a_path_to_a_version_inside_the_root_is_stored_as_its_name(tiny_project: Settings) -> None:
    models = tiny_project.models_dir
    assert registry.rollback(models, str(models / "v001")) == "v001"
    assert pointer(tiny_project) == b"v001\n"
    assert registry.promotions(models)[-1]["version"] == "v001"


def hand_edit(settings: Settings, folder: Path, how: str) -> None:
    """Point the registry at ``folder`` behind its back, the ways a hand or a script could."""
    models = settings.models_dir
    if how == "absolute path":
        (models / registry.CURRENT_FILE).write_text(f"{folder}\n")
    elif how == "relative path":
        (models / registry.CURRENT_FILE).write_text(f"{os.path.relpath(folder, models)}\n")
    elif how == "symlink":
        (models / "v009").symlink_to(folder, target_is_directory=True)
        (models / registry.CURRENT_FILE).write_text("v009\n")
    elif how in ("manifest names a file outside", "model file is a symlink out"):
        version = registry.current_version(models)
        manifest_path = models / str(version) / registry.MANIFEST_FILE
        manifest = json.loads(manifest_path.read_text())
        outside = folder / registry.MODEL_FILE
        manifest["sha256"] = json.loads((folder / registry.MANIFEST_FILE).read_text())["sha256"]
        if how == "manifest names a file outside":
            manifest["model_file"] = str(outside)
        else:
            (models / str(version) / registry.MODEL_FILE).unlink()
            (models / str(version) / registry.MODEL_FILE).symlink_to(outside)
        manifest_path.write_text(json.dumps(manifest))


POINTER = ["absolute path", "relative path", "symlink"]
HOW = [*POINTER, "manifest names a file outside", "model file is a symlink out"]


@pytest.mark.parametrize("how", HOW)
def test_a_current_pointer_leading_outside_is_refused_before_unpickling(
    tiny_project: Settings,
    evil: tuple[Path, Path],
    how: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, marker = evil
    hand_edit(tiny_project, folder, how)
    loads: list[object] = []
    monkeypatch.setattr("joblib.load", lambda *args, **kwargs: loads.append(args))
    with pytest.raises(registry.ModelError, match=r"refusing to (load|read) it"):
        registry.load_pipeline(tiny_project.models_dir)
    monkeypatch.undo()  # the CLI with the real joblib.load: still never reached
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_project)
    code = cli(["models", "check"])
    if how in POINTER:
        assert code == 2 and "refusing to load it" in capsys.readouterr().err
    assert loads == [] and not marker.exists()


def test_save_model_takes_only_a_version_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not the name of a model version"):
        registry.save_model(Payload(tmp_path / "x"), {}, tmp_path / "models", version="../v001")  # type: ignore[arg-type]
