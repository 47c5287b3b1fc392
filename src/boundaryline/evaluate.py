"""Metrics, plots and reports: the evidence written next to every model, and the gate between two models.

``evaluate`` is the one path: any estimator with ``predict_proba`` and ``classes_`` (the pipeline, a
baseline, the model in service) on every frozen set, labelled through ``decide`` under given thresholds.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.calibration import CalibrationDisplay, calibration_curve
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from boundaryline.decision import decide
from boundaryline.inbox import Message
from boundaryline.owner import Owner, OwnerEvidence, decide_owner
from boundaryline.predict import Scorer
from boundaryline.registry import current_version
from boundaryline.scoring.history import Cues, history_verdicts
from boundaryline.settings import CONCERN_LABELS, LABELS, Settings
from boundaryline.text import normalise_texts

CALIBRATION_BINS = 10
SLICE_COLUMNS = ("channel", "hard", "edge", "kind", "export")
STRONGEST_TERMS = 25


class Classifier(Protocol):
    classes_: np.ndarray

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """One class's ECE: the bin-weighted gap between predicted probability and observed frequency."""
    observed, predicted = calibration_curve(y_true, proba, n_bins=bins)
    counts = np.bincount(np.searchsorted(np.linspace(0.0, 1.0, bins + 1)[1:-1], proba), minlength=bins)
    counts = counts[counts > 0]
    return float(np.sum(counts / len(proba) * np.abs(observed - predicted)))


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
    present = [label for label in LABELS if (truth_arr == label).any()] or list(LABELS)
    return {
        "n": len(truth_arr),
        "accuracy": float((truth_arr == pred_arr).mean()) if len(truth_arr) else 0.0,
        # Over the classes the set holds: a set with no pestering (real mail) is not marked down for it,
        # while a message wrongly called pestering still costs its true class its recall.
        "macro_f1": float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)),
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
    truth_arr = np.asarray(truth)
    out: dict[str, Any] = {}
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
    thresholds: Mapping[str, float] | None = None,
    slices: Sequence[str] = SLICE_COLUMNS,
) -> dict[str, Any]:
    """All metrics for one set of probabilities (columns in ``LABELS`` order) on ``frame``."""
    predicted = np.asarray(decide(proba, list(LABELS), thresholds or {}))
    truth = frame["label"].to_numpy()
    result = classification_metrics(truth.tolist(), predicted.tolist())
    result["calibration"] = calibration_metrics(truth.tolist(), proba)
    result["slices"] = {}
    for column in (c for c in slices if c in frame.columns):
        result["slices"][column] = {}
        for value in sorted(frame[column].unique()):
            mask = (frame[column] == value).to_numpy()
            result["slices"][column][str(value)] = {
                "n": int(mask.sum()),
                "accuracy": float((predicted[mask] == truth[mask]).mean()),
                "macro_f1": classification_metrics(truth[mask].tolist(), predicted[mask].tolist())["macro_f1"],
            }
    return result


def timed_proba(predict_proba: Callable[[list[str]], np.ndarray], texts: Sequence[str]) -> tuple[np.ndarray, float]:
    """Probabilities and the messages per second it took to get them."""
    start = time.perf_counter()
    proba = np.asarray(predict_proba(list(texts)))
    elapsed = time.perf_counter() - start
    return proba, len(texts) / elapsed if elapsed > 0 else float("inf")


def evaluate(
    model: Classifier, sets: Mapping[str, pd.DataFrame], thresholds: Mapping[str, float] | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Metrics of ``model`` on every set (and its messages/s), plus the probabilities (``LABELS`` order) for plots."""
    order = [list(model.classes_).index(label) for label in LABELS]
    metrics: dict[str, Any] = {"messages_per_second": {}}
    probabilities = {}
    for name, frame in sets.items():
        proba, speed = timed_proba(model.predict_proba, frame["text"].tolist())
        probabilities[name] = proba[:, order]
        metrics[name] = evaluate_predictions(frame, probabilities[name], thresholds=thresholds)
        metrics["messages_per_second"][name] = speed
    return metrics, probabilities


def set_names(metrics: Mapping[str, Any]) -> list[str]:
    """The evaluated sets in a metrics entry (the keys holding a set's metrics, not the speeds or thresholds)."""
    return [name for name, value in metrics.items() if isinstance(value, Mapping) and "macro_f1" in value]


def gate(candidate: Mapping[str, Any], in_service: Mapping[str, Any], settings: Settings) -> list[str]:
    """Why the candidate is worse than the model in service on the sets both were evaluated on (empty: it
    may be promoted). Both must have been evaluated under the same thresholds."""
    reasons = []
    for name in (n for n in set_names(in_service) if n in candidate):
        new, old = candidate[name], in_service[name]
        drop = old["macro_f1"] - new["macro_f1"]
        if drop > settings.gate_macro_f1_tolerance:
            reasons.append(
                f"{name}: macro-F1 {new['macro_f1']:.3f} vs {old['macro_f1']:.3f} in service"
                f" (down {drop:.3f} > tolerance {settings.gate_macro_f1_tolerance})"
            )
        for label in LABELS:
            new_recall, old_recall = new["per_class"][label]["recall"], old["per_class"][label]["recall"]
            if old_recall - new_recall > settings.gate_recall_tolerance:
                reasons.append(
                    f"{name}: recall of {label} {new_recall:.3f} vs {old_recall:.3f} in service"
                    f" (down {old_recall - new_recall:.3f} > tolerance {settings.gate_recall_tolerance})"
                )
        rise = new["professional_flag_rate"] - old["professional_flag_rate"]
        if name.startswith("real") and rise > settings.gate_real_flag_tolerance:
            reasons.append(
                f"{name}: flags {new['professional_flag_rate']:.1%} of its real professional messages vs"
                f" {old['professional_flag_rate']:.1%} in service (up {rise:.1%} > tolerance"
                f" {settings.gate_real_flag_tolerance:.1%})"
            )
    return reasons


def headline(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The figures every table shows for one set; NaN (shown "–") for a class the set has no message of."""
    per_class = metrics["per_class"]
    recall = {label: per_class[label]["recall"] if per_class[label]["support"] else float("nan") for label in LABELS}
    return {
        "macro-F1": metrics["macro_f1"],
        "accuracy": metrics["accuracy"],
        "recall professional": recall["professional"],
        "recall pestering": recall["pestering"],
        "recall proposition": recall["inappropriate_proposition"],
        "professional flagged": metrics["professional_flag_rate"]
        if per_class["professional"]["support"]
        else float("nan"),
    }


def markdown(table: pd.DataFrame, **kwargs: Any) -> str:
    """A table in Markdown, figures to 3 places and "–" where there is none (a class absent from a set)."""

    def cell(value: Any) -> Any:
        if isinstance(value, float):
            return "–" if np.isnan(value) else f"{value:.3f}"
        return value

    return str(table.map(cell).to_markdown(**kwargs))


def side_by_side(columns: Mapping[str, Mapping[str, Any]]) -> str:
    """A Markdown table of the headline figures of several models (columns) on every set they share."""
    names = [n for n in set_names(next(iter(columns.values()))) if all(n in m for m in columns.values())]
    table = pd.DataFrame(
        {title: {(name, k): v for name in names for k, v in headline(m[name]).items()} for title, m in columns.items()}
    )
    table.index.names = ["set", "metric"]
    return markdown(table.reset_index(), index=False)


def render_plots(
    sets: Mapping[str, pd.DataFrame],
    probabilities: Mapping[str, np.ndarray],
    metrics: Mapping[str, Any],
    thresholds: Mapping[str, float],
) -> dict[str, bytes]:
    """Per evaluated set, one PNG: confusion matrix, per-class precision–recall and reliability curves."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    images = {}
    for name, frame in sets.items():
        truth, proba = frame["label"].to_numpy(), probabilities[name]
        fig, axes = plt.subplots(1, 3, figsize=(17, 5))
        ConfusionMatrixDisplay.from_predictions(
            truth,
            decide(proba, list(LABELS), thresholds),
            labels=list(LABELS),
            display_labels=[label[:12] for label in LABELS],
            ax=axes[0],
            colorbar=False,
            cmap="Blues",
        )
        axes[0].set_title(f"{name}: confusion (macro-F1 {metrics[name]['macro_f1']:.3f})")
        for k, label in enumerate(LABELS):
            if (truth == label).any():
                PrecisionRecallDisplay.from_predictions(truth == label, proba[:, k], ax=axes[1], name=label)
                CalibrationDisplay.from_predictions(
                    truth == label, proba[:, k], n_bins=CALIBRATION_BINS, ax=axes[2], name=label
                )
        axes[1].set(title=f"{name}: precision–recall", xlim=(0, 1), ylim=(0, 1.02))
        axes[2].set(title=f"{name}: reliability")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
        plt.close(fig)
        images[f"plots/{name}.png"] = buffer.getvalue()
    return images


def strongest_terms(
    pipeline: Any,
    references: Mapping[str, Sequence[str]],
    public: Sequence[str],
    top: int = STRONGEST_TERMS,
) -> dict[str, Any]:
    """For each concern class, its ``top`` word terms by how far they push it above ``professional``, each
    with its document frequency in every reference set of real professional text: a term that is common there
    and strongly weighted flags ordinary messages, and is a defect of the training data.

    Only terms found in ``public`` text (the corpus and the public real mail) are named: a term learned from the
    private real DMs alone (a correspondent's name) is counted in ``private_above``, never written out."""
    word = dict(pipeline.named_steps["tfidf"].transformer_list)["word"]
    coef = pipeline.named_steps["clf"].coef_
    classes = [str(c) for c in pipeline.classes_]
    names = word.get_feature_names_out()
    counts = {name: word.transform(normalise_texts(texts)) > 0 for name, texts in references.items() if texts}
    named = np.asarray((word.transform(normalise_texts(public)) > 0).sum(axis=0)).ravel() > 0
    professional = coef[classes.index("professional"), : len(names)]
    table: dict[str, Any] = {"terms": {}, "private_above": {}}
    for label in CONCERN_LABELS:
        push = coef[classes.index(label), : len(names)] - professional
        order = np.argsort(-push)
        places = np.flatnonzero(named[order])[:top]  # the ranks of the terms that may be named
        shown = order[places]
        table["private_above"][label] = int(places[-1] + 1 - len(places)) if len(places) else 0
        table["terms"][label] = [
            {"term": str(names[j]), "push": float(push[j])}
            | {f"df {name}": float(matrix[:, j].mean()) for name, matrix in counts.items()}
            for j in shown
        ]
    return table


def trade_off_table(selection: Mapping[str, Any]) -> str:
    """The thresholds' trade-off curve as a Markdown table: the pairs on its front (none flags fewer real
    professional DMs with more concern recall) and the chosen one, marked."""
    curve = pd.DataFrame(selection["curve"])
    curve["pestering"] = [t["pestering"] for t in curve["thresholds"]]
    curve["proposition"] = [t["inappropriate_proposition"] for t in curve["thresholds"]]
    curve["real_opener_recall"] = [
        f.get("real-mail inappropriate_proposition") for f in curve.get("floor", [{}] * len(curve))
    ]
    curve = curve.sort_values(["real_dm_flag_rate", "concern_recall"], ascending=[True, False])
    chosen = selection.get("thresholds") or {}
    is_chosen = pd.Series([t == chosen for t in curve["thresholds"]], index=curve.index)
    front = curve[(curve["concern_recall"] > curve["concern_recall"].cummax().shift(fill_value=-1.0)) | is_chosen]
    front = front.assign(chosen=is_chosen[front.index])
    columns = [
        "pestering", "proposition", "real_dm_flag_rate", "real_dm_concern_recall", "professional_flag_rate",
        "concern_recall", "real_opener_recall", "macro_f1", "chosen",
    ]  # fmt: skip
    return str(front[columns].to_markdown(index=False, floatfmt=".3f"))


def format_report(evaluation: Mapping[str, Any]) -> str:
    """A Markdown summary of an evaluation: the model beside the baselines on every set, then per-class detail."""
    lines = ["# Evaluation", "", f"Model {evaluation['version']}, created {evaluation['created']}.", ""]
    lines += [training_data_line(evaluation.get("data")), ""]
    thresholds = evaluation["model"].get("thresholds") or {}
    lines += [f"Thresholds: {json.dumps(thresholds) if thresholds else 'arg-max'}.", ""]
    entries = {"boundaryline (TF-IDF + LR)": evaluation["model"]} | dict(evaluation.get("baselines", {}))
    if evaluation.get("threads"):
        threads = evaluation["threads"]
        lines += [
            f"## threads ({threads['text_only']['n']} conversations: the last message judged with its history)",
            "",
            threads_table(threads),
            "",
        ]
    if evaluation.get("real_dm_conversations"):
        found = evaluation["real_dm_conversations"]
        lines += [
            f"## real DM conversations ({found['conversations']} conversations of the real-DM test exports,"
            f" {found['with_history']['n']} labelled messages received: judged with their history)",
            "",
            real_conversations_table(found),
            "",
        ]
    for name in set_names(evaluation["model"]):
        metrics = evaluation["model"][name]
        lines += [f"## {name} ({metrics['n']} messages)", ""]
        rows: dict[str, dict[str, Any]] = {}
        for model, entry in entries.items():
            if "error" in entry:
                rows[model] = {"macro-F1": f"not run: {entry['error']}"}
            elif name in entry:
                rows[model] = headline(entry[name]) | {"messages/s": f"{entry['messages_per_second'][name]:,.0f}"}
        lines += [markdown(pd.DataFrame(rows).T.rename_axis("model")), ""]
        detail = pd.DataFrame(
            {label: metrics["per_class"][label] | metrics["calibration"][label] for label in LABELS}
        ).T.rename_axis("class")
        lines += [detail.to_markdown(floatfmt=".3f"), ""]
        confusion = pd.DataFrame(metrics["confusion"]["matrix"], index=list(LABELS), columns=list(LABELS))
        lines += ["Confusion (rows true, columns predicted):", "", confusion.to_markdown(), ""]
        for column, values in metrics["slices"].items():
            shown = "; ".join(f"{k} {v['accuracy']:.2f} (n={v['n']})" for k, v in values.items())
            lines += [f"Accuracy by {column}: {shown}", ""]
    selection = evaluation.get("threshold_selection")
    if selection and selection.get("curve"):
        lines += [
            "## Thresholds: the trade-off",
            "",
            f"Out-of-fold predictions on the training rows ({selection['cv']}); rule: {selection['rule']}; caps:"
            f" {selection['target_professional_flag_rate']} of professional messages,"
            f" {selection.get('target_real_dm_flag_rate')} of real professional DMs, recall floor"
            f" {selection.get('min_concern_recall')} per concern class. The front of the curve"
            " (no pair flags fewer real professional DMs and finds more concerns), and the chosen pair:",
            "",
            trade_off_table(selection),
            "",
        ]
    terms = evaluation.get("terms") or {}
    for label, rows in terms.get("terms", {}).items():
        lines += [
            f"## Strongest terms for {label}",
            "",
            "Push: the term's weight for the class less its weight for professional. df: the share of real"
            " professional messages holding the term. Terms learned from the private real DMs alone are not named"
            f" ({terms['private_above'][label]} of them rank among these).",
            "",
            pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"),
            "",
        ]
    return "\n".join(lines)


INHERITED_NAMES = {"external": "real-mail", "real_dm": "real-DM"}


def _training_data(provenance: Mapping[str, Any] | None) -> str:
    if not provenance:
        return "Training data: not recorded."
    counts = provenance["counts"]["split"]
    line = f"Training data: the authored corpus ({counts.get('train', 0)} training rows of {provenance['rows']})"
    external = provenance.get("external")
    if not external:
        return line + "; no external data (data/external/real-mail was not there), so no real-mail sets."
    rows = pd.DataFrame(external["rows_by"])
    by_kind = rows[rows["split"] == "train"].groupby("kind")["rows"].sum()
    files = ", ".join(f"`{path}` (sha256 {digest[:12]}…)" for path, digest in external["files"].items())
    line += (
        " and real mail from " + files + ": "
        + ", ".join(f"{n} {kind}" for kind, n in by_kind.items()) + " training rows"
    )  # fmt: skip
    dms = provenance.get("real_dm")
    if not dms:
        return line + "; no real DMs (data/external/real-dm was not there), so no real-DM set."
    train_rows = sum(r["rows"] for r in dms["rows_by"] if r["split"] == "train")
    return (
        f"{line}; and real DMs from {', '.join(f'`{path}`' for path in dms['files'])}: {train_rows} labelled"
        f" training rows of {dms['exports'].get('train', 0)} exports and {dms['pool_rows']} unread ones; the"
        f" exports {', '.join(dms['test_exports'])} are the real-DM test set"
    )


def training_data_line(provenance: Mapping[str, Any] | None) -> str:
    """One sentence naming what a model was trained on: the authored corpus and which external files (and,
    for a retrain without them, that it inherited what they taught)."""
    line = _training_data(provenance)
    inherited = (provenance or {}).get("inherited")
    if inherited:  # a retrain without ../shared: the rows were not here, the weights learnt from them were
        line += (
            f". The {' and '.join(INHERITED_NAMES.get(k, k) for k in inherited['sources'])} rows were not there when this version was made: it starts"
            f" from {inherited['from']}'s weights (which learnt from them) and moved towards the new rows only"
        )
    return line


# ----- the frozen thread set, as one export of each shape

SHAPES = ("mail", "linkedin", "whatsapp")
OWNER_OF_SHAPE = {"mail": "me@example.com", "linkedin": "Ana Lima", "whatsapp": "Jo Park"}
CHANNEL_OF_SHAPE = {"mail": "email", "linkedin": "linkedin_dm", "whatsapp": "text_message"}
LIST_ADDRESS = "dev@lists.example.org"


def in_shape(thread: Mapping[str, Any], shape: str) -> bool:
    """Whether the shape can hold the thread: only mail has mailing lists."""
    return thread.get("relay") != "list" or shape == "mail"


def as_export(threads: Sequence[Mapping[str, Any]], shape: str) -> tuple[list[Message], list[int]]:
    """Every thread of ``threads`` the shape can hold, as the messages of one export of that shape (a person
    of their own per thread, no owner named anywhere but in the messages), and where each thread's last
    message is in that list."""
    owner, channel = OWNER_OF_SHAPE[shape], CHANNEL_OF_SHAPE[shape]
    messages: list[Message] = []
    last: list[int] = []
    for number, thread in enumerate(threads):
        if not in_shape(thread, shape):
            continue
        person = f"person{number}@example.org" if shape == "mail" else f"Person {number}"
        conversation = {"mail": f"th-{number}@example.org", "linkedin": f"c{number}",
                        "whatsapp": f"WhatsApp Chat with {person}"}[shape]  # fmt: skip
        sender = person
        if thread.get("sender") == "anonymous" and shape != "whatsapp":  # a chat file always names its writers
            sender = "LinkedIn Member" if shape == "linkedin" else ""
        listed = thread.get("relay") == "list"
        for n, event in enumerate([*thread["history"], {**thread["message"], "direction": "incoming"}]):
            outgoing = event["direction"] == "outgoing"
            to = LIST_ADDRESS if listed else (sender or person) if outgoing else owner
            messages.append(
                Message(
                    id=f"{thread['id']}:{n}",
                    text=event.get("text", ""),
                    source=f"threads/{shape}",
                    sender=owner if outgoing else sender,
                    recipients=to,
                    date=datetime.fromisoformat(event["time"]),
                    thread=conversation,
                    channel=channel,
                    mailing_list=LIST_ADDRESS if listed and not outgoing else None,
                )
            )
        last.append(len(messages) - 1)
    return messages, last


def evaluate_threads(
    model: Classifier, threads: Sequence[Mapping[str, Any]], thresholds: Mapping[str, float], settings: Settings
) -> dict[str, Any]:
    """The last message of each frozen thread labelled by its text alone, and by its text with the history as
    a batch run finds it in an export of each shape (``as_export``: the owner decided from the
    export, turns, runs), against the label the guide gives it; overall and by kind of conversation.
    ``with_history`` is the mail shape (every kind); ``by_shape`` has each shape and who it took for the owner."""
    texts = [t["message"]["text"] for t in threads]
    order = [list(model.classes_).index(label) for label in LABELS]
    text_labels = decide(np.asarray(model.predict_proba(texts))[:, order], list(LABELS), thresholds)
    kept_threads = {shape: [t for t in threads if in_shape(t, shape)] for shape in SHAPES}

    def figures(chosen: Sequence[Mapping[str, Any]], predicted: list[str]) -> dict[str, Any]:
        expected, kinds = [t["expected"] for t in chosen], np.asarray([t["kind"] for t in chosen])
        metrics = classification_metrics(expected, predicted)
        hits = np.asarray(predicted) == np.asarray(expected)
        by_kind = {k: float(hits[kinds == k].mean()) for k in dict.fromkeys(kinds.tolist())}
        return {k: metrics[k] for k in ("n", "accuracy", "macro_f1", "per_class", "professional_flag_rate")} | {
            "accuracy_by_kind": by_kind
        }

    label_of = {t["id"]: label for t, label in zip(threads, text_labels, strict=True)}
    by_shape = {}
    for shape, chosen in kept_threads.items():
        messages, last = as_export(chosen, shape)
        cues = [Cues.of(m.text) for m in messages]
        lasts = set(last)
        kept = [
            (replace(m, text=""), label_of[m.id.rsplit(":", 1)[0]] if i in lasts else "professional", c)
            for i, (m, c) in enumerate(zip(messages, cues, strict=True))
        ]
        owner = decide_owner(OwnerEvidence.of(messages))
        verdicts, _ = history_verdicts(kept, owner, settings)
        by_shape[shape] = figures(chosen, [verdicts[i].label for i in last]) | {
            "owner": sorted(owner.aliases),
            "owner_right": owner.aliases == {OWNER_OF_SHAPE[shape].lower()},
        }
    return {"text_only": figures(threads, text_labels), "with_history": by_shape["mail"], "by_shape": by_shape}


def threads_table(threads: Mapping[str, Any]) -> str:
    """Accuracy by kind of conversation, text alone against text with the history in each export shape
    (Markdown)."""
    columns = {"text alone": threads["text_only"]}
    for shape, found in threads.get("by_shape", {"mail": threads["with_history"]}).items():
        columns[f"with the history: {shape}"] = found
    table = pd.DataFrame(
        {
            name: {**found["accuracy_by_kind"], "all (accuracy)": found["accuracy"], "conversations": found["n"]}
            for name, found in columns.items()
        }
    ).rename_axis("conversation")
    return markdown(table)


def real_conversation_export(conversations: pd.DataFrame) -> list[Message]:
    """Real DM conversations as the messages of a LinkedIn-like export: the owner is "owner", each
    conversation's counterpart a person of their own. Conversations with a message of unknown direction (the
    owner shows as "LinkedIn Member") are left out: who replied cannot be told there."""
    unknown = set(conversations.loc[conversations["direction"] == "unknown", "conversation"])
    known = conversations[~conversations["conversation"].isin(unknown)]
    messages = []
    for row in known.itertuples(index=False):
        counterpart = f"{row.export} {row.conversation}"
        sent = row.direction == "sent"
        messages.append(
            Message(
                id=row.id,
                text=row.text,
                source=row.export,
                sender="owner" if sent else counterpart,
                recipients=counterpart if sent else "owner",
                date=row.when.to_pydatetime() if pd.notna(row.when) else None,
                thread=row.conversation,
                channel="linkedin_dm",
            )
        )
    return messages


def evaluate_real_conversations(
    model: Classifier, thresholds: Mapping[str, float], settings: Settings, conversations: pd.DataFrame
) -> dict[str, Any]:
    """The labelled messages received in real DM conversations, labelled by their text alone and by their text
    with the history (``history.history_verdicts``: turns, runs, the owner's replies), against the annotators'
    labels; with how many the pattern itself turned pestering."""
    messages = real_conversation_export(conversations)
    label_of = dict(zip(conversations["id"], conversations["label"], strict=False))
    order = [list(model.classes_).index(label) for label in LABELS]
    texts = [m.text for m in messages]
    text_labels = decide(np.asarray(model.predict_proba(texts))[:, order], list(LABELS), thresholds) if texts else []
    kept = [(replace(m, text=""), label, Cues.of(m.text)) for m, label in zip(messages, text_labels, strict=True)]
    verdicts, _ = history_verdicts(kept, Owner(frozenset({"owner"}), "the export's direction column"), settings)
    judged = [
        (label_of[m.id], text_label, verdict)
        for (m, text_label, _), verdict in zip(kept, verdicts, strict=True)
        if verdict.direction != "outgoing" and label_of[m.id]
    ]
    expected = [e for e, _, _ in judged]
    text_only = classification_metrics(expected, [t for _, t, _ in judged]) if judged else {}
    with_history = classification_metrics(expected, [v.label for _, _, v in judged]) if judged else {}
    keys = ("n", "accuracy", "macro_f1", "per_class", "professional_flag_rate")
    return {
        "conversations": int(pd.Series([m.thread for m in messages]).nunique()) if messages else 0,
        "messages": len(messages),
        "text_only": {k: text_only[k] for k in keys} if judged else {},
        "with_history": {k: with_history[k] for k in keys} if judged else {},
        "turned_by_pattern": {label: sum(v.fired == "pattern" for e, _, v in judged if e == label) for label in LABELS},
    }


def real_conversations_table(found: Mapping[str, Any], more: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """Recall per class and the share of professional messages flagged, text alone against with the history
    (Markdown); ``more``: other figures of the same messages, by name."""
    rows = {}
    named = {"text alone": found["text_only"], **(more or {}), "with the history": found["with_history"]}
    for name, figures in named.items():
        rows[name] = {
            **{f"recall {label}": figures["per_class"][label]["recall"] for label in CONCERN_LABELS},
            "professional flagged": figures["professional_flag_rate"],
            "macro-F1": figures["macro_f1"],
        }
    return markdown(pd.DataFrame(rows).T)


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
