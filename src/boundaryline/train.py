"""Fit the pipeline on the training split, choose hyper-parameters by grouped CV, evaluate on every frozen
set beside the baselines, and save a versioned model."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from boundaryline import registry
from boundaryline.baselines import baselines as baseline_factories
from boundaryline.data import (
    corpus_fingerprint,
    load_challenge,
    load_corpus,
    train_test_frames,
    validate_challenge,
    validate_corpus,
)
from boundaryline.evaluate import evaluate, format_report, headline, render_plots, set_names
from boundaryline.features import char_vectoriser
from boundaryline.model import build_pipeline
from boundaryline.settings import LABELS, Settings

log = logging.getLogger(__name__)

CV_FOLDS = 5
# The search space, as scikit-learn's grid-search examples write it: estimators and values, keyed by
# ``step__param``. "drop" switches the character n-grams off, so they stay only when they earn their cost.
PARAM_GRID: dict[str, list[Any]] = {
    "tfidf__char": [char_vectoriser(), "drop"],
    "tfidf__word__ngram_range": [(1, 2), (1, 3)],
    "clf__C": [1.0, 3.0, 10.0, 30.0, 100.0, 300.0],
}
# `train --quick` on a project with no model yet: one candidate.
QUICK_GRID: dict[str, list[Any]] = {"tfidf__char": ["drop"], "tfidf__word__ngram_range": [(1, 2)], "clf__C": [100.0]}


def describe(value: Any) -> Any:
    """A grid value as JSON: estimators by their repr (changed parameters only), tuples as lists."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, BaseEstimator):
        return repr(value)
    return value


def grid_of(pipeline: Pipeline, grid: Mapping[str, Sequence[Any]] = PARAM_GRID) -> dict[str, list[Any]]:
    """A one-candidate grid holding the values ``pipeline`` was fitted with (``retrain --quick``)."""
    params = pipeline.get_params()
    return {key: [params[key]] for key in grid}


@dataclass
class FitResult:
    pipeline: Pipeline
    search: dict[str, Any]


def fit_pipeline(
    train: pd.DataFrame, *, seed: int, grid: Mapping[str, Sequence[Any]] = PARAM_GRID, n_jobs: int = -1
) -> FitResult:
    """Grouped-CV grid search on the training rows only (groups = scenario), refit on all of them."""
    folds = min(CV_FOLDS, train["scenario"].nunique())
    search = GridSearchCV(
        build_pipeline(seed=seed),
        {key: list(values) for key, values in grid.items()},
        cv=GroupKFold(n_splits=folds),
        scoring="f1_macro",
        n_jobs=n_jobs,
        refit=True,
        error_score="raise",
    )
    search.fit(train["text"].tolist(), train["label"].tolist(), groups=train["scenario"].tolist())
    ranked = sorted(
        zip(search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True), key=lambda item: -item[1]
    )
    return FitResult(
        pipeline=search.best_estimator_,
        search={
            "cv": f"GroupKFold({folds}) by scenario on the training split",
            "scoring": "f1_macro",
            "space": {k: [describe(v) for v in vs] for k, vs in grid.items()},
            "chosen": {k: describe(v) for k, v in search.best_params_.items()},
            "cv_macro_f1": float(search.best_score_),
            "candidates": [
                {"params": {k: describe(v) for k, v in p.items()}, "cv_macro_f1": float(s)} for p, s in ranked
            ],
        },
    )


def frozen_sets(corpus: pd.DataFrame, challenge: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every set a model is judged on and never trained on, by name."""
    return {"test": train_test_frames(corpus)[1], "challenge": challenge}


def evaluate_model(
    pipeline: Pipeline,
    sets: Mapping[str, pd.DataFrame],
    *,
    thresholds: Mapping[str, float],
    train: pd.DataFrame | None = None,
    seed: int = 42,
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The model on every frozen set (and, given the training rows, the baselines fitted on them), with plots."""
    metrics, probabilities = evaluate(pipeline, sets, thresholds)
    evaluation: dict[str, Any] = {"model": {"thresholds": dict(thresholds), **metrics}, "baselines": {}}
    factories = baseline_factories(seed) if train is not None else {}
    for name, make in factories.items():
        assert train is not None
        try:
            baseline = make().fit(train["text"].tolist(), train["label"].tolist())
        except RuntimeError as error:  # the optional embedding extra is not installed
            evaluation["baselines"][name] = {"error": str(error)}
            continue
        evaluation["baselines"][name] = evaluate(baseline, sets)[0]
    return evaluation, render_plots(sets, probabilities, metrics, thresholds)


def model_card(manifest: Mapping[str, Any]) -> str:
    """The short model card written beside each model."""
    counts = manifest["corpus"]["counts"]
    metrics = pd.DataFrame({name: headline(m) for name, m in manifest["metrics"].items()}).T.rename_axis("set")
    return f"""# boundaryline model {manifest["version"]}

## Intended use
Scoring messages received while networking for work (e-mail, LinkedIn-style DMs, texts, event-app and
community chat) as `professional`, `pestering` or `inappropriate_proposition`, with the words that drove
each score, to help a person or a trust-and-safety reviewer decide what to look at first.

## Not intended for
Automatic sanctions, hiring or disciplinary decisions without a human reading the message; messages
between people in a personal relationship; spam or phishing detection; languages other than English.

## Data
{manifest["corpus"]["rows"]} labelled messages (train {counts["split"].get("train", 0)}, held-out test
{counts["split"].get("test", 0)} in whole scenarios never seen in training); a frozen challenge set of
{manifest["corpus"]["challenge_rows"]} hard messages. Corpus sha256 `{manifest["corpus"]["sha256"][:16]}…`.
See `data/README.md` (datasheet) and `data/LABELLING.md` (labelling guide).

## Model
TF-IDF ({json.dumps(manifest["search"]["chosen"])}) + multinomial logistic regression (balanced class
weights), chosen by {manifest["search"]["cv"]} (CV macro-F1 {manifest["search"]["cv_macro_f1"]:.3f}).
Thresholds: {json.dumps(manifest["thresholds"]) if manifest["thresholds"] else "arg-max"}.

## Metrics
{metrics.to_markdown(floatfmt=".3f")}

Full report: `report.md` and `evaluation.json` in this folder; plots in `plots/`.

## Limitations
A bag of n-grams sees one message at a time, so pestering that is only visible as a pattern (many polite
messages) is caught by the sender summary of `boundaryline score`, not by this model. Sarcasm, quoted text
and non-English messages are weak spots.
"""


def validated(corpus: pd.DataFrame, challenge: pd.DataFrame) -> dict[str, Any]:
    """Refuse data with any problem; return the corpus's counts for the manifest."""
    report = validate_corpus(corpus)
    problems = report.problems + validate_challenge(challenge, corpus).problems
    if problems:
        listed = "\n".join(f"  {p}" for p in problems[:20])
        raise ValueError(f"the corpus has {len(problems)} problem(s); run `boundaryline validate-data`:\n{listed}")
    return {
        "sha256": corpus_fingerprint(corpus, challenge),
        "rows": len(corpus),
        "challenge_rows": len(challenge),
        "counts": report.counts,
        "near_duplicates": report.near_duplicates,
    }


def train_and_save(
    settings: Settings,
    *,
    corpus: pd.DataFrame | None = None,
    grid: Mapping[str, Sequence[Any]] = PARAM_GRID,
    baselines: bool = True,
) -> str:
    """Validate the data, fit, evaluate and write a new (unpromoted) version; returns its name."""
    corpus = load_corpus(settings) if corpus is None else corpus
    challenge = load_challenge(settings)
    corpus_section = validated(corpus, challenge)
    train, _ = train_test_frames(corpus)
    sets = frozen_sets(corpus, challenge)
    log.info("fitting on %d messages (grid search, %d-fold grouped CV)", len(train), CV_FOLDS)
    fit = fit_pipeline(train, seed=settings.seed, grid=grid)
    log.info("evaluating on %s", ", ".join(f"{name} ({len(frame)})" for name, frame in sets.items()))
    evaluation, plots = evaluate_model(
        fit.pipeline, sets, thresholds=settings.thresholds, train=train if baselines else None, seed=settings.seed
    )
    return save_version(settings, fit, evaluation, plots, corpus_section)


def save_version(
    settings: Settings,
    fit: FitResult,
    evaluation: dict[str, Any],
    plots: Mapping[str, bytes],
    corpus_section: Mapping[str, Any],
    extra_manifest: Mapping[str, Any] | None = None,
) -> str:
    """Write a new, unpromoted model version: joblib file, manifest, card, report, evaluation and plots."""
    model = evaluation["model"]
    manifest = {
        "created": registry.now_iso(),
        "labels": list(LABELS),
        "thresholds": model["thresholds"],
        "seed": settings.seed,
        "search": fit.search,
        "corpus": dict(corpus_section),
        "metrics": {name: model[name] for name in set_names(model)},
        **(extra_manifest or {}),
    }
    # The card and report name the version, which is fixed here and then claimed by save_model.
    version = registry.next_version(settings.models_dir)
    evaluation.update(version=version, created=manifest["created"])
    files: dict[str, str | bytes] = {
        "card.md": model_card({"version": version, **manifest}),
        "evaluation.json": json.dumps(evaluation, indent=2) + "\n",
        "report.md": format_report(evaluation),
        **plots,
    }
    return registry.save_model(fit.pipeline, manifest, settings.models_dir, extra_files=files, version=version)
