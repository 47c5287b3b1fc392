"""Metrics, baselines and plots: the evidence written next to every model.

``evaluate_predictions`` is the one place metrics are computed, for the model and the baselines alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
)

from boundaryline.predict import Scorer, decide
from boundaryline.registry import current_version
from boundaryline.settings import CONCERN_LABELS, LABELS

ProbaFn = Callable[[Sequence[str]], np.ndarray]
CALIBRATION_BINS = 10


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """One class's ECE: the bin-weighted gap between predicted probability and observed frequency."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(proba[mask].mean() - y_true[mask].mean())
    return float(error)


def classification_metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Per-class precision/recall/F1/support, macro-F1, accuracy and the confusion matrix."""
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(LABELS), zero_division=0
    )
    per_class = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(LABELS, precision, recall, f1, support, strict=True)
    }
    truth_arr, pred_arr = np.asarray(truth), np.asarray(predicted)
    return {
        "n": len(truth_arr),
        "accuracy": float((truth_arr == pred_arr).mean()) if len(truth_arr) else 0.0,
        "macro_f1": float(f1_score(truth, predicted, labels=list(LABELS), average="macro", zero_division=0)),
        "per_class": per_class,
        "confusion": {
            "labels": list(LABELS),
            "matrix": confusion_matrix(truth, predicted, labels=list(LABELS)).tolist(),
        },
        # Of the messages that are professional, the share a user would see flagged.
        "professional_flag_rate": float(np.isin(pred_arr[truth_arr == "professional"], CONCERN_LABELS).mean())
        if (truth_arr == "professional").any()
        else 0.0,
    }


def calibration_metrics(truth: Sequence[str], proba: np.ndarray) -> dict[str, Any]:
    """Brier score and ECE per class (one-vs-rest)."""
    out: dict[str, Any] = {}
    truth_arr = np.asarray(truth)
    for k, label in enumerate(LABELS):
        y = (truth_arr == label).astype(float)
        out[label] = {
            "brier": float(brier_score_loss(y, proba[:, k])),
            "ece": expected_calibration_error(y, proba[:, k]),
        }
    return out


def evaluate_predictions(
    frame: pd.DataFrame,
    proba: np.ndarray,
    *,
    thresholds: dict[str, float] | None = None,
    slices: Sequence[str] = ("channel",),
) -> dict[str, Any]:
    """All metrics for one set of probabilities (columns in ``LABELS`` order) on ``frame``."""
    predicted = decide(proba, list(LABELS), thresholds or {})
    truth = frame["label"].tolist()
    result = classification_metrics(truth, predicted)
    result["calibration"] = calibration_metrics(truth, proba)
    result["slices"] = {}
    for column in slices:
        if column not in frame.columns:
            continue
        result["slices"][column] = {
            str(value): {
                "n": int(mask.sum()),
                "accuracy": float((np.asarray(predicted)[mask] == np.asarray(truth)[mask]).mean()),
                "macro_f1": float(
                    f1_score(
                        np.asarray(truth)[mask],
                        np.asarray(predicted)[mask],
                        labels=list(LABELS),
                        average="macro",
                        zero_division=0,
                    )
                ),
            }
            for value in sorted(frame[column].unique())
            for mask in [(frame[column] == value).to_numpy()]
        }
    return result


def timed_proba(predict_proba: ProbaFn, texts: Sequence[str]) -> tuple[np.ndarray, float]:
    """Probabilities and the messages per second it took to get them."""
    start = time.perf_counter()
    proba = np.asarray(predict_proba(list(texts)))
    elapsed = time.perf_counter() - start
    return proba, len(texts) / elapsed if elapsed > 0 else float("inf")


def render_plots(results: dict[str, tuple[pd.DataFrame, np.ndarray, dict[str, Any]]]) -> dict[str, bytes]:
    """Per evaluated set, one PNG: confusion matrix, per-class precision–recall and calibration curves."""
    import io

    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    images = {}
    for name, (frame, proba, metrics) in results.items():
        truth = frame["label"].to_numpy()
        fig, axes = plt.subplots(1, 3, figsize=(17, 5))
        matrix = np.array(metrics["confusion"]["matrix"])
        axes[0].imshow(matrix, cmap="Blues")
        axes[0].set_xticks(range(len(LABELS)), [lbl[:12] for lbl in LABELS], rotation=20)
        axes[0].set_yticks(range(len(LABELS)), [lbl[:12] for lbl in LABELS])
        axes[0].set_xlabel("predicted")
        axes[0].set_ylabel("true")
        axes[0].set_title(f"{name}: confusion (macro-F1 {metrics['macro_f1']:.3f})")
        for (i, j), value in np.ndenumerate(matrix):
            colour = "white" if value > matrix.max() / 2 else "black"
            axes[0].text(j, i, str(value), ha="center", va="center", color=colour)
        for k, label in enumerate(LABELS):
            precision, recall, _ = precision_recall_curve(truth == label, proba[:, k])
            axes[1].plot(recall, precision, label=label)
            edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
            which = np.clip(np.digitize(proba[:, k], edges[1:-1]), 0, CALIBRATION_BINS - 1)
            centres = [proba[which == b, k].mean() for b in range(CALIBRATION_BINS) if (which == b).any()]
            observed = [(truth[which == b] == label).mean() for b in range(CALIBRATION_BINS) if (which == b).any()]
            axes[2].plot(centres, observed, marker="o", label=label)
        axes[1].set(
            xlabel="recall",
            ylabel="precision",
            title=f"{name}: precision–recall",
            xlim=(0, 1),
            ylim=(0, 1.02),
        )
        axes[1].legend(loc="lower left")
        axes[2].plot([0, 1], [0, 1], linestyle="--", color="grey")
        axes[2].set(xlabel="predicted probability", ylabel="observed frequency", title=f"{name}: calibration")
        axes[2].legend(loc="upper left")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
        plt.close(fig)
        images[f"plots/{name}.png"] = buffer.getvalue()
    return images


def format_report(evaluation: dict[str, Any]) -> str:
    """A Markdown summary of an evaluation: the model beside the baselines, then per-class detail."""
    lines = ["# Evaluation", "", f"Model {evaluation['version']}, created {evaluation['created']}.", ""]
    for split in ("test", "challenge"):
        lines += [
            f"## {split} ({evaluation['model'][split]['n']} messages)",
            "",
            "| model | macro-F1 | accuracy | recall professional | recall pestering | recall proposition "
            "| professional flagged | messages/s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        rows = {"boundaryline (TF-IDF + LR)": evaluation["model"]} | evaluation["baselines"]
        for name, entry in rows.items():
            if "error" in entry:
                lines.append(f"| {name} | not run: {entry['error']} | | | | | | |")
                continue
            m = entry[split]
            pc = m["per_class"]
            lines.append(
                f"| {name} | {m['macro_f1']:.3f} | {m['accuracy']:.3f} | {pc['professional']['recall']:.3f} "
                f"| {pc['pestering']['recall']:.3f} | {pc['inappropriate_proposition']['recall']:.3f} "
                f"| {m['professional_flag_rate']:.3f} | {entry['messages_per_second'][split]:,.0f} |"
            )
        m = evaluation["model"][split]
        lines += [
            "",
            "| class | precision | recall | F1 | support | Brier | ECE |",
            "|---|---|---|---|---|---|---|",
        ]
        for label in LABELS:
            c, cal = m["per_class"][label], m["calibration"][label]
            lines.append(
                f"| {label} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} "
                f"| {cal['brier']:.3f} | {cal['ece']:.3f} |"
            )
        lines += ["", "Confusion (rows true, columns predicted; " + ", ".join(LABELS) + "):", ""]
        lines += ["    " + " ".join(f"{v:5d}" for v in row) for row in m["confusion"]["matrix"]]
        for column, values in m["slices"].items():
            lines += [
                "",
                f"Accuracy by {column}: "
                + "; ".join(f"{k} {v['accuracy']:.2f} (n={v['n']})" for k, v in values.items()),
            ]
        lines.append("")
    return "\n".join(lines)


def load_evaluation(models_dir: Path, version: str | None = None) -> dict[str, Any]:
    """The ``evaluation.json`` written next to a model version (default: the one in service)."""
    version = version or current_version(models_dir)
    if version is None:
        raise FileNotFoundError(f"{models_dir}: no current model")
    return dict(json.loads((models_dir / version / "evaluation.json").read_text(encoding="utf-8")))


def misclassified(scorer: Scorer, frame: pd.DataFrame, top_k: int = 6) -> pd.DataFrame:
    """The rows of ``frame`` the scorer gets wrong, with its probabilities and the terms behind its label."""
    scores = scorer.score(frame["text"].tolist(), explain=True, top_k=top_k)
    rows = []
    for (_, row), score in zip(frame.iterrows(), scores, strict=True):
        if score.label != row["label"]:
            rows.append(
                {
                    "id": row["id"],
                    "true": row["label"],
                    "predicted": score.label,
                    "p_predicted": round(score.scores[score.label], 3),
                    "p_true": round(score.scores[row["label"]], 3),
                    "because of": ", ".join(f"{c.term} ({c.weight:+.2f})" for c in score.explanation or []),
                    "text": row["text"],
                }
            )
    return pd.DataFrame(rows, columns=["id", "true", "predicted", "p_predicted", "p_true", "because of", "text"])
