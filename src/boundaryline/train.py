"""Fit the pipeline on the training split, choose hyper-parameters by grouped CV, save a versioned model."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline

from boundaryline import registry
from boundaryline.baselines import EmbeddingBaseline, KeywordBaseline, MajorityBaseline
from boundaryline.data import (
    corpus_fingerprint,
    load_challenge,
    load_corpus,
    train_test_frames,
    validate_challenge,
    validate_corpus,
)
from boundaryline.evaluate import evaluate_predictions, format_report, render_plots, timed_proba
from boundaryline.features import build_features
from boundaryline.model import build_pipeline
from boundaryline.settings import LABELS, Settings

log = logging.getLogger(__name__)

CV_FOLDS = 5
# The search space. "tfidf__char" switches the character n-grams off ("drop") so that they are kept
# only when they earn their cost on grouped cross-validation.
PARAM_GRID: dict[str, list[Any]] = {
    "tfidf__char": ["char_wb(2,5)", "drop"],
    "tfidf__word__ngram_range": [(1, 2), (1, 3)],
    "clf__C": [1.0, 3.0, 10.0, 30.0, 100.0, 300.0],
}
# `train --quick`: one candidate, the values the full search chose for model v001.
QUICK_GRID: dict[str, list[Any]] = {
    "tfidf__char": ["drop"],
    "tfidf__word__ngram_range": [(1, 2)],
    "clf__C": [100.0],
}


def _materialise(grid: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Turn the JSON-friendly grid into estimator parameters (the char vectoriser itself, not its name)."""
    char = dict(build_features().transformer_list)["char"]
    return {
        key: [char if (key == "tfidf__char" and v != "drop") else v for v in values] for key, values in grid.items()
    }


def _describe(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "get_params"):
        return f"{value.analyzer}{value.ngram_range}"
    return value


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
        _materialise(grid),
        cv=GroupKFold(n_splits=folds),
        scoring="f1_macro",
        n_jobs=n_jobs,
        refit=True,
        error_score="raise",
    )
    search.fit(train["text"].tolist(), train["label"].tolist(), groups=train["scenario"].tolist())
    chosen = {key: _describe(value) for key, value in search.best_params_.items()}
    ranked = sorted(
        zip(search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True),
        key=lambda item: -item[1],
    )
    return FitResult(
        pipeline=search.best_estimator_,
        search={
            "cv": f"GroupKFold({folds}) by scenario on the training split",
            "scoring": "f1_macro",
            "space": {k: [_describe(v) for v in vs] for k, vs in grid.items()},
            "chosen": chosen,
            "cv_macro_f1": float(search.best_score_),
            "candidates": [
                {"params": {k: _describe(v) for k, v in p.items()}, "cv_macro_f1": float(s)} for p, s in ranked
            ],
        },
    )


def evaluate_model(
    pipeline: Pipeline,
    train: pd.DataFrame,
    test: pd.DataFrame,
    challenge: pd.DataFrame,
    *,
    thresholds: dict[str, float],
    seed: int,
    baselines: bool = True,
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Metrics for the model (and, if asked, the baselines) on the held-out split and the challenge set."""
    order = [list(pipeline.classes_).index(label) for label in LABELS]
    evaluation: dict[str, Any] = {"model": {"messages_per_second": {}}, "baselines": {}}
    plot_inputs = {}
    for name, frame in (("test", test), ("challenge", challenge)):
        proba, speed = timed_proba(pipeline.predict_proba, frame["text"].tolist())
        proba = proba[:, order]
        metrics = evaluate_predictions(frame, proba, thresholds=thresholds, slices=_slices(frame))
        evaluation["model"][name] = metrics
        evaluation["model"]["messages_per_second"][name] = speed
        plot_inputs[name] = (frame, proba, metrics)
    if baselines:
        for make in (MajorityBaseline, KeywordBaseline, lambda: EmbeddingBaseline(seed=seed)):
            try:
                baseline = make()
            except RuntimeError as error:  # the optional embedding extra is not installed
                evaluation["baselines"]["MiniLM embeddings + LR"] = {"error": str(error)}
                continue
            baseline.fit(train["text"].tolist(), train["label"].tolist())
            entry: dict[str, Any] = {"messages_per_second": {}}
            for name, frame in (("test", test), ("challenge", challenge)):
                proba, speed = timed_proba(baseline.predict_proba, frame["text"].tolist())
                entry[name] = evaluate_predictions(frame, proba, slices=_slices(frame))
                entry["messages_per_second"][name] = speed
            evaluation["baselines"][baseline.name] = entry
    return evaluation, render_plots(plot_inputs)


def _slices(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(c for c in ("channel", "hard", "edge") if c in frame.columns)


def model_card(manifest: dict[str, Any]) -> str:
    """The short model card written beside each model."""
    test, challenge = manifest["metrics"]["test"], manifest["metrics"]["challenge"]
    counts = manifest["corpus"]["counts"]
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
Thresholds: {manifest["thresholds"] or "arg-max"}.

## Metrics
| set | macro-F1 | recall prof. | recall pest. | recall prop. | professional flagged |
|---|---|---|---|---|---|
| held-out test | {test["macro_f1"]:.3f} | {test["per_class"]["professional"]["recall"]:.3f} | {test["per_class"]["pestering"]["recall"]:.3f} | {test["per_class"]["inappropriate_proposition"]["recall"]:.3f} | {test["professional_flag_rate"]:.3f} |
| challenge | {challenge["macro_f1"]:.3f} | {challenge["per_class"]["professional"]["recall"]:.3f} | {challenge["per_class"]["pestering"]["recall"]:.3f} | {challenge["per_class"]["inappropriate_proposition"]["recall"]:.3f} | {challenge["professional_flag_rate"]:.3f} |

Full report: `report.md` and `evaluation.json` in this folder; plots in `plots/`.

## Limitations
The corpus was written by the project, not collected from real inboxes: real mail differs in ways it
cannot show. A bag of n-grams sees one message at a time, so pestering that is only visible as a pattern
(many polite messages) is caught by the sender summary of `boundaryline score`, not by this model.
Sarcasm, quoted text and non-English messages are weak spots.
"""


def train_and_save(
    settings: Settings,
    *,
    corpus: pd.DataFrame | None = None,
    grid: Mapping[str, Sequence[Any]] = PARAM_GRID,
    baselines: bool = True,
    extra_manifest: dict[str, Any] | None = None,
) -> str:
    """Validate the data, fit, evaluate and write a new (unpromoted) version; returns its name."""
    corpus = load_corpus(settings) if corpus is None else corpus
    challenge = load_challenge(settings)
    report = validate_corpus(corpus)
    challenge_report = validate_challenge(challenge, corpus)
    problems = report.problems + challenge_report.problems
    if problems:
        listed = "\n".join(f"  {p}" for p in problems[:20])
        raise ValueError(f"the corpus has {len(problems)} problem(s); run `boundaryline validate-data`:\n{listed}")
    train, test = train_test_frames(corpus)
    log.info("training on %d messages, %d held out, %d in the challenge set", len(train), len(test), len(challenge))
    fit = fit_pipeline(train, seed=settings.seed, grid=grid)
    evaluation, plots = evaluate_model(
        fit.pipeline,
        train,
        test,
        challenge,
        thresholds=settings.thresholds,
        seed=settings.seed,
        baselines=baselines,
    )
    corpus_section = {
        "sha256": corpus_fingerprint(corpus, challenge),
        "rows": len(corpus),
        "challenge_rows": len(challenge),
        "counts": report.counts,
        "near_duplicates": report.near_duplicates,
    }
    return save_version(settings, fit, evaluation, plots, corpus_section, extra_manifest)


def save_version(
    settings: Settings,
    fit: FitResult,
    evaluation: dict[str, Any],
    plots: dict[str, bytes],
    corpus_section: dict[str, Any],
    extra_manifest: dict[str, Any] | None = None,
) -> str:
    """Write a new, unpromoted model version: joblib file, manifest, card, report, evaluation and plots."""
    manifest = {
        "created": registry.now_iso(),
        "labels": list(LABELS),
        "thresholds": settings.thresholds,
        "seed": settings.seed,
        "search": fit.search,
        "corpus": corpus_section,
        "metrics": {name: evaluation["model"][name] for name in ("test", "challenge")},
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
