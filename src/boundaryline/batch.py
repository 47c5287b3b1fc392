"""Batch-score a whole inbox export: stream it, score in chunks (on every core if asked), write the
results file and a summary with the senders ranked by concern.

Nothing is held whole: messages are read, scored and written chunk by chunk; only the few fields the
sender summary needs are kept per message. The results file is written to a temp file and renamed into
place when the run completes, so a crashed run never leaves a half-written file behind.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any, Literal, TextIO

from joblib import Parallel, delayed
from tqdm import tqdm

from boundaryline.files import write_atomic
from boundaryline.inbox import BadRecord, Message, read_inbox
from boundaryline.predict import Score, Scorer, load_scorer
from boundaryline.senders import address, infer_owner, summarise_senders
from boundaryline.settings import CONCERN_LABELS, LABELS, Settings

CHUNK_SIZE = 1_000
EXPLAIN_MODES = ("flagged", "all", "none")
TOP_TERMS = 5
RESULT_COLUMNS = [
    "id", "sender", "recipients", "date", "subject", "label", "flagged",
    *(f"p_{label}" for label in LABELS), "top_terms", "source",
]  # fmt: skip


@dataclass
class BatchSummary:
    """What a batch run found; ``to_dict`` is what goes into ``*.summary.json``."""

    inbox: str
    results_file: str
    model_version: str
    scored: int = 0
    skipped: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    skipped_records: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[dict[str, Any]] = field(default_factory=list)
    senders: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inbox": self.inbox,
            "results_file": self.results_file,
            "model_version": self.model_version,
            "scored": self.scored,
            "skipped": self.skipped,
            "labels": {label: self.labels.get(label, 0) for label in LABELS},
            "flagged": self.flagged,
            "senders_by_concern": self.senders,
            "skipped_records": self.skipped_records,
        }


def result_row(message: Message, score: Score) -> dict[str, Any]:
    """One line of the results file."""
    terms = "; ".join(f"{c.term} ({c.weight:+.2f})" for c in score.explanation or [])
    return {
        "id": message.id,
        "sender": message.sender or "",
        "recipients": message.recipients or "",
        "date": message.date.isoformat() if message.date else "",
        "subject": message.subject or "",
        "label": score.label,
        "flagged": score.flagged,
        **{f"p_{label}": round(score.scores[label], 4) for label in LABELS},
        "top_terms": terms,
        "source": message.source,
    }


def _chunks(records: Iterable[Message | BadRecord], size: int) -> Iterator[list[Message | BadRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


_WORKER_SCORER: dict[tuple[str, str], Scorer] = {}


def _score_chunk(
    chunk: list[Message], settings: Settings | None, version: str, scorer: Scorer | None, explain: str
) -> list[Score]:
    """Score one chunk; in a worker process the model is loaded (and verified) once, then reused."""
    if scorer is None:
        assert settings is not None
        key = (str(settings.models_dir), version)
        if key not in _WORKER_SCORER:
            _WORKER_SCORER[key] = load_scorer(settings, version)
        scorer = _WORKER_SCORER[key]
    wanted: bool | Literal["flagged"] = "flagged" if explain == "flagged" else explain == "all"
    return scorer.score([m.text for m in chunk], explain=wanted, top_k=TOP_TERMS)


class _ResultsWriter:
    """CSV or JSON Lines rows into a temp file beside the destination; ``commit`` renames it into place."""

    def __init__(self, path: Path, output_format: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        fd, self.tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        # utf-8-sig: spreadsheet programs then open non-ASCII names and subjects correctly
        encoding = "utf-8-sig" if output_format == "csv" else "utf-8"
        self.handle: TextIO = os.fdopen(fd, "w", encoding=encoding, newline="")
        self.csv = csv.DictWriter(self.handle, RESULT_COLUMNS) if output_format == "csv" else None
        if self.csv:
            self.csv.writeheader()

    def write(self, row: dict[str, Any]) -> None:
        if self.csv:
            self.csv.writerow(row)
        else:
            self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.handle.close()
        Path(self.tmp).unlink(missing_ok=True)


def score_inbox(
    inbox: Path,
    *,
    settings: Settings,
    scorer: Scorer | None = None,
    out: Path | None = None,
    fmt: str | None = None,
    text_column: str | None = None,
    output_format: str = "csv",
    jobs: int = 1,
    owner: str | None = None,
    quiet: bool = False,
    explain: str = "flagged",
    chunk_size: int = CHUNK_SIZE,
    report: TextIO = sys.stdout,
) -> BatchSummary:
    """Score every message of ``inbox``; write results, ``*.summary.json`` and ``*.summary.md``.

    ``top_terms`` (the evidence) is filled for the flagged messages (``explain="flagged"``), for every
    message (``"all"``) or for none (``"none"``, the fastest).
    """
    if explain not in EXPLAIN_MODES:
        raise ValueError(f"explain must be one of {', '.join(EXPLAIN_MODES)}, got {explain!r}")
    if output_format not in ("csv", "jsonl"):
        raise ValueError(f"output format must be csv or jsonl, got {output_format!r}")
    scorer = scorer or load_scorer(settings)
    records = read_inbox(inbox, fmt=fmt, text_column=text_column, max_chars=settings.max_text_chars)
    out = out or settings.reports_dir / f"{inbox.name}.results.{output_format}"
    summary = BatchSummary(inbox=str(inbox), results_file=str(out), model_version=scorer.version)
    kept: list[tuple[Message, str]] = []  # text dropped: only what the sender summary needs
    flagged: list[tuple[str, dict[str, Any]]] = []
    writer = _ResultsWriter(out, output_format)
    progress = tqdm(unit="msg", desc="scoring", disable=quiet or not sys.stderr.isatty(), file=sys.stderr)

    def messages_only(chunk: list[Message | BadRecord]) -> list[Message]:
        good = []
        for record in chunk:
            if isinstance(record, BadRecord):
                summary.skipped += 1
                summary.skipped_records.append(
                    {
                        "source": record.source,
                        "location": record.location,
                        "field": record.field,
                        "reason": record.reason,
                    }
                )
                print(f"skipped {record}", file=sys.stderr)
            else:
                good.append(record)
        return good

    try:
        chunks = (messages_only(chunk) for chunk in _chunks(records, chunk_size))
        if jobs == 1:
            scored: Iterable[tuple[list[Message], list[Score]]] = (
                (chunk, _score_chunk(chunk, None, scorer.version, scorer, explain)) for chunk in chunks
            )
        else:
            # Workers load the model themselves (once each) instead of receiving it with every chunk.
            pairs = Parallel(n_jobs=jobs, return_as="generator")(
                delayed(_with_chunk)(chunk, settings, scorer.version, explain) for chunk in chunks
            )
            scored = (pair for pair in pairs if pair is not None)
        for chunk_messages, scores in scored:
            for message, score in zip(chunk_messages, scores, strict=True):
                writer.write(result_row(message, score))
                summary.labels[score.label] += 1
                kept.append((replace(message, text=""), score.label))
                if score.flagged:
                    flagged.append((address(message.sender), _flag_entry(message, score)))
            summary.scored += len(chunk_messages)
            progress.update(len(chunk_messages))
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        progress.close()

    # The owner's own sent messages are scored like the rest, but they are not what the summary is about.
    owner = address(owner) if owner else infer_owner(m for m, _ in kept)
    summary.flagged = [entry for sender, entry in flagged if sender != owner]
    summary.senders = [s.to_dict() for s in summarise_senders(kept, owner=owner, concern_labels=CONCERN_LABELS)]
    # Compact JSON: the C encoder is ~10x faster than indent=2 on a summary listing thousands of messages.
    write_atomic(out.with_name(out.stem + ".summary.json"), json.dumps(summary.to_dict(), default=str) + "\n")
    markdown = format_summary(summary)
    write_atomic(out.with_name(out.stem + ".summary.md"), markdown)
    print(markdown, file=report)
    return summary


def _with_chunk(
    chunk: list[Message], settings: Settings, version: str, explain: str
) -> tuple[list[Message], list[Score]]:
    return chunk, _score_chunk(chunk, settings, version, None, explain)


def _flag_entry(message: Message, score: Score) -> dict[str, Any]:
    return {
        "id": message.id,
        "sender": message.sender,
        "date": message.date.isoformat() if message.date else None,
        "subject": message.subject,
        "label": score.label,
        "probability": round(score.scores[score.label], 3),
        "top_terms": [c.term for c in score.explanation or []],
    }


def format_summary(summary: BatchSummary, max_rows: int = 15) -> str:
    """The human-readable summary: counts, the senders of concern, the flagged messages."""
    lines = [
        f"# Inbox summary: {summary.inbox}",
        "",
        f"Model {summary.model_version}. Scored {summary.scored} message(s), skipped {summary.skipped}. "
        f"Results: `{summary.results_file}`.",
        "",
        "| label | messages |",
        "|---|---|",
        *(f"| {label} | {summary.labels.get(label, 0)} |" for label in LABELS),
        "",
        "## Senders ranked by concern",
        "",
        "| sender | sent | pestering | propositions | longest run without a reply | shortest gap |",
        "|---|---|---|---|---|---|",
    ]
    for sender in summary.senders[:max_rows]:
        per_label = sender.get("labels", {})
        lines.append(
            f"| {sender['sender']} | {sender['messages']} | {per_label.get('pestering', 0)} "
            f"| {per_label.get('inappropriate_proposition', 0)} | {sender.get('longest_unanswered_run', '')} "
            f"| {sender.get('shortest_gap') or '–'} |"
        )
    lines += ["", f"## Flagged messages ({len(summary.flagged)})", ""]
    lines += ["| date | sender | subject | label | p | evidence |", "|---|---|---|---|---|---|"]
    for entry in summary.flagged[: max_rows * 2]:
        lines.append(
            f"| {entry['date'] or ''} | {entry['sender'] or ''} | {entry['subject'] or ''} | {entry['label']} "
            f"| {entry['probability']:.2f} | {', '.join(entry['top_terms'][:3])} |"
        )
    if summary.skipped:
        lines += ["", f"## Skipped records ({summary.skipped})", ""]
        lines += [f"- {r['source']}: {r['location']}: {r['reason']}" for r in summary.skipped_records[:50]]
    return "\n".join(lines) + "\n"
