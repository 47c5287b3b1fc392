"""Retraining with new labelled examples: validate, merge with provenance, train a candidate, compare it
with the model in service on the same frozen sets under the same thresholds, promote only when it is not
worse.

Nothing is written until the decision is made: the corpus, the registry and the ``current`` pointer are
exactly as they were if the run fails or the candidate is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from boundaryline import registry
from boundaryline.data import (
    CORPUS_COLUMNS,
    EXAMPLE_COLUMNS,
    EXAMPLE_OPTIONAL,
    Problem,
    check_row,
    load_challenge,
    load_corpus,
    merge_examples,
    near_duplicate_pairs,
    read_examples,
    text_key,
    train_test_frames,
    write_corpus,
)
from boundaryline.evaluate import evaluate, gate, side_by_side
from boundaryline.feedback import FeedbackStore
from boundaryline.predict import load_scorer
from boundaryline.settings import Settings
from boundaryline.train import PARAM_GRID, evaluate_model, fit_pipeline, frozen_sets, grid_of, save_version, validated

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


def read_incoming(new: Path | None, store: FeedbackStore | None) -> pd.DataFrame:
    """Every new example offered: the file's rows, then the pending feedback."""
    frames = ([read_examples(new)] if new is not None else []) + ([read_feedback(store)] if store else [])
    columns = [*EXAMPLE_COLUMNS, *EXAMPLE_OPTIONAL, "row", "source"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def check_new_examples(
    new: pd.DataFrame, corpus: pd.DataFrame, challenge: pd.DataFrame, *, accept_conflicts: bool
) -> Checked:
    """The corpus's row schema applied to new rows, plus duplicates, conflicts and held-out leakage."""
    checked = Checked(accepted=new.iloc[:0])
    keep: list[int] = []
    known = {text_key(t): (i, lbl) for i, t, lbl in corpus[["id", "text", "label"]].itertuples(index=False)}
    held_out = pd.concat([train_test_frames(corpus)[1][["id", "text"]], challenge[["id", "text"]]])
    train_rows = train_test_frames(corpus)[0]
    seen: set[str] = set()
    for position, row in enumerate(new.to_dict("records")):
        where = row["row"]
        problems = check_row(row, where, EXAMPLE_COLUMNS)
        if problems:
            checked.problems.append(problems[0])
            continue
        key = text_key(row["text"])
        if key in seen:
            checked.problems.append(Problem("duplicate", where, "same text earlier in the new examples"))
            continue
        seen.add(key)
        # The frozen test split and the challenge set must stay unseen: no copy of them may enter training.
        near_held = [
            held_out["id"].iat[j - 1] for i, j, _ in near_duplicate_pairs([row["text"], *held_out["text"]]) if i == 0
        ]
        if near_held:
            checked.problems.append(
                Problem("held-out", where, f"same or near-same text as held-out row {near_held[0]}; not merged")
            )
            continue
        if key in known and known[key][1] == row["label"]:
            checked.problems.append(Problem("duplicate", where, f"already in the corpus as {known[key][0]}"))
            continue
        clashing = [
            train_rows["id"].iat[j - 1]
            for i, j, _ in near_duplicate_pairs([row["text"], *train_rows["text"]])
            if i == 0 and train_rows["label"].iat[j - 1] != row["label"]
        ]
        if clashing:
            labels = sorted(set(corpus.set_index("id").loc[clashing, "label"]))
            checked.conflicts.append(
                Problem(
                    "conflict", where, f"labelled {row['label']!r} but corpus row(s) {', '.join(clashing)} say {labels}"
                )
            )
            if not accept_conflicts:
                continue
            checked.replaced_ids.extend(clashing)
        keep.append(position)
    checked.accepted = new.iloc[keep].reset_index(drop=True)
    return checked


def _intake_report(incoming: pd.DataFrame, checked: Checked, accept_conflicts: bool) -> list[str]:
    verdict = " (new label wins)" if accept_conflicts else " (not merged: decide, then --accept-conflicts)"
    return [
        f"# Retrain: {len(incoming)} new example(s), {len(checked.accepted)} accepted",
        "",
        *(f"- rejected {p}" for p in checked.problems),
        *(f"- conflict {p}{verdict}" for p in checked.conflicts),
    ]


def retrain(
    settings: Settings,
    *,
    new: Path | None = None,
    from_feedback: bool = False,
    accept_conflicts: bool = False,
    force: bool = False,
    quick: bool = False,
) -> RetrainOutcome:
    """The whole loop; see the module docstring. ``quick`` reuses the parameters of the model in service."""
    corpus, challenge = load_corpus(settings), load_challenge(settings)
    store = FeedbackStore(settings.feedback_path) if from_feedback else None
    incoming = read_incoming(new, store)
    checked = check_new_examples(incoming, corpus, challenge, accept_conflicts=accept_conflicts)
    lines = _intake_report(incoming, checked, accept_conflicts)
    if checked.accepted.empty:
        lines += ["", "Nothing to merge; the model in service is unchanged."]
        return RetrainOutcome(False, "\n".join(lines), nothing_to_do=True)

    merged = merge_examples(corpus, checked.accepted, checked.replaced_ids)
    corpus_section = validated(merged, challenge)
    in_service = load_scorer(settings)
    sets = frozen_sets(merged, challenge)
    grid = grid_of(in_service.pipeline) if quick else PARAM_GRID
    fit = fit_pipeline(train_test_frames(merged)[0], seed=settings.seed, grid=grid)
    # One decision rule for both models: the thresholds in force for the model in service.
    candidate, plots = evaluate_model(fit.pipeline, sets, thresholds=in_service.thresholds)
    serving = evaluate(in_service.pipeline, sets, in_service.thresholds)[0]
    reasons = gate(candidate["model"], serving, settings)
    forced = force and bool(reasons)
    comparison = {"in_service": in_service.version, "reasons_worse": reasons, "forced": forced}
    lines += ["", side_by_side({f"in service ({in_service.version})": serving, "candidate": candidate["model"]}), ""]
    if reasons and not force:
        lines += ["Not promoted: the candidate is worse than the model in service.", *(f"- {r}" for r in reasons)]
        lines.append("The corpus, the registry and the model in service are unchanged.")
        return RetrainOutcome(False, "\n".join(lines), comparison=comparison)

    retrain_section = {
        "previous": in_service.version,
        "new_examples": len(checked.accepted),
        "replaced_rows": checked.replaced_ids,
        "forced": forced,
        "gate_reasons": reasons,
        "compared_with_in_service": serving,
    }
    version = save_version(settings, fit, candidate, plots, corpus_section, {"retrain": retrain_section})
    write_corpus(merged, settings.corpus_path, CORPUS_COLUMNS)
    registry.promote(settings.models_dir, version, reason="retrain" + (" --force" if forced else ""), forced=forced)
    if store is not None:
        store.mark_merged(checked.accepted.loc[checked.accepted["source"] == FEEDBACK_SOURCE, "id"].tolist(), version)
    lines.append(
        f"Promoted {version}" + (" (forced past the gate)" if forced else "")
        + f"; {len(checked.accepted)} example(s) merged into {settings.corpus_path.name}."
    )  # fmt: skip
    return RetrainOutcome(True, "\n".join(lines), candidate=version, comparison=comparison)
