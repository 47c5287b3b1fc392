"""Retraining with new labelled examples: validate, merge with provenance, train a candidate, compare it
with the model in service on the same frozen sets under the same thresholds, promote only when it is not
worse.

Nothing is written until the decision is made: the corpus, the registry and the ``current`` pointer are
exactly as they were if the run fails or the candidate is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from boundaryline import registry
from boundaryline.data import (
    EXAMPLE_COLUMNS,
    EXAMPLE_OPTIONAL,
    Problem,
    ShingleIndex,
    check_row,
    load_corpus,
    merge_examples,
    read_examples,
    shingles,
    text_key,
    train_test_frames,
)
from boundaryline.evaluate import evaluate, gate, side_by_side
from boundaryline.feedback import FeedbackStore
from boundaryline.files import write_atomic
from boundaryline.predict import load_scorer
from boundaryline.prior import refit_from
from boundaryline.progress import Stages, bar
from boundaryline.settings import Settings
from boundaryline.train import (
    PARAM_GRID,
    FitResult,
    evaluate_model,
    fit_pipeline,
    fits_of,
    grid_of,
    sample_weights,
    save_version,
    training_data,
)

FEEDBACK_SOURCE = "feedback"


@dataclass
class Checked:
    """New examples sorted into what can be merged and what cannot, each reason tied to a row."""

    accepted: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)  # rejected rows
    conflicts: list[Problem] = field(default_factory=list)  # same text, another label, in training rows
    replaces: dict[str, list[str]] = field(default_factory=dict)  # accepted row -> corpus rows its conflict replaces
    queued: int = 0  # accepted corrections left in the store for the next retrain (``cap_feedback``)

    @property
    def replaced_ids(self) -> list[str]:
        """The corpus rows the accepted rows' winning conflicts replace."""
        return [row_id for ids in self.replaces.values() for row_id in ids]


@dataclass
class RetrainOutcome:
    promoted: bool
    report: str
    candidate: str | None = None
    nothing_to_do: bool = False
    refused: bool = False  # the input had rows that cannot be merged, and nothing was
    comparison: dict[str, Any] = field(default_factory=dict)


def read_feedback(store: FeedbackStore, *, auto_accept: bool = False) -> pd.DataFrame:
    """The corrections to merge (accepted, or every one not rejected with ``auto_accept``), as new examples."""
    items = store.to_merge(auto_accept=auto_accept)
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


def read_incoming(new: Path | None, store: FeedbackStore | None, *, auto_accept: bool = False) -> pd.DataFrame:
    """Every new example offered: the file's rows, then the corrections to merge."""
    frames = [read_examples(new)] if new is not None else []
    frames += [read_feedback(store, auto_accept=auto_accept)] if store else []
    columns = [*EXAMPLE_COLUMNS, *EXAMPLE_OPTIONAL, "row", "source"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def check_new_examples(
    new: pd.DataFrame, corpus: pd.DataFrame, frozen: Mapping[str, pd.DataFrame], *, accept_conflicts: bool
) -> Checked:
    """The corpus's row schema applied to new rows, plus duplicates, conflicts and copies of a frozen set.

    The training rows and the frozen sets are shingled and indexed once (``ShingleIndex``), then each new row
    costs its own shingles: linear in the new rows (re-shingling the training set for each one took about a
    second a row). A bar on standard error counts the rows on a terminal."""
    checked = Checked(accepted=new.iloc[:0])
    keep: list[int] = []
    known = {text_key(t): (i, lbl) for i, t, lbl in corpus[["id", "text", "label"]].itertuples(index=False)}
    held_out = pd.concat([frame[["id", "text"]] for frame in frozen.values()], ignore_index=True)
    held = ShingleIndex(held_out["text"])
    train_rows = train_test_frames(corpus)[0]
    train = ShingleIndex(train_rows["text"])
    train_ids, train_labels = train_rows["id"].tolist(), train_rows["label"].tolist()
    labels_of: dict[str, set[str]] = defaultdict(set)
    for row_id, label in zip(corpus["id"], corpus["label"], strict=True):
        labels_of[row_id].add(label)
    seen: set[str] = set()
    rows = new.to_dict("records")
    for position, row in enumerate(bar(rows, total=len(rows), desc="checking new examples", unit="row")):
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
        # The frozen sets must stay unseen: no copy of one of their messages, whole or in part, may enter training.
        mine = shingles(row["text"])
        copies = held.contained(mine)
        if copies:
            j, share = max(copies, key=lambda pair: pair[1])
            message = f"shares {share:.0%} of its text with held-out row {held_out['id'].iat[j]}; not merged"
            checked.problems.append(Problem("held-out", where, message))
            continue
        if key in known and known[key][1] == row["label"]:
            checked.problems.append(Problem("duplicate", where, f"already in the corpus as {known[key][0]}"))
            continue
        clashing = [train_ids[j] for j, _ in train.near(mine) if train_labels[j] != row["label"]]
        if clashing:
            labels = sorted({label for row_id in clashing for label in labels_of[row_id]})
            checked.conflicts.append(
                Problem(
                    "conflict", where, f"labelled {row['label']!r} but corpus row(s) {', '.join(clashing)} say {labels}"
                )
            )
            if not accept_conflicts:
                continue
            checked.replaces[where] = clashing
        keep.append(position)
    checked.accepted = new.iloc[keep].reset_index(drop=True)
    return checked


def cap_feedback(checked: Checked, cap: int) -> None:
    """Keep at most ``cap`` of the accepted corrections, the oldest (the store gives them oldest first); the
    others stay queued in the store (``checked.queued`` counts them). A file's rows are never capped.

    The cap applies to corrections that passed the intake, so corrections that can never be merged (a copy of
    a held-out message, a conflict nobody decided) cannot fill every retrain's share and starve the queue."""
    feedback = checked.accepted["source"] == FEEDBACK_SOURCE
    beyond = feedback & (feedback.cumsum() > cap)
    if not beyond.any():
        return
    left = set(checked.accepted.loc[beyond, "row"])
    checked.accepted = checked.accepted[~beyond].reset_index(drop=True)
    checked.replaces = {row: ids for row, ids in checked.replaces.items() if row not in left}
    checked.conflicts = [p for p in checked.conflicts if p.row_id not in left]
    checked.queued = len(left)


def _intake_report(incoming: pd.DataFrame, checked: Checked, accept_conflicts: bool) -> list[str]:
    verdict = " (new label wins)" if accept_conflicts else " (not merged: decide, then --accept-conflicts)"
    queued = (
        [f"{checked.queued} more correction(s) stay queued for the next retrain (at most"
         " BOUNDARYLINE_RETRAIN_MAX_FEEDBACK a retrain)", ""]
        if checked.queued else []
    )  # fmt: skip
    return [
        f"# Retrain: {len(incoming)} new example(s), {len(checked.accepted)} accepted",
        "",
        *queued,
        *(f"- rejected {p}" for p in checked.problems),
        *(f"- conflict {p}{verdict}" for p in checked.conflicts),
    ]


def restore_corpus(settings: Settings, version: str) -> bool:
    """Put back the corpus ``version`` was trained on (kept in its folder); False when it keeps none."""
    snapshot = registry.corpus_snapshot(settings.models_dir, version)
    if snapshot is None:
        return False
    if not settings.corpus_path.exists() or settings.corpus_path.read_bytes() != snapshot:
        write_atomic(settings.corpus_path, snapshot)
    return True


SOURCE_NAMES = {"external": "real mail", "real_dm": "real direct messages"}


def missing_sources(serving: Mapping[str, Any], here: Mapping[str, Any]) -> dict[str, int]:
    """The external sources the model in service was trained on that this checkout lacks, with how many of
    their rows it trained on (``serving`` and ``here`` are training-data provenances: a manifest's ``corpus``)."""
    missing = {}
    for key in SOURCE_NAMES:
        if serving.get(key) and not here.get(key):
            source = serving[key]
            rows = sum(r["rows"] for r in source.get("rows_by", []) if r.get("split") == "train")
            missing[key] = rows + int(source.get("pool_rows", 0))
    return missing


def missing_note(missing: Mapping[str, int], version: str) -> list[str]:
    """What retrain says when sources of the model in service are not here, and what it does about it."""
    sources = "; ".join(f"{SOURCE_NAMES[key]} ({rows:,} training rows)" for key, rows in missing.items())
    return [
        f"The model in service ({version}) was trained with data this checkout does not hold: {sources}"
        " (they are read from ../shared beside the checkout, and never copied into it).",
        f"So the candidate is not trained from scratch (it would forget them): it starts from {version}'s weights"
        " and moves only as far as the new rows ask (src/boundaryline/prior.py); its vocabulary is"
        f" {version}'s. Retrain beside ../shared for a full refit.",
    ]


def fit_from_service(
    pipeline: Pipeline, manifest: Mapping[str, Any], train: pd.DataFrame, new_rows: pd.Series
) -> FitResult:
    """The candidate of ``missing_note``: the model in service (``manifest`` is its manifest) refitted towards
    the new rows (``prior.refit_from``); its search is the one that chose the model in service's parameters."""
    here, new = train[~new_rows], train[new_rows]
    refitted, how = refit_from(
        pipeline,
        here,
        new,
        weights_here=np.asarray(sample_weights(here)),
        weights_new=np.asarray(sample_weights(new)),
    )
    search = dict(manifest["search"])
    search["cv"] = f"{search['cv']} for {manifest['version']}, then refitted towards the new rows from its weights"
    return FitResult(pipeline=refitted, search={**search, "refit": how})


def sync_feedback(settings: Settings) -> str | None:
    """Make the feedback store agree with the corpus in service (``FeedbackStore.reconcile``): corrections merged
    into a version no longer in service go back to the queue; say so. None when nothing changed."""
    if not settings.feedback_path.exists():
        return None
    corpus = load_corpus(settings)
    keys = corpus["text"].map(text_key)
    held, texts = set(zip(keys, corpus["label"], strict=True)), set(keys)
    version = registry.current_version(settings.models_dir) or "?"
    back, marked = FeedbackStore(settings.feedback_path).reconcile(
        lambda item: (text_key(item.text), item.label) in held, lambda item: text_key(item.text) in texts, version
    )
    notes = []
    if back:
        notes.append(f"{len(back)} correction(s) are back in the queue: the corpus of {version} does not hold them")
    if marked:
        notes.append(f"{len(marked)} correction(s) are marked merged: the corpus of {version} holds them")
    return "; ".join(notes) or None


def finish_interrupted_promotion(settings: Settings) -> str | None:
    """Complete (or abandon) a promotion a killed run left half-done; say what was done.

    The pointer moves before the corpus is written, so: pointer moved → write the corpus from the new version's
    folder and mark its feedback merged; pointer not moved → nothing was changed, the examples are still
    pending and the saved version is a leftover for ``models clean``.
    """
    journal = registry.pending_promotion(settings.models_dir)
    if journal is None:
        return None
    version = journal["version"]
    if registry.current_version(settings.models_dir) == version:
        restore_corpus(settings, version)
        if journal.get("feedback_ids"):
            FeedbackStore(settings.feedback_path).mark_merged(journal["feedback_ids"], version)
        note = f"finished the promotion of {version} that a stopped run left half-done (corpus and feedback)"
    else:
        note = f"{version} was saved but never promoted by a stopped run; its examples are still pending"
    registry.end_promotion(settings.models_dir)
    return note


def retrain(
    settings: Settings,
    *,
    new: Path | None = None,
    from_feedback: bool = False,
    accept_conflicts: bool = False,
    skip_invalid: bool = False,
    force: bool = False,
    quick: bool = False,
) -> RetrainOutcome:
    """The whole loop under the registry's lock; see the module docstring. ``quick`` reuses the parameters of
    the model in service; ``skip_invalid`` merges a file's valid rows when some are not (default: none)."""
    with registry.exclusive(settings.models_dir):
        notes = [note for note in (finish_interrupted_promotion(settings), sync_feedback(settings)) if note]
        outcome = _retrain(settings, new, from_feedback, accept_conflicts, skip_invalid, force, quick)
    if notes:
        outcome.report = "".join(f"Note: {note}.\n" for note in notes) + f"\n{outcome.report}"
    return outcome


def _retrain(
    settings: Settings,
    new: Path | None,
    from_feedback: bool,
    accept_conflicts: bool,
    skip_invalid: bool,
    force: bool,
    quick: bool,
) -> RetrainOutcome:
    corpus = load_corpus(settings)  # read under the lock: another run may just have changed it
    store = FeedbackStore(settings.feedback_path) if from_feedback else None
    incoming = read_incoming(new, store, auto_accept=settings.feedback_auto_accept)
    waiting = [i for i in store.items(pending_only=True) if i.review is None] if store else []
    # New examples must not copy any frozen set: the held-out split, the challenge set, the real-mail tests.
    frozen = training_data(settings, corpus, counterfactuals=False).sets
    stages = Stages("retrain", settings.timings_path)
    with stages.stage(
        "intake", f"checking {len(incoming):,} new example(s) against the corpus and {', '.join(frozen)}"
    ):
        checked = check_new_examples(incoming, corpus, frozen, accept_conflicts=accept_conflicts)
    stages.save()
    cap_feedback(checked, settings.retrain_max_feedback)
    lines = _intake_report(incoming, checked, accept_conflicts)
    if waiting and not settings.feedback_auto_accept:
        lines.append(
            f"- {len(waiting)} correction(s) await review and are not merged: `boundaryline feedback list`, then"
            " `feedback accept ID…` (or the page's Corrections tab; BOUNDARYLINE_FEEDBACK_AUTO_ACCEPT=true merges all)"
        )
    looked = ", ".join(
        [*([str(new)] if new else []), *([f"the feedback store {settings.feedback_path}"] if store else [])]
    )
    # A file is merged whole or not at all: a bad row usually means a mistake in the file, not in that row.
    bad_file_rows = [
        p for p in [*checked.problems, *([] if accept_conflicts else checked.conflicts)]
        if not p.row_id.startswith("feedback:")
    ]  # fmt: skip
    if bad_file_rows and not skip_invalid:
        lines += ["", f"Nothing merged: {len(bad_file_rows)} row(s) of {new} cannot be merged (listed above)."]
        lines.append("Fix them, or merge the valid rows with --skip-invalid.")
        return RetrainOutcome(False, "\n".join(lines), refused=True)
    if checked.accepted.empty:
        lines += [
            "",
            f"Nothing to merge from {looked or 'nowhere (no file, no feedback)'}; the model in service is unchanged.",
        ]
        return RetrainOutcome(False, "\n".join(lines), nothing_to_do=True)

    merged = merge_examples(corpus, checked.accepted, checked.replaced_ids)
    with stages.stage("data", f"{len(checked.accepted)} new example(s) accepted; reading the training data"):
        data = training_data(settings, merged)
    sets = data.sets
    in_service = load_scorer(settings)
    # The pipeline too: the candidate is fitted from its settings (or its weights) and judged beside it.
    serving_pipeline, serving_manifest = registry.load_pipeline(settings.models_dir, in_service.version)
    serving_data = serving_manifest.get("corpus", {})
    missing = missing_sources(serving_data, data.provenance)
    if missing:
        # What the model in service learned from rows that are not here is kept: the candidate starts from it.
        new_rows = data.train["id"].isin(set(merged["id"].iloc[len(merged) - len(checked.accepted) :]))
        lines += ["", *missing_note(missing, in_service.version)]
        for line in missing_note(missing, in_service.version):
            stages.note(line)
        with stages.stage("fit:prior", f"refitting {in_service.version} towards the new rows"):
            fit = fit_from_service(serving_pipeline, serving_manifest, data.train, new_rows)
        data.provenance.update({key: serving_data[key] for key in missing})
        data.provenance["inherited"] = {"from": in_service.version, "sources": sorted(missing)}
    else:
        grid = grid_of(serving_pipeline) if quick else PARAM_GRID
        fits = fits_of(grid, data.train)
        with stages.stage(f"fit:{fits}", f"training the candidate on {len(data.train):,} rows: {fits} fits"):
            fit = fit_pipeline(data.train, seed=settings.seed, grid=grid)
    # One decision rule for both models: the thresholds in force for the model in service.
    with stages.stage("evaluate", f"judging the candidate and {in_service.version} on {', '.join(sets)}"):
        candidate, plots = evaluate_model(fit.pipeline, sets, thresholds=in_service.thresholds)
        serving = evaluate(serving_pipeline, sets, in_service.thresholds)[0]
    stages.save()
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
        "feedback_left_queued": checked.queued,
        "forced": forced,
        "gate_reasons": reasons,
        "compared_with_in_service": serving,
    }
    with stages.stage("save", "writing the candidate's version"):
        version = save_version(
            settings, fit, candidate, plots, data.provenance, {"retrain": retrain_section}, corpus=merged, sets=sets
        )
    stages.save()
    feedback_ids = checked.accepted.loc[checked.accepted["source"] == FEEDBACK_SOURCE, "id"].tolist()
    # The pointer moves first, the corpus follows; the journal lets the next run finish what a kill interrupts.
    registry.begin_promotion(settings.models_dir, version, feedback_ids=feedback_ids)
    registry.promote(settings.models_dir, version, reason="retrain" + (" --force" if forced else ""), forced=forced)
    restore_corpus(settings, version)
    if store is not None:
        store.mark_merged(feedback_ids, version)
    registry.end_promotion(settings.models_dir)
    lines.append(
        f"Promoted {version}" + (" (forced past the gate)" if forced else "")
        + f"; {len(checked.accepted)} example(s) merged into {settings.corpus_path.name}."
    )  # fmt: skip
    return RetrainOutcome(True, "\n".join(lines), candidate=version, comparison=comparison)
