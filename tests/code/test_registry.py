import json
from pathlib import Path

import pytest
from sklearn.pipeline import Pipeline

from boundaryline import registry
from boundaryline.model import build_pipeline
from boundaryline.settings import Settings


def _save(models_dir: Path, **manifest: object) -> str:
    pipeline = build_pipeline().fit(
        ["alpha beta", "gamma delta", "eta theta"] * 3, ["professional", "pestering", "inappropriate_proposition"] * 3
    )
    return registry.save_model(pipeline, {"labels": ["x"], **manifest}, models_dir)


def test_versions_are_numbered_and_loadable(tmp_path: Path) -> None:
    assert registry.versions(tmp_path) == []
    first, second = _save(tmp_path), _save(tmp_path)
    assert (first, second) == ("v001", "v002")
    registry.promote(tmp_path, second, reason="test")
    pipeline, manifest = registry.load_pipeline(tmp_path)
    assert isinstance(pipeline, Pipeline)
    assert manifest["version"] == "v002"
    assert len(manifest["sha256"]) == 64


def test_refuses_a_tampered_model_file(tiny_project: Settings) -> None:
    version = registry.current_version(tiny_project.models_dir)
    assert version is not None
    path = tiny_project.models_dir / version / registry.MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(registry.ModelError, match="sha256"):
        registry.load_pipeline(tiny_project.models_dir)


def test_refuses_a_model_from_another_sklearn(tiny_project: Settings) -> None:
    version = registry.current_version(tiny_project.models_dir)
    assert version is not None
    manifest_path = tiny_project.models_dir / version / registry.MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["sklearn_version"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(registry.ModelError, match=r"scikit-learn 0\.0\.1"):
        registry.load_pipeline(tiny_project.models_dir)


def test_no_current_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(registry.ModelError, match="make train"):
        registry.load_pipeline(tmp_path)


def test_rollback_walks_back_through_what_was_served(tmp_path: Path) -> None:
    v1, v2, v3 = _save(tmp_path), _save(tmp_path), _save(tmp_path)
    for version in (v1, v2, v3):
        registry.promote(tmp_path, version, reason="test")
    assert registry.rollback(tmp_path) == v2
    assert registry.rollback(tmp_path) == v1
    assert registry.current_version(tmp_path) == v1
    with pytest.raises(registry.ModelError, match="nothing to roll back"):
        registry.rollback(tmp_path)
    assert registry.rollback(tmp_path, v3) == v3


def test_save_model_leaves_nothing_behind_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("joblib.dump", explode)
    with pytest.raises(OSError, match="disk full"):
        _save(tmp_path)
    assert list(tmp_path.iterdir()) == []
