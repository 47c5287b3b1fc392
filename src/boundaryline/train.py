"""Fit the pipeline on the training split, choose hyper-parameters by grouped CV, evaluate on every frozen
set beside the baselines, and save a versioned model."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from boundaryline import registry
from boundaryline.baselines import baselines as baseline_factories
from boundaryline.data import (
    corpus_csv,
    corpus_fingerprint,
    load_challenge,
    load_corpus,
    load_threads,
    train_test_frames,
    validate_challenge,
    validate_corpus,
)
from boundaryline.decision import decide
from boundaryline.evaluate import (
    classification_metrics,
    evaluate,
    evaluate_threads,
    format_report,
    headline,
    render_plots,
    set_names,
    training_data_line,
)
from boundaryline.external import load_real_mail, read_real_maildir
from boundaryline.features import word_vectoriser
from boundaryline.model import build_pipeline
from boundaryline.processes import worker_pool
from boundaryline.settings import LABELS, Settings

log = logging.getLogger(__name__)

CV_FOLDS = 5
# The search space, as scikit-learn's grid-search examples write it: estimators and values keyed by
# ``step__param``. What is not searched was measured and settled in docs/model-selection.md: function words
# count only in context, no character n-grams, sublinear tf, min_df 2, balanced class weights.
PARAM_GRID: dict[str, list[Any]] = {
    "tfidf__word": [word_vectoriser((1, 2)), word_vectoriser((1, 3))],
    "tfidf__char": ["drop"],
    "clf__C": [3.0, 10.0, 30.0],
}
# Weight of a training row by its source (1 when not listed). Pick-up lines are jokey openers to strangers,
# not a sample of the class: at full weight their ~1,300 short lines taught the model that any short message
# with unfamiliar words is a proposition (docs/model-selection.md). They stay for their vocabulary.
SOURCE_WEIGHTS: dict[str, float] = {"real-mail:pickup-line": 0.25}
# `train --quick` on a project with no model yet: one candidate.
QUICK_GRID: dict[str, list[Any]] = {"tfidf__word": [word_vectoriser((1, 2))], "tfidf__char": ["drop"], "clf__C": [10.0]}


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


def sample_weights(train: pd.DataFrame) -> list[float]:
    """Each training row's weight, from ``SOURCE_WEIGHTS``."""
    return [SOURCE_WEIGHTS.get(source, 1.0) for source in train["source"]]


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
    with worker_pool():
        search.fit(
            train["text"].tolist(),
            train["label"].tolist(),
            groups=train["scenario"].tolist(),
            clf__sample_weight=sample_weights(train),
        )
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
            "sample_weights": {source: w for source, w in SOURCE_WEIGHTS.items() if source in set(train["source"])},
            "candidates": [
                {"params": {k: describe(v) for k, v in p.items()}, "cv_macro_f1": float(s)} for p, s in ranked
            ],
        },
    )


@dataclass
class TrainingData:
    """What a model is fitted on (``train``), what it is judged by (``sets``, never trained on), and where
    every row came from (``provenance``, the manifest's ``corpus`` section)."""

    corpus: pd.DataFrame  # the authored corpus, as it will be saved beside the model
    train: pd.DataFrame
    sets: dict[str, pd.DataFrame]
    provenance: dict[str, Any]


THRESHOLD_STEPS = [round(0.30 + 0.05 * i, 2) for i in range(12)]  # 0.30 … 0.85


def choose_thresholds(
    pipeline: Pipeline, train: pd.DataFrame, *, target_flag_rate: float, n_jobs: int = -1
) -> dict[str, Any]:
    """Per-class thresholds chosen on out-of-fold probabilities (the same grouped folds as the search).

    Among the pairs that flag at most ``target_flag_rate`` of the professional training messages, the best
    out-of-fold macro-F1 is only known to within its standard error over the folds (about 0.01 here), and
    many pairs lie inside it: taking the single best let two nearly identical corpora pick (0.55, 0.45) and
    (0.65, 0.40). So, as in the one-standard-error rule, every pair within one standard error of the best
    is as good as the best, and the most conservative of them wins: the one that flags the fewest
    professional messages (a false accusation costs the reader more than a miss). Returns the thresholds
    and the out-of-fold figures with and without them."""
    folds = min(CV_FOLDS, train["scenario"].nunique())
    labels = train["label"].tolist()
    cv = GroupKFold(n_splits=folds)
    with worker_pool():
        proba = cross_val_predict(
            clone(pipeline),
            train["text"].tolist(),
            labels,
            groups=train["scenario"].tolist(),
            cv=cv,
            method="predict_proba",
            n_jobs=n_jobs,
            params={"clf__sample_weight": sample_weights(train)},
        )
    classes = [str(c) for c in pipeline.classes_]
    arg_max = classification_metrics(labels, decide(proba, classes, {}))
    summary = {k: arg_max[k] for k in ("macro_f1", "professional_flag_rate")}
    selection: dict[str, Any] = {
        "thresholds": {},
        "target_professional_flag_rate": target_flag_rate,
        "cv": f"GroupKFold({folds}) out-of-fold probabilities on the training rows",
        "rule": "fewest professional flags within one standard error of the best macro-F1",
        "arg_max": summary | {"recall": recalls(arg_max)},
        "chosen": None,
    }
    if arg_max["professional_flag_rate"] <= target_flag_rate:
        return selection  # the model's own arg-max already keeps to the cap
    allowed = []
    for pestering, proposition in product(THRESHOLD_STEPS, repeat=2):
        thresholds = {"pestering": pestering, "inappropriate_proposition": proposition}
        metrics = classification_metrics(labels, decide(proba, classes, thresholds))
        if metrics["professional_flag_rate"] <= target_flag_rate:
            allowed.append((thresholds, metrics))
    if not allowed:
        return selection
    best_thresholds, best = max(allowed, key=lambda pair: pair[1]["macro_f1"])
    tolerance = fold_standard_error(
        proba, labels, classes, best_thresholds, cv.split(labels, labels, train["scenario"])
    )
    candidates = [pair for pair in allowed if pair[1]["macro_f1"] >= best["macro_f1"] - tolerance]
    thresholds, chosen = min(candidates, key=lambda pair: (pair[1]["professional_flag_rate"], -pair[1]["macro_f1"]))
    selection["thresholds"] = thresholds
    selection["chosen"] = {k: chosen[k] for k in ("macro_f1", "professional_flag_rate")} | {
        "recall": recalls(chosen),
        "best_macro_f1": best["macro_f1"],
        "standard_error": tolerance,
        "candidates": len(candidates),
    }
    return selection


def recalls(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {label: values["recall"] for label, values in metrics["per_class"].items()}


def fold_standard_error(
    proba: np.ndarray,
    labels: Sequence[str],
    classes: Sequence[str],
    thresholds: Mapping[str, float],
    splits: Iterable[tuple[np.ndarray, np.ndarray]],
) -> float:
    """Standard error of macro-F1 over the folds' held-out parts, under ``thresholds``."""
    truth = np.asarray(labels)
    scores = [
        classification_metrics(truth[held].tolist(), decide(proba[held], classes, thresholds))["macro_f1"]
        for _, held in splits
    ]
    return float(np.std(scores, ddof=1) / np.sqrt(len(scores))) if len(scores) > 1 else 0.0


def training_data(settings: Settings, corpus: pd.DataFrame | None = None) -> TrainingData:
    """The authored corpus (validated) and, when ``data/external/real-mail`` is there, the real messages:
    their training split joins the authored one, their test split and the raw Maildir become frozen sets."""
    corpus = load_corpus(settings) if corpus is None else corpus
    challenge = load_challenge(settings)
    provenance = validated(corpus, challenge)
    train, test = train_test_frames(corpus)
    sets = {"test": test, "challenge": challenge}
    real = load_real_mail(settings)
    provenance["external"] = real.provenance() if real is not None else None
    if real is not None:
        train = pd.concat([train, real.split("train")], ignore_index=True)
        sets["real_test"] = real.split("test")
        maildir = read_real_maildir(settings)
        if maildir is not None:
            sets["real_maildir"] = maildir
    return TrainingData(corpus, train, sets, provenance)


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
{manifest["corpus"]["rows"]} authored labelled messages (train {counts["split"].get("train", 0)}, held-out test
{counts["split"].get("test", 0)} in whole scenarios never seen in training); a frozen challenge set of
{manifest["corpus"]["challenge_rows"]} hard messages. Corpus sha256 `{manifest["corpus"]["sha256"][:16]}…`.
{training_data_line(manifest["corpus"])}
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


def corpus_bytes(corpus: pd.DataFrame) -> bytes:
    """The corpus CSV, gzipped reproducibly (no timestamp), as a version folder keeps it."""
    return gzip.compress(corpus_csv(corpus).encode("utf-8"), mtime=0)


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
    data = training_data(settings, corpus)
    external = data.provenance["external"]
    log.info(
        "training on %d messages (%s); grid search with %d-fold grouped CV",
        len(data.train),
        "authored corpus only: no data/external/real-mail" if external is None else "authored + real mail",
        CV_FOLDS,
    )
    fit = fit_pipeline(data.train, seed=settings.seed, grid=grid)
    thresholds, selection = dict(settings.thresholds), None
    if not thresholds and settings.threshold_target_flag_rate is not None:
        log.info("choosing thresholds on out-of-fold predictions")
        selection = choose_thresholds(fit.pipeline, data.train, target_flag_rate=settings.threshold_target_flag_rate)
        thresholds = selection["thresholds"]
    log.info("evaluating on %s", ", ".join(f"{name} ({len(frame)})" for name, frame in data.sets.items()))
    evaluation, plots = evaluate_model(
        fit.pipeline, data.sets, thresholds=thresholds, train=data.train if baselines else None, seed=settings.seed
    )
    threads = load_threads(settings)
    if threads:
        evaluation["threads"] = evaluate_threads(fit.pipeline, threads, thresholds, settings)
    return save_version(
        settings, fit, evaluation, plots, data.provenance, {"threshold_selection": selection}, corpus=data.corpus
    )


def save_version(
    settings: Settings,
    fit: FitResult,
    evaluation: dict[str, Any],
    plots: Mapping[str, bytes],
    corpus_section: Mapping[str, Any],
    extra_manifest: Mapping[str, Any] | None = None,
    *,
    corpus: pd.DataFrame,
) -> str:
    """Write a new, unpromoted model version: joblib file, manifest, card, report, evaluation, plots, and the
    corpus it was trained on (what a rollback to it restores)."""
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
    evaluation.update(version=version, created=manifest["created"], data=manifest["corpus"])
    files: dict[str, str | bytes] = {
        "card.md": model_card({"version": version, **manifest}),
        "evaluation.json": json.dumps(evaluation, indent=2) + "\n",
        "report.md": format_report(evaluation),
        registry.CORPUS_SNAPSHOT: corpus_bytes(corpus),
        **plots,
    }
    return registry.save_model(fit.pipeline, manifest, settings.models_dir, extra_files=files, version=version)
