"""How `make train` picks its thresholds: the fewest professional flags within one standard error of the best."""

from itertools import product
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GroupKFold

from boundaryline import train as train_module
from boundaryline.decision import FEW_ROWS, decide
from boundaryline.evaluate import classification_metrics
from boundaryline.settings import LABELS

CAP = 0.20


@pytest.fixture
def landscape(monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, np.ndarray]:
    """Noisy out-of-fold probabilities for 600 rows in 30 scenarios, standing in for the folds' fits."""
    rng = np.random.default_rng(7)
    labels = rng.choice(LABELS, size=600, p=[0.5, 0.25, 0.25])
    proba = rng.dirichlet([1.0, 1.0, 1.0], size=600)
    proba[np.arange(600), [LABELS.index(label) for label in labels]] += rng.uniform(0.0, 1.2, size=600)
    proba /= proba.sum(axis=1, keepdims=True)
    train = pd.DataFrame(
        {"text": [f"m{i}" for i in range(600)], "label": labels, "scenario": [f"s{i % 30}" for i in range(600)]}
    )
    train["source"] = "authored"
    folds = GroupKFold(n_splits=train_module.CV_FOLDS).split(train["text"], train["label"], train["scenario"])
    by_fold = [proba[test] for _, test in folds]
    monkeypatch.setattr(train_module, "over_folds", lambda tasks, **kwargs: by_fold)
    return train, proba


def grid_metrics(train: pd.DataFrame, proba: np.ndarray) -> list[tuple[dict[str, float], dict[str, Any]]]:
    labels = train["label"].tolist()
    pairs = product(train_module.THRESHOLD_STEPS, repeat=2)
    thresholds = [{"pestering": p, "inappropriate_proposition": q} for p, q in pairs]
    return [(t, classification_metrics(labels, decide(proba, list(LABELS), t))) for t in thresholds]


def test_the_choice_is_the_fewest_flags_within_one_standard_error(landscape: tuple[pd.DataFrame, np.ndarray]) -> None:
    train, proba = landscape
    pipeline = SimpleNamespace(classes_=np.array(LABELS))
    selection = train_module.choose_thresholds(pipeline, train, target_flag_rate=CAP)  # type: ignore[arg-type]

    allowed = [(t, m) for t, m in grid_metrics(train, proba) if m["professional_flag_rate"] <= CAP]
    best_thresholds, best = max(allowed, key=lambda pair: pair[1]["macro_f1"])
    held_out = [held for _, held in GroupKFold(5).split(train, train["label"], train["scenario"])]
    fold_f1 = [
        classification_metrics(train["label"].iloc[h].tolist(), decide(proba[h], list(LABELS), best_thresholds))[
            "macro_f1"
        ]
        for h in held_out
    ]
    standard_error = np.std(fold_f1, ddof=1) / np.sqrt(len(fold_f1))
    chosen = selection["chosen"]
    assert chosen["standard_error"] == pytest.approx(standard_error)
    assert chosen["best_macro_f1"] == pytest.approx(best["macro_f1"])
    assert chosen["macro_f1"] >= best["macro_f1"] - standard_error
    assert chosen["professional_flag_rate"] <= CAP
    equals = [m for _, m in allowed if m["macro_f1"] >= best["macro_f1"] - standard_error]
    assert chosen["professional_flag_rate"] == min(m["professional_flag_rate"] for m in equals)
    # the rule matters on this landscape: the single best pair flags more than the one chosen
    assert selection["thresholds"] != best_thresholds
    assert chosen["professional_flag_rate"] < best["professional_flag_rate"]


def test_no_thresholds_when_the_arg_max_keeps_to_the_cap(landscape: tuple[pd.DataFrame, np.ndarray]) -> None:
    train, _ = landscape
    pipeline = SimpleNamespace(classes_=np.array(LABELS))
    selection = train_module.choose_thresholds(pipeline, train, target_flag_rate=1.0)  # type: ignore[arg-type]
    assert selection["thresholds"] == {} and selection["chosen"] is None


def _row(dm_flags: float, pestering: float, proposition: float) -> dict[str, Any]:
    return {"real_dm_flag_rate": dm_flags, "floor": {"pestering": pestering, "inappropriate_proposition": proposition}}


def test_real_dms_choose_the_fewest_flags_that_keep_the_recall_floor() -> None:
    rows = [_row(0.01, 0.5, 0.9), _row(0.03, 0.75, 0.8), _row(0.05, 0.9, 0.9), _row(0.032, 0.7, 0.7)]
    # under the cap, nothing keeps the floor but the ones above it: the fewest real-DM flags among those, within
    # half a point
    assert train_module.fewest_dm_flags(rows, cap=0.02, min_recall=0.7) == [rows[1], rows[3]]
    # a cap that some pair keeping the floor meets
    assert train_module.fewest_dm_flags(rows, cap=0.04, min_recall=0.7) == [rows[1], rows[3]]
    # no pair keeps the floor: those closest to it, and of them the fewest flags
    assert train_module.fewest_dm_flags(rows, cap=0.02, min_recall=0.95) == [rows[2]]


def test_the_floor_holds_each_concern_class_and_the_real_openers() -> None:
    truth = np.array(
        ["professional", "pestering", "pestering", "inappropriate_proposition", "inappropriate_proposition"]
    )
    predicted = np.array(["professional", "pestering", "professional", "inappropriate_proposition", "professional"])
    real_mail = np.array([False, False, False, False, True])
    assert train_module.floor_recalls(truth, predicted, real_mail) == {
        "pestering": 0.5,
        "inappropriate_proposition": 0.5,
        "real-mail inappropriate_proposition": 0.0,
    }
    assert "real-mail inappropriate_proposition" not in train_module.floor_recalls(truth, predicted, ~real_mail & False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.6, 0.9, 1.0]), min_size=3, max_size=3),
        min_size=FEW_ROWS + 1,
        max_size=FEW_ROWS + 12,
    ),
    st.dictionaries(
        st.sampled_from(["pestering", "inappropriate_proposition"]), st.sampled_from([0.2, 0.3, 1 / 3, 0.5])
    ),
)
def test_a_few_rows_are_decided_as_a_batch_is(rows: list[list[float]], thresholds: dict[str, float]) -> None:
    """``decide`` takes a few rows (a service call) in plain Python and more with numpy: the same labels, ties
    included."""
    labels = ["professional", "pestering", "inappropriate_proposition"]
    probabilities = np.array(rows)
    assert decide(probabilities, labels, thresholds) == [
        decide(probabilities[i : i + 1], labels, thresholds)[0] for i in range(len(rows))
    ]
