"""Partitions of an archive: the pieces that workers (processes, or a Dask cluster) read and score on their own.

An archive is one or several paths (a glob is expanded; a folder that is no single export is read file by
file). Each becomes one or more partitions, in reading order:

- a CSV or JSON Lines file is split into byte ranges of about ``target_bytes``. JSON Lines splits after any
  line end. A CSV splits only at a record boundary: a line end preceded by an even number of quote
  characters (a quoted field's line ends come after an odd number). The header is read once, here, and
  handed to every range with the encoding and the separator. A file whose encoding does not keep line ends
  as single bytes (UTF-16, UTF-32, multi-byte Asian code pages) or that ends lines with a lone carriage
  return is one partition. Each range reader reports where it stopped; if the ranges of a file did not meet
  exactly (a quote inside an unquoted field misleads the count), that file is read again as one partition;
- an mbox file (a Gmail Takeout "All mail") splits at ``From `` separator lines, as its reader does;
- a Maildir, a folder of .eml/.emlx files or a Thunderbird/Takeout folder splits by file;
- any other export (xlsx, a JSON array, Slack, WhatsApp, LinkedIn, winmail.dat) is one partition.

Every record keeps the location (file, line, record) it has when the whole file is read by one process.

Nothing found by walking a folder or matching a glob is read outside that folder (``inbox.confine``): a file
whose path or link leads out of it is a partition of one bad record, never opened. A path given as it is is
read wherever it leads.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from boundaryline.inbox import CHANNEL_OF_FORMAT, BadRecord, Message, SystemNotice, detect_format, finish_records
from boundaryline.inbox import read_inbox as read_whole
from boundaryline.inbox.confine import OUTSIDE, inside, relative
from boundaryline.inbox.formats import FORMAT
from boundaryline.inbox.mail import message_files, read_mbox, read_message_files
from boundaryline.inbox.rawmail import separator_offsets
from boundaryline.inbox.tabular import CsvLayout, RangeCursor, csv_layout, read_csv_range, read_jsonl

Record = Message | BadRecord | SystemNotice
DEFAULT_TARGET_BYTES = 16 << 20
MIN_TARGET_BYTES = 64 << 10
# Encodings in which "\n" and '"' are single bytes that never occur inside another character.
_SPLITTABLE_ENCODINGS = ("utf-8", "utf8", "ascii", "latin", "iso-8859", "iso8859", "cp125", "windows-125", "koi8")


@dataclass(frozen=True)
class ReadOptions:
    """How the inputs are read: the parts of ``ScoreOptions`` that the readers take."""

    fmt: str | None = None
    text_column: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    max_chars: int = 20_000


@dataclass(frozen=True)
class Partition:
    """One piece of the archive: a whole input, a byte range of a CSV/JSONL file, or some files of a folder."""

    index: int
    path: Path  # the input as given (records name it as the whole-file reader does)
    fmt: str
    start: int = 0  # byte range [start, end) of a split CSV/JSONL file; end None: to the end of the file
    end: int | None = None
    first_line: int = 1  # the file's line number at ``start``
    records_before: int = 0  # a split mbox: the messages before ``start``
    csv: CsvLayout | None = None  # the header and separator of a split CSV, read once by the planner
    files: tuple[Path, ...] | None = None  # some of a mail folder's files
    ranged: bool = False  # a byte range of a split file (its reader reports where it stopped)
    outside_of: Path | None = None  # the folder ``path`` was found in and leads out of: one bad record, not read

    def describe(self) -> str:
        if self.files is not None:
            return f"{self.path} ({len(self.files)} file(s))"
        return (
            f"{self.path} bytes {self.start}-{'' if self.end is None else self.end}" if self.ranged else str(self.path)
        )


class Inputs(list[Path]):
    """The inputs ``expand_inputs`` found, in order; ``outside`` holds the glob matches it left out because
    they lead out of the pattern's folder, each with that folder (``plan_partitions`` reports them)."""

    def __init__(self, paths: Iterable[Path] = (), outside: Iterable[tuple[Path, Path]] = ()) -> None:
        super().__init__(paths)
        self.outside = list(outside)


def _pattern_folder(pattern: Path) -> Path:
    """The folder a glob searches: its parts before the first one with ``*``, ``?`` or ``[``."""
    fixed: list[str] = []
    for part in pattern.parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def expand_inputs(paths: Sequence[Path]) -> Inputs:
    """The inputs named by ``paths``: a path that does not exist but holds ``*``, ``?`` or ``[`` is a glob
    (sorted), anything else is kept as given; a path that exists nowhere is refused. A glob's match that leads
    out of the pattern's folder (a link, ``**`` through a linked folder) is not an input: it is kept in
    ``outside``, to be reported and never read."""
    found = Inputs(outside=paths.outside if isinstance(paths, Inputs) else ())
    for path in paths:
        if not path.exists() and glob.has_magic(str(path)):
            matches = sorted(glob.glob(str(path), recursive=True))
            if not matches:
                raise FileNotFoundError(f"{path}: the pattern matches no file")
            folder = _pattern_folder(path)
            confined = [(match, inside(match, folder)) for match in map(Path, matches)]
            kept = [match for match, ok in confined if ok]
            if not kept:
                raise FileNotFoundError(
                    f"{path}: the pattern matches no file inside {folder}; its {len(matches)} match(es) lead out of"
                    " it (links), and are not read"
                )
            found += kept
            found.outside += [(match, folder) for match, ok in confined if not ok]
        elif not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        else:
            found.append(path)
    return found


def _exports(path: Path, fmt: str | None) -> list[tuple[Path, str | None]]:
    """``path`` with its format; a folder that is no single export, each file below it that is one, and each
    that leads out of the folder (format None: reported, never opened to tell its format)."""
    if fmt is not None or not path.is_dir():
        return [(path, fmt or detect_format(path))]
    try:
        return [(path, detect_format(path))]
    except ValueError as error:
        not_one = error
    exports: list[tuple[Path, str | None]] = []
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if not inside(file, path):
            exports.append((file, None))
            continue
        try:
            exports.append((file, detect_format(file)))
        except ValueError:
            continue  # not an export (a README, an image): not a record of the archive either
    if not any(found for _, found in exports):
        raise ValueError(f"{not_one}; nor any file of a known format below it")
    return exports


def _splittable(encoding: str) -> bool:
    name = encoding.lower().replace("_", "-")
    return name.startswith(_SPLITTABLE_ENCODINGS)


def _cut_points(path: Path, start: int, target: int, *, quotes: bool) -> list[tuple[int, int]] | None:
    """Byte offsets (and the line number there) after ``start`` where a new range may begin, about ``target``
    bytes apart: line starts, and with ``quotes`` only those after an even number of quote characters. None
    when a lone carriage return ends a line (the whole-file reader would split there, a byte reader not)."""
    cuts: list[tuple[int, int]] = []
    with path.open("rb") as handle:
        handle.seek(start)
        offset, line, inside, next_cut = start, 1, False, start + target
        for raw in handle:
            offset += len(raw)
            line += 1
            if raw.count(b"\r") > raw.endswith(b"\r\n"):
                return None
            if quotes and raw.count(b'"') % 2:
                inside = not inside
            if offset >= next_cut and not inside:
                cuts.append((offset, line))
                next_cut = offset + target
    return cuts


def _ranges(
    index: int, path: Path, fmt: str, start: int, first_line: int, target: int, layout: CsvLayout | None
) -> list[Partition]:
    cuts = _cut_points(path, start, target, quotes=layout is not None)
    size = path.stat().st_size
    if cuts is None:
        return [Partition(index, path, fmt)]
    cuts = [(offset, line) for offset, line in cuts if offset < size]
    bounds = [(start, first_line), *((offset, first_line + line - 1) for offset, line in cuts)]
    ends: list[int | None] = [offset for offset, _ in bounds[1:]] + [None]
    return [
        Partition(index + i, path, fmt, start=begin, end=end, first_line=line, csv=layout, ranged=True)
        for i, ((begin, line), end) in enumerate(zip(bounds, ends, strict=True))
    ]


def plan_partitions(paths: Sequence[Path], options: ReadOptions, target_bytes: int) -> list[Partition]:
    """The partitions of the archive named by ``paths``, in reading order (see the module's docstring)."""
    target = max(target_bytes, 1)
    partitions: list[Partition] = []
    inputs = expand_inputs(paths)
    for given in inputs:
        for path, fmt in _exports(given, options.fmt):
            if fmt is None:
                partitions.append(Partition(len(partitions), path, "", outside_of=given))
            else:
                partitions += _plan_one(len(partitions), path, fmt, options, target)
    for path, folder in inputs.outside:
        partitions.append(Partition(len(partitions), path, "", outside_of=folder))
    return partitions


def whole_file(partition: Partition) -> Partition:
    """The same input read whole, as one partition: what a file whose ranges did not meet is read as."""
    return Partition(partition.index, partition.path, partition.fmt)


def _plan_one(index: int, path: Path, fmt: str, options: ReadOptions, target: int) -> list[Partition]:
    split = FORMAT[fmt].split  # how the registry says this format is partitioned
    if path.is_dir() and split == "files":
        groups: list[list[Path]] = [[]]
        size = 0
        for file in message_files(path, fmt):
            if size >= target:
                groups.append([])
                size = 0
            groups[-1].append(file)
            size += file.stat().st_size
        return [Partition(index + i, path, fmt, files=tuple(group)) for i, group in enumerate(groups)]
    if path.is_file() and path.stat().st_size > target:
        if split == "mbox":
            return _mbox_ranges(index, path, target)
        if split == "lines":
            return _ranges(index, path, fmt, 0, 1, target, None)
        if split == "csv":
            delimiter = options.delimiter or ("\t" if fmt == "tsv" else None)
            layout = csv_layout(path, text_column=options.text_column, delimiter=delimiter)
            if _splittable(layout.encoding):
                return _ranges(index, path, fmt, layout.data_start, layout.data_line + 1, target, layout)
    return [Partition(index, path, fmt)]


def _mbox_ranges(index: int, path: Path, target: int) -> list[Partition]:
    """A big mbox cut at ``From `` lines (where the reader starts a message) about ``target`` bytes apart. A
    file with text before its first ``From `` line is read whole (that text is reported after its messages)."""
    with path.open("rb") as handle:
        if handle.read(5) != b"From ":
            return [Partition(index, path, "mbox")]
        handle.seek(0)
        bounds: list[tuple[int, int]] = [(0, 0)]
        next_cut = target
        for records, offset in enumerate(separator_offsets(handle)):  # records: the messages before this one
            if offset >= next_cut:
                bounds.append((offset, records))
                next_cut = offset + target
    ends: list[int | None] = [start for start, _ in bounds[1:]] + [None]
    return [
        Partition(index + i, path, "mbox", start=start, end=end, records_before=before, ranged=True)
        for i, ((start, before), end) in enumerate(zip(bounds, ends, strict=True))
    ]


def read_partition(partition: Partition, options: ReadOptions, cursor: RangeCursor | None = None) -> Iterator[Record]:
    """The records of one partition, as the whole-file reader gives them for that piece; for a byte range,
    ``cursor`` ends at the offset where reading stopped."""
    path, fmt = partition.path, partition.fmt
    if partition.outside_of is not None:
        return iter([BadRecord(str(partition.outside_of), relative(path, partition.outside_of), OUTSIDE)])
    channel = CHANNEL_OF_FORMAT.get(fmt)
    if partition.files is not None:
        records: Iterator[Record] = read_message_files(path, fmt, partition.files)
        return finish_records(records, options.max_chars, channel, path)
    if partition.csv is not None:
        records = read_csv_range(path, partition.csv, partition.start, partition.end, partition.first_line, cursor)
        return finish_records(records, options.max_chars, channel, path)
    if partition.ranged and fmt == "mbox":
        records = read_mbox(path, start=partition.start, end=partition.end, records_before=partition.records_before)
        if cursor is not None:
            cursor.offset = partition.end or 0  # cut at separator lines, where the reader stops: ranges meet
        return finish_records(records, options.max_chars, channel, path)
    if partition.ranged:
        records = read_jsonl(
            path,
            text_column=options.text_column,
            start=partition.start,
            end=partition.end,
            first_line=partition.first_line,
        )
        if cursor is not None:
            cursor.offset = partition.end or 0  # a JSON line never spans a line end: ranges always meet
        return finish_records(records, options.max_chars, channel, path)
    return read_whole(
        path,
        fmt=fmt,
        text_column=options.text_column,
        max_chars=options.max_chars,
        delimiter=options.delimiter,
        sheet=options.sheet,
    )
