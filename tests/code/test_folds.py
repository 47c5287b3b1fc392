"""The grid search and the out-of-fold probabilities run their folds themselves (for a progress bar):
they must be scikit-learn's ``GridSearchCV`` and ``cross_val_predict``, number for number."""

import numpy as np
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_predict

from boundaryline.model import build_pipeline
from boundaryline.settings import Settings
from boundaryline.train import describe, fit_pipeline, out_of_fold, sample_weights, training_data

GRID = {"tfidf__word__ngram_range": [(1, 1), (1, 2)], "clf__C": [1.0, 10.0]}


def test_the_folds_are_scikit_learns(tiny_trained: Settings) -> None:
    train = training_data(tiny_trained, counterfactuals=False).train
    texts, labels, groups = train["text"].tolist(), train["label"].tolist(), train["scenario"].tolist()
    folds = min(5, train["scenario"].nunique())
    fit = fit_pipeline(train, seed=42, grid=GRID, n_jobs=1)
    search = GridSearchCV(build_pipeline(seed=42), GRID, cv=GroupKFold(n_splits=folds), scoring="f1_macro")
    search.fit(texts, labels, groups=groups, clf__sample_weight=sample_weights(train))
    ours = {str(c["params"]): c["cv_macro_f1"] for c in fit.search["candidates"]}
    theirs = {
        str({k: describe(v) for k, v in p.items()}): s
        for p, s in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True)
    }
    assert ours.keys() == theirs.keys() and len(ours) == 4
    assert all(np.isclose(ours[key], score) for key, score in theirs.items())
    assert np.allclose(fit.pipeline.predict_proba(texts), search.best_estimator_.predict_proba(texts))

    oof = out_of_fold(fit.pipeline, train, n_jobs=1)
    expected = cross_val_predict(
        build_pipeline(seed=42).set_params(**search.best_params_), texts, labels, groups=groups,
        cv=GroupKFold(n_splits=folds), method="predict_proba", params={"clf__sample_weight": sample_weights(train)},
    )  # fmt: skip
    assert oof.classes == sorted(set(labels)) and np.allclose(oof.proba, expected)
