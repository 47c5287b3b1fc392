"""Retraining in a clone without ``../shared`` (issue 21): the candidate keeps what the model in service
learnt from the real mail and DMs, and good new rows are promoted. ``pytest -s`` prints the real sets'
figures of both models."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from boundaryline import registry
from boundaryline.evaluate import evaluate, side_by_side
from boundaryline.predict import load_scorer
from boundaryline.retrain import retrain
from boundaryline.settings import Settings
from boundaryline.train import training_data

GOOD = Path(__file__).parents[1] / "fixtures" / "retrain_good.csv"
REAL_SETS = ("real_test", "real_maildir", "real_dm_test")


def scratch_clone(project: Settings, folder: Path) -> Settings:
    """What a clone holds: the authored data and the committed model versions; no ``../shared`` beside it."""
    shutil.copytree(project.data_dir / "corpus", folder / "data" / "corpus")
    current = registry.current_version(project.models_dir)
    assert current is not None
    models = folder / "models"
    shutil.copytree(project.models_dir / current, models / current)
    for name in ("current", "promotions.json"):
        shutil.copy(project.models_dir / name, models / name)
    return Settings(root=folder, shared_real_mail=folder / "absent", shared_real_dm=folder / "absent")


def test_a_clone_without_shared_promotes_good_rows_and_keeps_the_real_figures(
    project_settings: Settings, tmp_path: Path
) -> None:
    clone = scratch_clone(project_settings, tmp_path / "clone")
    serving = load_scorer(clone)
    outcome = retrain(clone, new=GOOD, quick=True)
    assert outcome.promoted, outcome.report
    assert "was trained with data this checkout does not hold: real mail" in outcome.report
    assert "starts from" in outcome.report
    candidate = load_scorer(clone)
    assert candidate.version != serving.version
    manifest = registry.read_manifest(clone.models_dir, candidate.version)
    assert manifest["corpus"]["inherited"] == {"from": serving.version, "sources": ["external", "real_dm"]}
    assert "moved towards the new rows only" in (clone.models_dir / candidate.version / "report.md").read_text()
    # The new rows moved the model towards their labels...
    texts = pd.read_csv(GOOD)["text"].tolist()
    before = [s.scores["professional"] for s in serving.score(texts)]
    after = [s.scores["professional"] for s in candidate.score(texts)]
    assert sum(after) > sum(before)
    # ...and the real sets, judged where ../shared is, barely moved.
    sets = {k: v for k, v in training_data(project_settings, counterfactuals=False).sets.items() if k in REAL_SETS}
    if not sets:
        pytest.skip("../shared is not beside this checkout: the real sets cannot be judged")
    old = evaluate(registry.load_pipeline(project_settings.models_dir, serving.version)[0], sets, serving.thresholds)[0]
    new = evaluate(registry.load_pipeline(clone.models_dir, candidate.version)[0], sets, serving.thresholds)[0]
    print(
        "\n" + side_by_side({f"{serving.version} (in service)": old, f"{candidate.version} (clone, no ../shared)": new})
    )
    for name in sets:
        for figure in ("macro_f1", "professional_flag_rate"):
            assert abs(new[name][figure] - old[name][figure]) <= 0.005, (
                name,
                figure,
                old[name][figure],
                new[name][figure],
            )


def test_a_clone_with_nothing_new_changes_nothing(project_settings: Settings, tmp_path: Path) -> None:
    clone = scratch_clone(project_settings, tmp_path / "clone")
    outcome = retrain(clone, from_feedback=True, quick=True)
    assert outcome.nothing_to_do and registry.versions(clone.models_dir) == [registry.current_version(clone.models_dir)]
