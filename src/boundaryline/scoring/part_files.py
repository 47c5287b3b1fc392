"""The files a partitioned run writes between its two passes, and how they are read back.

A part file (``part-N.scored.pickle``) holds one record per scored message: a tuple of the message's fields
without its text, the history pass's fields first (``HISTORY_FIELDS`` of them: the parent reads only those),
then what the results file takes from its score (``encode_part_line``; ``decode_kept`` and ``decode_row`` read
them back). The records are pickled, plain values only (read back by an unpickler that builds no object of
any class): written and read within one run, in the run's private folder, they cost a quarter of what JSON
lines did, and each is read twice. A piece is a partition's finished rows of the results file, written by a
worker and appended by the parent (``finish_piece``).
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from boundaryline.inbox import BadRecord, Message, SystemNotice
from boundaryline.scoring.history import Cues, Kept, Verdict
from boundaryline.scoring.output import BatchSummary, ResultsWriter, TextSide, write_rows

PART_SUFFIX = ".scored.pickle"
# Each record is pickled on its own and read back by one unpickler per file. Protocol 3 numbers the values a
# record repeats from 0 in each record; from protocol 4 on they are numbered by the unpickler's count so far,
# which runs on from record to record, so a repeated value of a later record would read an earlier one's.
PROTOCOL = 3


@dataclass(frozen=True)
class PartResult:
    """What a worker hands back for one partition: where its parts are and what it could not score."""

    index: int
    rows: Path
    scored: int
    not_scored: tuple[BadRecord | SystemNotice, ...]
    stopped_at: int | None  # a byte range: the offset where its reader stopped (it must be the next range's start)


HISTORY_FIELDS = 11  # the first fields of a part's line: what the parent needs for the history pass


def encode_part_line(message: Message, label: str, cues: Cues, side: TextSide) -> bytes:
    """A message without its text, as a record of plain values: the history pass's fields first (the parent
    reads only those), then what the results file takes from the message and its score."""
    date = message.date.isoformat() if message.date is not None else None
    fields = (message.id, message.sender, message.recipients, date, message.direction, message.channel,
              message.thread, message.mailing_list, label, cues.refusal, cues.request,
              message.subject, message.truncated, message.quoted_only, message.source,
              side.probabilities, side.top_terms, side.snippet)  # fmt: skip
    return pickle.dumps(fields, protocol=PROTOCOL)


def decode_kept(fields: Sequence[Any]) -> Kept:
    id_, sender, recipients, date, direction, channel, thread, relayed_by, label, refusal, request = fields[
        :HISTORY_FIELDS
    ]
    when = datetime.fromisoformat(date) if date is not None else None
    message = Message(
        id_, "", "", sender, recipients, when, thread=thread, direction=direction, channel=channel,
        mailing_list=relayed_by,
    )  # fmt: skip
    return message, label, Cues(refusal, request)


def decode_row(fields: Sequence[Any]) -> tuple[Message, TextSide]:
    """A part's line back as the message (without its text) and text side ``output.write_rows`` takes."""
    (id_, sender, recipients, date, direction, channel, thread, relayed_by, label, _, _,
     subject, truncated, quoted_only, source, probabilities, top_terms, snippet) = fields  # fmt: skip
    when = datetime.fromisoformat(date) if date is not None else None
    message = Message(
        id_, "", source, sender, recipients, when, subject=subject, thread=thread, truncated=truncated,
        quoted_only=quoted_only, direction=direction, channel=channel, mailing_list=relayed_by,
    )  # fmt: skip
    return message, TextSide(label, tuple(probabilities), top_terms, snippet)


@dataclass(frozen=True)
class PieceJob:
    """The second pass over one partition: its scored rows joined to their history verdicts."""

    index: int
    rows: Path
    verdicts: tuple[Verdict, ...]
    output_format: str
    piece: Path


@dataclass(frozen=True)
class Piece:
    """A partition's finished rows (to be appended to the results file) and what they add to the summary."""

    index: int
    path: Path
    outgoing: int
    labels: Counter[str]
    flagged: list[dict[str, Any]]


class _PlainValues(pickle.Unpickler):
    """Reads tuples, strings, numbers, booleans and None; refuses anything that names a class or function."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a part file holds plain values only, not {module}.{name}")


def part_lines(rows: Path) -> Iterator[tuple[Any, ...]]:
    """The records of a part file (``part-N.scored.pickle``), each a message's fields (``encode_part_line``)."""
    with rows.open("rb") as handle:
        load = _PlainValues(handle).load
        while handle.peek(1):
            yield load()


def write_piece(job: PieceJob) -> Piece:
    """Write one partition's finished rows (``finish_piece``) from its part file."""
    return finish_piece(job.index, part_lines(job.rows), job.verdicts, job.output_format, job.piece)


def finish_piece(
    index: int, lines: Iterable[Sequence[Any]], verdicts: Sequence[Verdict], output_format: str, piece: Path
) -> Piece:
    """A partition's part lines joined to their verdicts and written as ``output.write_rows`` writes them,
    without the file's header."""
    tally = BatchSummary(inbox="", results_file="", model_version="")
    writer = ResultsWriter(piece, output_format, piece=True)
    try:
        write_rows(writer, tally, (decode_row(fields) for fields in lines), verdicts)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return Piece(index, piece, tally.outgoing, tally.labels, tally.flagged)


def piece_path(result: PartResult, output_format: str) -> Path:
    return result.rows.with_name(f"part-{result.index:06d}.{output_format}")
