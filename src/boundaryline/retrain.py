"""Retraining with new labelled examples: validate, merge with provenance, train a candidate, compare it
with the model in service on the same frozen sets, promote only when it is not worse.

Nothing is written until the decision is made: the corpus, the registry and the ``current`` pointer are
exactly as they were if the run fails or the candidate is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from boundaryline import registry
from boundaryline.data import (
    CHANNELS,
    CORPUS_COLUMNS,
    Problem,
    corpus_fingerprint,
    load_challenge,
    load_corpus,
    near_duplicate_pairs,
    stable_id,
    text_key,
    today,
    train_test_frames,
    write_corpus,
)
from boundaryline.evaluate import evaluate_predictions
from boundaryline.feedback import FeedbackStore
from boundaryline.settings import LABELS, Settings
from boundaryline.train import PARAM_GRID, evaluate_model, fit_pipeline, save_version

NEW_COLUMNS = ("text", "label")
FEEDBACK_SOURCE = "feedback"


@dataclass
class Checked:
    """New examples sorted into what can be merged and what cannot, each reason tied to a row."""

    accepted: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)  # rejected rows
    conflicts: list[Problem] = field(default_factory=list)  # same text, another label, in training rows
    replaced_ids: list[str] = field(default_factory=list)  # corpus rows a winning conflict replaces


@dataclass
class RetrainOutcome:
    promoted: bool
    report: str
    candidate: str | None = None
    nothing_to_do: bool = False
    comparison: dict[str, Any] = field(default_factory=dict)


def read_new_examples(path: Path) -> pd.DataFrame:
    """New labelled examples from CSV or JSON Lines (``text``, ``label``, optional ``channel``, ``id``, ``note``)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows, where = [], []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}: line {number}: not valid JSON ({error.msg})") from error
                where.append(f"{path.name}: line {number}")
        frame = pd.DataFrame(rows)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        where = [f"{path.name}: row {i}" for i in range(1, len(frame) + 1)]  # data rows, header not counted
    missing = [c for c in NEW_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected text, label")
    for column in ("id", "channel", "note"):
        if column not in frame.columns:
            frame[column] = ""
    frame = frame.fillna("").astype(str)
    frame["row"] = where
    frame["source"] = f"file:{path.name}"
    return frame


def read_feedback(store: FeedbackStore) -> pd.DataFrame:
    """The service's feedback not merged yet, as new examples."""
    items = store.items(pending_only=True)
    return pd.DataFrame(
        {
            "text": [i.text for i in items],
            "label": [i.label for i in items],
            "channel": [i.channel or "" for i in items],
            "id": [i.id for i in items],
            "note": [i.note or "" for i in items],
            "row": [f"feedback:{i.id}" for i in items],
            "source": FEEDBACK_SOURCE,
        }
    )


def check_new_examples(
    new: pd.DataFrame, corpus: pd.DataFrame, challenge: pd.DataFrame, *, accept_conflicts: bool
) -> Checked:
    """The corpus validator's rules applied to new rows, plus conflicts and held-out leakage."""
    problems: list[Problem] = []
    conflicts: list[Problem] = []
    replaced: list[str] = []
    keep: list[int] = []
    known = {
        text_key(t): (i, lbl, split)
        for i, t, lbl, split in corpus[["id", "text", "label", "split"]].itertuples(index=False)
    }
    held_out = pd.concat([corpus.loc[corpus["split"] == "test", ["id", "text"]], challenge[["id", "text"]]])
    held_texts = held_out["text"].tolist()
    train_rows = corpus[corpus["split"] == "train"]
    seen: set[str] = set()
    for position, row in enumerate(new.itertuples(index=False)):
        where = row.row
        if not row.text.strip():
            problems.append(Problem("text", where, "empty or whitespace-only text"))
            continue
        if row.label not in LABELS:
            problems.append(Problem("label", where, f"unknown label {row.label!r}; expected one of {LABELS}"))
            continue
        if row.channel and row.channel not in CHANNELS:
            problems.append(Problem("channel", where, f"unknown channel {row.channel!r}; expected one of {CHANNELS}"))
            continue
        key = text_key(row.text)
        if key in seen:
            problems.append(Problem("duplicate", where, "same text earlier in the new examples"))
            continue
        seen.add(key)
        # The frozen test split and the challenge set must stay unseen: no copy of them may enter training.
        near_held = [held_out["id"].iat[j - 1] for i, j, _ in near_duplicate_pairs([row.text, *held_texts]) if i == 0]
        if near_held:
            problems.append(
                Problem("held-out", where, f"same or near-same text as held-out row {near_held[0]}; not merged")
            )
            continue
        if key in known and known[key][1] == row.label:
            problems.append(Problem("duplicate", where, f"already in the corpus as {known[key][0]}"))
            continue
        clashing = [
            train_rows["id"].iat[j - 1]
            for i, j, _ in near_duplicate_pairs([row.text, *train_rows["text"].tolist()])
            if i == 0 and train_rows["label"].iat[j - 1] != row.label
        ]
        if clashing:
            labels = sorted(set(corpus.set_index("id").loc[clashing, "label"]))
            conflicts.append(
                Problem(
                    "conflict", where, f"labelled {row.label!r} but corpus row(s) {', '.join(clashing)} say {labels}"
                )
            )
            if not accept_conflicts:
                continue
            replaced.extend(clashing)
        keep.append(position)
    return Checked(new.iloc[keep].reset_index(drop=True), problems, conflicts, replaced)


def merged_corpus(corpus: pd.DataFrame, accepted: pd.DataFrame, replaced_ids: list[str]) -> pd.DataFrame:
    """The corpus with the accepted rows appended (training split, with provenance); replaced rows removed."""
    rows = pd.DataFrame(
        {
            "id": [stable_id(t, "fb") for t in accepted["text"]],
            "text": accepted["text"].str.strip(),
            "label": accepted["label"],
            "channel": [c or "email" for c in accepted["channel"]],
            "scenario": [f"feedback-{s.replace(':', '-')}" for s in accepted["source"]],
            "hard": "false",
            "sender_role": "",
            "source": accepted["source"].tolist(),
            "added": today(),
            "split": "train",
        }
    )
    kept = corpus[~corpus["id"].isin(replaced_ids)]
    return pd.concat([kept, rows], ignore_index=True)[list(CORPUS_COLUMNS)]


def gate(candidate: dict[str, Any], current: dict[str, Any], settings: Settings) -> list[str]:
    """Why the candidate is worse than the model in service (empty: it may be promoted)."""
    reasons = []
    for split in ("test", "challenge"):
        drop = current[split]["macro_f1"] - candidate[split]["macro_f1"]
        if drop > settings.gate_macro_f1_tolerance:
            reasons.append(
                f"{split}: macro-F1 {candidate[split]['macro_f1']:.3f} vs {current[split]['macro_f1']:.3f} in service"
                f" (down {drop:.3f} > tolerance {settings.gate_macro_f1_tolerance})"
            )
        for label in LABELS:
            new_recall = candidate[split]["per_class"][label]["recall"]
            old_recall = current[split]["per_class"][label]["recall"]
            if old_recall - new_recall > settings.gate_recall_tolerance:
                reasons.append(
                    f"{split}: recall of {label} {new_recall:.3f} vs {old_recall:.3f} in service"
                    f" (down {old_recall - new_recall:.3f} > tolerance {settings.gate_recall_tolerance})"
                )
    return reasons


def _side_by_side(candidate: dict[str, Any], current: dict[str, Any], current_version: str) -> str:
    lines = [f"| set | metric | in service ({current_version}) | candidate |", "|---|---|---|---|"]
    for split in ("test", "challenge"):
        lines.append(f"| {split} | macro-F1 | {current[split]['macro_f1']:.3f} | {candidate[split]['macro_f1']:.3f} |")
        for label in LABELS:
            lines.append(
                f"| {split} | recall {label} | {current[split]['per_class'][label]['recall']:.3f} "
                f"| {candidate[split]['per_class'][label]['recall']:.3f} |"
            )
    return "\n".join(lines)


def retrain(
    settings: Settings,
    *,
    new: Path | None = None,
    from_feedback: bool = False,
    accept_conflicts: bool = False,
    force: bool = False,
    quick: bool = False,
) -> RetrainOutcome:
    """The whole loop; see the module docstring. ``quick`` reuses the chosen parameters instead of searching."""
    corpus, challenge = load_corpus(settings), load_challenge(settings)
    store = FeedbackStore(settings.feedback_path) if from_feedback else None
    frames = []
    if new is not None:
        frames.append(read_new_examples(new))
    if store is not None:
        frames.append(read_feedback(store))
    incoming = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["text", "label", "channel", "id", "note", "row", "source"])
    )
    checked = check_new_examples(incoming, corpus, challenge, accept_conflicts=accept_conflicts)
    lines = [f"# Retrain: {len(incoming)} new example(s), {len(checked.accepted)} accepted", ""]
    lines += [f"- rejected {p}" for p in checked.problems]
    lines += [
        f"- conflict {p}"
        + (" (new label wins)" if accept_conflicts else " (not merged: decide, then --accept-conflicts)")
        for p in checked.conflicts
    ]
    if checked.accepted.empty:
        return RetrainOutcome(
            False, "\n".join([*lines, "", "Nothing to merge; the model in service is unchanged."]), nothing_to_do=True
        )

    merged = merged_corpus(corpus, checked.accepted, checked.replaced_ids)
    train, test = train_test_frames(merged)
    current_version = registry.current_version(settings.models_dir)
    current_pipeline, current_manifest = registry.load_pipeline(settings.models_dir, current_version)
    grid = PARAM_GRID
    if quick:
        grid = {k: [tuple(v) if isinstance(v, list) else v] for k, v in current_manifest["search"]["chosen"].items()}
    fit = fit_pipeline(train, seed=settings.seed, grid=grid)
    candidate_eval, plots = evaluate_model(
        fit.pipeline, train, test, challenge, thresholds=settings.thresholds, seed=settings.seed, baselines=False
    )
    thresholds = settings.thresholds or current_manifest.get("thresholds") or {}
    order = [list(current_pipeline.classes_).index(label) for label in LABELS]
    current_eval = {
        name: evaluate_predictions(
            frame, np.asarray(current_pipeline.predict_proba(frame["text"].tolist()))[:, order], thresholds=thresholds
        )
        for name, frame in (("test", test), ("challenge", challenge))
    }
    reasons = gate(candidate_eval["model"], current_eval, settings)
    comparison = {"in_service": current_version, "reasons_worse": reasons, "forced": force and bool(reasons)}
    lines += ["", _side_by_side(candidate_eval["model"], current_eval, str(current_version)), ""]
    if reasons and not force:
        lines += ["Not promoted: the candidate is worse than the model in service.", *[f"- {r}" for r in reasons]]
        lines.append("The corpus, the registry and the model in service are unchanged.")
        return RetrainOutcome(False, "\n".join(lines), comparison=comparison)

    corpus_section = {
        "sha256": corpus_fingerprint(merged, challenge),
        "rows": len(merged),
        "challenge_rows": len(challenge),
        "counts": {c: merged[c].value_counts().sort_index().to_dict() for c in ("label", "channel", "split", "source")},
    }
    retrain_section = {
        "previous": current_version,
        "new_examples": len(checked.accepted),
        "replaced_rows": checked.replaced_ids,
        "forced": bool(force and reasons),
        "gate_reasons": reasons,
        "compared_with_in_service": current_eval,
    }
    version = save_version(settings, fit, candidate_eval, plots, corpus_section, {"retrain": retrain_section})
    write_corpus(merged, settings.corpus_path, CORPUS_COLUMNS)
    registry.promote(
        settings.models_dir,
        version,
        reason="retrain" + (" --force" if force and reasons else ""),
        forced=bool(force and reasons),
    )
    if store is not None:
        merged_ids = checked.accepted.loc[checked.accepted["source"] == FEEDBACK_SOURCE, "id"].tolist()
        store.mark_merged(merged_ids, version)
    lines.append(
        f"Promoted {version}"
        + (" (forced past the gate)" if force and reasons else "")
        + f"; {len(checked.accepted)} example(s) merged into {settings.corpus_path.name}."
    )
    return RetrainOutcome(True, "\n".join(lines), candidate=version, comparison=comparison)
