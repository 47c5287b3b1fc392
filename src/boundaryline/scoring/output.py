"""What a scoring run writes: the results file (one row per message, CSV or JSON Lines), the summary
(``*.summary.json`` and ``*.summary.md``, with the senders ranked by concern), and the options a run takes.

The results file is written to a temp file beside it and renamed into place when the run completes
(``ResultsWriter``), so a crashed run never leaves a half-written file behind. A row holds no message text
unless ``--snippets`` asks for each text's start.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal, TextIO

from boundaryline.files import AtomicFile, write_atomic
from boundaryline.inbox import BadRecord, Message, SystemNotice
from boundaryline.owner import Owner
from boundaryline.predict import Scorer
from boundaryline.progress import Reporter
from boundaryline.results import Score
from boundaryline.safe_text import FORMULA_START, markdown_cell, spreadsheet_cell
from boundaryline.scoring.history import Verdict
from boundaryline.senders import SenderSummary, address
from boundaryline.settings import LABELS

CHUNK_SIZE = 1_000
EXPLAIN_MODES = ("flagged", "all", "none")
ENGINES = ("local", "dask")
OUTPUT_FORMATS = ("csv", "jsonl")
TOP_TERMS = 5
RESULT_COLUMNS = [
    "id", "sender", "recipients", "date", "subject", "thread", "direction", "label", "flagged", "fired", "text_label",
    *(f"p_{label}" for label in LABELS), "top_terms", "pattern", "unanswered", "span_days", "after_refusal",
    "channels", "truncated", "quoted_only", "source", "snippet",
]  # fmt: skip
SNIPPET_CHARS = 200
PROBABILITY_COLUMNS = [f"p_{label}" for label in LABELS]
PATTERN_COLUMNS = ["pattern", "unanswered", "span_days", "after_refusal", "channels"]
# Results columns whose text comes from the export (the rest the scorer writes: labels, numbers, our reasons).
AUTHORED_CELLS = tuple(
    RESULT_COLUMNS.index(c) for c in ("id", "sender", "recipients", "subject", "thread", "source", "snippet")
)


@dataclass
class BatchSummary:
    """What a batch run found; ``to_dict`` is what goes into ``*.summary.json``."""

    inbox: str
    results_file: str
    model_version: str
    scored: int = 0
    skipped: int = 0
    outgoing: int = 0  # the owner's own messages: not labelled, used only for the reply history
    owner: Owner | None = None  # who the owner is and how that was decided (``owner.decide_owner``)
    history_applied: bool = False  # the owner is known and wrote in the export, so replies (or their absence) show
    thresholds: dict[str, float] = field(default_factory=dict)
    labels: Counter[str] = field(default_factory=Counter)
    skipped_records: list[dict[str, Any]] = field(default_factory=list)
    not_messages: Counter[str] = field(default_factory=Counter)  # system notices by kind: counted, not scored
    flagged: list[dict[str, Any]] = field(default_factory=list)
    senders: list[dict[str, Any]] = field(default_factory=list)

    def skip(self, record: BadRecord) -> None:
        self.skipped += 1
        self.skipped_records.append(
            {"source": record.source, "location": record.location, "field": record.field, "reason": record.reason}
        )

    def count_notice(self, notice: SystemNotice) -> None:
        self.not_messages[notice.kind] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "inbox": self.inbox,
            "results_file": self.results_file,
            "model_version": self.model_version,
            "scored": self.scored,
            "skipped": self.skipped,
            "outgoing": self.outgoing,
            "owner": self.owner.to_dict() if self.owner else None,
            "history_applied": self.history_applied,
            "thresholds": self.thresholds,
            "not_messages": dict(self.not_messages),
            "labels": {label: self.labels.get(label, 0) for label in LABELS},
            "flagged": self.flagged,
            "senders_by_concern": self.senders,
            "skipped_records": self.skipped_records,
        }


@dataclass(frozen=True, slots=True)
class TextSide:
    """What the results file takes from a message's score, kept (with the message minus its text) until the
    history pass has given every message its direction and combined label."""

    text_label: str
    probabilities: tuple[float, ...]  # rounded to 4 places, in ``LABELS`` order
    top_terms: str  # "term (+0.12); term (+0.08)"
    snippet: str = ""  # the scored text's start, only when asked for (``--snippets``): results hold no text otherwise

    @classmethod
    def of(cls, score: Score, text: str | None = None) -> TextSide:
        """``text``: the scored text, when the results are to carry its first ``SNIPPET_CHARS`` characters."""
        terms = "; ".join(f"{c.term} ({c.weight:+.2f})" for c in score.explanation or [])
        snippet = " ".join(text.split())[:SNIPPET_CHARS].rstrip() if text else ""
        return cls(score.label, tuple(round(score.scores[label], 4) for label in LABELS), terms, snippet)


def result_row(message: Message, side: TextSide, verdict: Verdict) -> dict[str, Any]:
    """One line of a JSON Lines results file (the text side's keys first, then the verdict's)."""
    return {
        "id": message.id,
        "sender": message.sender or "",
        "recipients": message.recipients or "",
        "date": message.date.isoformat() if message.date else "",
        "subject": message.subject or "",
        "thread": message.thread or "",
        "text_label": side.text_label,
        **dict(zip(PROBABILITY_COLUMNS, side.probabilities, strict=True)),
        "top_terms": side.top_terms,
        "truncated": message.truncated,
        "quoted_only": message.quoted_only,
        "source": message.source,
        "snippet": side.snippet,
    } | verdict.columns()


def result_tuple(message: Message, side: TextSide, verdict: Verdict) -> tuple[Any, ...]:
    """The same line as ``result_row``, as a tuple in ``RESULT_COLUMNS`` order, for ``csv.writer``."""
    get = verdict.columns().get
    return (
        message.id,
        message.sender or "",
        message.recipients or "",
        message.date.isoformat() if message.date else "",
        message.subject or "",
        message.thread or "",
        verdict.direction,
        verdict.label,
        verdict.flagged,
        verdict.fired,
        get("text_label", side.text_label),
        *side.probabilities,
        side.top_terms,
        *(get(column, "") for column in PATTERN_COLUMNS),
        message.truncated,
        message.quoted_only,
        message.source,
        side.snippet,
    )


@dataclass(frozen=True)
class ScoreOptions:
    """How to read an export and what to write: everything ``score_inbox`` takes besides the paths."""

    fmt: str | None = None  # input format; None: detected
    text_column: str | None = None
    output_format: str | None = None  # csv or jsonl; None: from the --out extension (csv by default)
    jobs: int = 1
    owner: str | Sequence[str] | None = None  # the owner's name or address (several: aliases); None: owner.py
    explain: str = "flagged"  # which rows get their top terms: flagged, all, none
    chunk_size: int = CHUNK_SIZE
    delimiter: str | None = None  # CSV separator; None: sniffed from the header line
    sheet: str | None = None  # .xlsx sheet; None: the first
    engine: str = "local"  # local: this machine's cores (--jobs); dask: a Dask cluster (parts.py)
    scheduler: str | None = None  # the Dask scheduler's address; None: a LocalCluster of --jobs workers
    partition_bytes: int | None = None  # about how many bytes a partition holds; None: from the size and --jobs
    snippets: bool = False  # the results carry each scored text's first 200 characters (off: they hold no text)

    def __post_init__(self) -> None:
        if self.explain not in EXPLAIN_MODES:
            raise ValueError(f"explain must be one of {', '.join(EXPLAIN_MODES)}, got {self.explain!r}")
        if self.output_format is not None and self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}, got {self.output_format!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        for name in self.owner_names:
            if not address(name):
                raise ValueError(f"--owner {name!r} holds no address; give the inbox owner's e-mail or name")

    @property
    def owner_names(self) -> tuple[str, ...]:
        return (self.owner,) if isinstance(self.owner, str) else tuple(self.owner or ())


Record = Message | BadRecord | SystemNotice
NotScored = BadRecord | SystemNotice


def chunks(records: Iterable[Record], size: int) -> Iterator[tuple[list[Message], list[NotScored]]]:
    """The stream in chunks of ``size`` records, each split into messages to score and the rest (bad records,
    system notices)."""
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield [r for r in chunk if isinstance(r, Message)], [r for r in chunk if not isinstance(r, Message)]


def score_chunk(messages: list[Message], scorer: Scorer, explain: str) -> list[Score]:
    wanted: bool | Literal["flagged"] = "flagged" if explain == "flagged" else explain == "all"
    return scorer.score([m.text for m in messages], explain=wanted, top_k=TOP_TERMS)


class ResultsWriter:
    """CSV or JSON Lines rows into a temp file beside the destination; ``commit`` renames it into place.

    A ``piece`` is rows only (no header, no byte-order mark, no fsync), to be appended to a results file
    whole: a partition's rows, written by a worker (``parts.py``)."""

    def __init__(self, path: Path, output_format: str, *, piece: bool = False) -> None:
        self.path = path
        # utf-8-sig: spreadsheet programs then open non-ASCII names and subjects correctly; a piece lives only
        # until the end of its run, so it is not fsynced
        encoding = "utf-8-sig" if output_format == "csv" and not piece else "utf-8"
        self.file = AtomicFile(path, text=True, encoding=encoding, durable=not piece, private=True)
        self.handle: TextIO = self.file.handle  # type: ignore[assignment]  # opened in text mode
        self.csv = csv.writer(self.handle) if output_format == "csv" else None
        if self.csv and not piece:
            self.csv.writerow(RESULT_COLUMNS)

    def write(self, message: Message, side: TextSide, verdict: Verdict) -> None:
        if self.csv:
            row = result_tuple(message, side, verdict)
            # The cells an export's author wrote, shown by a spreadsheet and never run (safe_text); the others
            # are ours. The JSON Lines output keeps them raw. (Checked by position: ~1 µs a row, not ~9.)
            if any(row[i][:1] in FORMULA_START for i in AUTHORED_CELLS):
                row = tuple(spreadsheet_cell(c) if type(c) is str else c for c in row)
            self.csv.writerow(row)
        else:
            self.handle.write(json.dumps(result_row(message, side, verdict), ensure_ascii=False) + "\n")

    def append_piece(self, piece: Path) -> None:
        """The bytes of a piece written by another writer, after the rows so far."""
        self.handle.flush()
        with piece.open("rb") as source:
            shutil.copyfileobj(source, self.handle.buffer, 1 << 20)

    def commit(self) -> None:
        self.file.commit()

    def abort(self) -> None:
        self.file.abort()


OUTPUT_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def results_path(inbox: Path, out: Path | None, output_format: str | None, reports_dir: Path) -> tuple[Path, str]:
    """Where the results go and in which format. Default: ``reports/<inbox>.results.csv`` in the project (git
    ignored). The format follows ``out``'s extension; a folder or an extension that names no format we write
    is refused (``check_outputs`` refuses the inputs)."""
    if out is None:
        fmt = output_format or "csv"
        return reports_dir / f"{inbox.name}.results.{fmt}", fmt
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; name a file in it, such as {out / 'results.csv'}")
    found = OUTPUT_EXTENSIONS.get(out.suffix.lower())
    if found is None:
        raise ValueError(
            f"--out {out}: cannot tell the format from {out.suffix or 'no extension'!r}; use .csv or .jsonl"
        )
    if output_format is not None and output_format != found:
        raise ValueError(f"--out {out} is {found}, but --output-format says {output_format}; drop one of them")
    return out, found


def summary_paths(out: Path) -> tuple[Path, Path]:
    """The summaries written beside a results file: ``*.summary.json`` and ``*.summary.md``."""
    return out.with_name(out.stem + ".summary.json"), out.with_name(out.stem + ".summary.md")


def check_outputs(out: Path, inputs: Sequence[Path]) -> None:
    """Before any scoring: refuse a run whose results file or summaries would replace an input (the same path,
    a link to it, or a place inside an input folder), and one whose folder cannot be written."""
    for target in (out, *summary_paths(out)):
        resolved = target.resolve()
        for source in inputs:
            origin = source.resolve()
            same = resolved == origin or (target.exists() and source.exists() and os.path.samefile(target, source))
            if same or (origin.is_dir() and origin in resolved.parents):
                what = "--out" if target == out else f"the summary {target.name} of --out"
                raise ValueError(
                    f"{what} {out} would write over (or into) the inbox being read ({source}); choose another place"
                )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as error:
        raise ValueError(f"cannot write the results into {out.parent}: {error.strerror or error}") from error


def write_rows(
    writer: ResultsWriter,
    summary: BatchSummary,
    rows: Iterable[tuple[Message, TextSide]],
    verdicts: Iterable[Verdict],
) -> None:
    """Each message (without its text) and its text side joined to its verdict and written; the outgoing,
    label counts and flagged messages counted into ``summary``."""
    for (message, side), verdict in zip(rows, verdicts, strict=True):
        writer.write(message, side, verdict)
        if verdict.direction == "outgoing":
            summary.outgoing += 1
            continue
        summary.labels[verdict.label] += 1
        if verdict.flagged:
            summary.flagged.append(_flag_entry(message, side, verdict))


def write_summary(summary: BatchSummary, senders: list[SenderSummary], out: Path, reporter: Reporter) -> None:
    """The ranked senders into ``summary``, then ``*.summary.json`` and ``*.summary.md`` beside ``out``."""
    summary.senders = [s.to_dict() for s in senders]
    # Compact JSON: the C encoder is ~10x faster than indent=2 on a summary listing thousands of messages.
    # Private, as the results are: both name senders and subjects.
    write_atomic(summary_paths(out)[0], json.dumps(summary.to_dict(), default=str) + "\n", private=True)
    markdown = format_summary(summary)
    write_atomic(summary_paths(out)[1], markdown, private=True)
    reporter.summary(markdown)


def _flag_entry(message: Message, side: TextSide, verdict: Verdict) -> dict[str, Any]:
    label = verdict.label
    return {
        "id": message.id,
        "sender": message.sender or None,
        "date": message.date.isoformat() if message.date else None,
        "subject": message.subject or None,
        "label": label,
        "fired": verdict.fired,
        "probability": side.probabilities[LABELS.index(label)],
        "top_terms": [term.rsplit(" (", 1)[0] for term in side.top_terms.split("; ") if term],
        "pattern": verdict.reason or None,
    }


OWNER_HINT = "name the owner with --owner NAME_OR_ADDRESS (make score OWNER=…, or BOUNDARYLINE_OWNER)"


def history_line(summary: BatchSummary) -> str:
    """Who the owner is, how that was decided, and whether the sender history could be applied."""
    owner = summary.owner
    if owner is None or not owner.decided:
        why = markdown_cell(owner.how) if owner is not None else "no messages"
        return (
            f"Owner not decided: {why}. Sender history not applied (the owner's own messages could not be told from"
            f" the others'); labels are the text's: {OWNER_HINT}."
        )
    who = f"Owner: {markdown_cell(', '.join(sorted(owner.aliases)))} ({markdown_cell(owner.how)})."
    if summary.history_applied:
        return (
            f"{who} Sender history applied: the export holds {summary.outgoing} of the owner's own messages (not"
            " labelled; they show the replies)."
        )
    return (
        f"{who} Sender history not applied: the export holds none of the owner's own messages, so a missing reply"
        f" cannot be told from one not exported; labels are the text's. If the owner is someone else, {OWNER_HINT}."
    )


def markdown_table(columns: Sequence[tuple[str, bool]], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown (pipe) table of ``rows`` under ``columns`` (name, right-aligned), each column as wide as
    its widest cell, at least its name and two spaces (as pandas' ``to_markdown`` lays it out)."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [max([len(name) + 2, *(len(row[i]) for row in cells)]) for i, (name, _) in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                value.rjust(width) if right else value.ljust(width)
                for value, width, (_, right) in zip(values, widths, columns, strict=True)
            )
            + " |"
        )

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if right else (":" + "-" * (w + 1))
            for w, (_, right) in zip(widths, columns, strict=True)
        )
        + "|"
    )
    return "\n".join([line([name for name, _ in columns]), rule, *(line(row) for row in cells)])


def format_summary(summary: BatchSummary, max_rows: int = 15) -> str:
    """The human-readable summary: counts, the senders of concern, the flagged messages. Every text from the
    export is shown, never acted on (``safe_text.markdown_cell``): it is printed to a terminal too."""
    counts = markdown_table(
        [("label", False), ("messages", True)], [(label, summary.labels.get(label, 0)) for label in LABELS]
    )
    senders = markdown_table(
        [("sender", False), ("sent", True), ("pestering", True), ("propositions", True),
         ("longest run without a reply", True), ("shortest gap", False)],
        [
            (
                markdown_cell(s["sender"]),
                s["messages"],
                s["labels"].get("pestering", 0),
                s["labels"].get("inappropriate_proposition", 0),
                s["longest_unanswered_run"],
                s["shortest_gap"] or "–",
            )
            for s in summary.senders[:max_rows]
        ],
    )  # fmt: skip
    shown = summary.flagged[: max_rows * 2]
    flagged = markdown_table(
        [("date", False), ("sender", False), ("subject", False), ("label", False), ("p", True), ("why", False),
         ("evidence", False)],
        [
            (
                e["date"] or "",
                markdown_cell(e["sender"] or ""),
                markdown_cell(e["subject"] or ""),
                e["label"],
                f"{e['probability']:.2f}",
                e["fired"],
                markdown_cell("; ".join(x for x in (", ".join(e["top_terms"][:3]), e.get("pattern") or "") if x)),
            )
            for e in shown
        ],
    )  # fmt: skip
    more = len(summary.flagged) - len(shown)
    history = history_line(summary)
    thresholds = json.dumps(summary.thresholds) if summary.thresholds else "arg-max"
    results_file = markdown_cell(summary.results_file)
    lines = [
        f"# Inbox summary: {markdown_cell(summary.inbox)}",
        "",
        f"Model {summary.model_version}, thresholds {thresholds}. Scored {summary.scored} message(s),"
        f" skipped {summary.skipped}. "
        f"Results: `{results_file}`."
        + (
            f" Not people's messages, counted and not scored: {sum(summary.not_messages.values())} ("
            + ", ".join(f"{markdown_cell(kind)} {n}" for kind, n in summary.not_messages.most_common())
            + ")."
            if summary.not_messages
            else ""
        ),
        "",
        history,
        "",
        counts,
        "",
        "## Senders ranked by concern",
        "",
        senders,
        "",
        f"## Flagged messages ({len(summary.flagged)})",
        "",
        flagged,
        *(["", f"{more:,} more in the results file (`{results_file}`, column `flagged`)."] if more > 0 else []),
    ]
    if summary.skipped:
        lines += ["", f"## Skipped records ({summary.skipped})", ""]
        lines += [
            markdown_cell(
                f"- {r['source']}: {r['location']}"
                + (f", field {r['field']!r}" if r["field"] else "")
                + f": {r['reason']}"
            )
            for r in summary.skipped_records[:50]
        ]
    return "\n".join(lines) + "\n"
