"""The one model definition: normalise → TF-IDF → multinomial logistic regression."""

from __future__ import annotations

from typing import Any

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from boundaryline.features import build_features, normalise_texts


def build_pipeline(*, seed: int = 42, **params: Any) -> Pipeline:
    """A fresh, unfitted pipeline; ``params`` are ``step__param`` keys (e.g. ``clf__C=4``)."""
    pipeline = Pipeline(
        [
            ("normalise", FunctionTransformer(normalise_texts)),
            ("tfidf", build_features()),
            (
                "clf",
                # An intercept: with the real DMs' ordinary messages and the counterfactual copies in training,
                # it carries the prior that a message with no telling words is professional (v002 and earlier
                # had none, because then the short pick-up lines made it lean towards a proposition).
                LogisticRegression(C=3.0, class_weight="balanced", max_iter=5000, random_state=seed),
            ),
        ]
    )
    return pipeline.set_params(**params)
