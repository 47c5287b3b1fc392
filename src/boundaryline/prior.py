"""Retraining from the model in service when the data it learned from is not all here.

A clone without ``../shared`` holds the authored corpus and the committed model versions, not the real mail
and DMs the model in service was trained on (private messages never enter the repository). Refitting on what
is here would forget them. Instead the candidate starts from the model in service and moves only as far as
the new rows ask:

    minimise  C · [L_new(w) + L_here(w) − L_here(w₀) − ⟨∇L_here(w₀), w − w₀⟩] + ½‖W − W₀‖²

where ``L`` is the weighted multinomial log-loss the pipeline's logistic regression minimises, ``w₀`` the
model in service's coefficients and intercepts, ``L_here`` the loss on the training rows that are here, and
``L_new`` the loss on the new rows. The bracket is the Bregman divergence of ``L_here``: its curvature keeps
what the rows here say, its linear term cancels their pull away from ``w₀`` (they were fitted together with
the missing rows, which pulled the other way). With no new row the optimum is ``w₀`` itself; the missing
rows' own curvature is approximated by the penalty's (an identity Hessian, as in a Laplace approximation).
The vocabulary and idf weights are the model in service's: a word it never saw cannot be learnt this way.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.sparse import csr_matrix
from sklearn.pipeline import Pipeline


def _loss_and_gradient(
    coef: np.ndarray, intercept: np.ndarray, x: csr_matrix, y: np.ndarray, weight: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The weighted multinomial log-loss and its gradient in the coefficients and intercepts."""
    logits = np.asarray(x @ coef.T) + intercept
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -float(weight @ log_p[rows, y])
    residual = np.exp(log_p)
    residual[rows, y] -= 1.0
    residual *= weight[:, None]
    return loss, np.asarray((x.T @ residual).T), residual.sum(axis=0)


def refit_from(
    pipeline: Pipeline,
    here: pd.DataFrame,
    new: pd.DataFrame,
    *,
    weights_here: np.ndarray,
    weights_new: np.ndarray,
    max_iter: int = 500,
) -> tuple[Pipeline, dict[str, Any]]:
    """A copy of ``pipeline`` (normalise → TF-IDF → logistic regression, fitted) whose regression is refitted
    with the objective of the module's docstring; and what the fit did (iterations, how far it moved)."""
    features, regression = pipeline[:-1], pipeline[-1]
    classes = list(regression.classes_)
    x_here = csr_matrix(features.transform(here["text"].tolist()))
    x_new = csr_matrix(features.transform(new["text"].tolist())) if len(new) else x_here[:0]
    y_here = np.array([classes.index(label) for label in here["label"]], dtype=int)
    y_new = np.array([classes.index(label) for label in new["label"]], dtype=int)
    # class_weight="balanced", over every row the fit sees, as scikit-learn computes it
    counts = np.bincount(np.concatenate([y_here, y_new]), minlength=len(classes))
    balance = counts.sum() / (len(classes) * np.maximum(counts, 1))
    w_here, w_new = weights_here * balance[y_here], weights_new * balance[y_new]
    coef0, intercept0 = regression.coef_.copy(), regression.intercept_.copy()
    strength = float(regression.C)
    _, grad_coef0, grad_intercept0 = _loss_and_gradient(coef0, intercept0, x_here, y_here, w_here)
    shape = coef0.shape

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        coef, intercept = theta[: coef0.size].reshape(shape), theta[coef0.size :]
        loss_new, g_coef_new, g_int_new = _loss_and_gradient(coef, intercept, x_new, y_new, w_new)
        loss_here, g_coef_here, g_int_here = _loss_and_gradient(coef, intercept, x_here, y_here, w_here)
        linear = float((grad_coef0 * (coef - coef0)).sum() + grad_intercept0 @ (intercept - intercept0))
        value = strength * (loss_new + loss_here - linear) + 0.5 * float(((coef - coef0) ** 2).sum())
        g_coef = strength * (g_coef_new + g_coef_here - grad_coef0) + (coef - coef0)
        g_int = strength * (g_int_new + g_int_here - grad_intercept0)
        return value, np.concatenate([g_coef.ravel(), g_int])

    start = np.concatenate([coef0.ravel(), intercept0])
    found = minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    refitted = copy.deepcopy(regression)
    refitted.coef_ = found.x[: coef0.size].reshape(shape)
    refitted.intercept_ = found.x[coef0.size :]
    moved = np.abs(found.x - start)
    fit = {
        "route": "refit from the model in service (prior)",
        "iterations": int(found.nit),
        "converged": bool(found.success),
        "largest_change": float(moved.max()) if moved.size else 0.0,
        "rows_here": len(here),
        "rows_new": len(new),
    }
    return Pipeline([*pipeline.steps[:-1], (pipeline.steps[-1][0], refitted)]), fit
