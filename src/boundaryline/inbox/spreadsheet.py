"""Excel workbooks (``.xlsx``): one sheet, its first row the column names, each further row a message.

Read with openpyxl in read-only mode, the engine pandas' ``read_excel`` uses for ``.xlsx``, but row by row:
``read_excel`` has no ``chunksize`` and would hold the whole sheet. Read-only mode still holds the shared
strings whole, and each cell whole, so the workbook's parts are measured before openpyxl opens it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from boundaryline.inbox.records import BadRecord, Message
from boundaryline.inbox.tabular import find_columns, to_message

# What one part of the workbook (a sheet's XML, the shared strings, any member of the zip) may unpack to.
# openpyxl holds the shared strings whole and each cell whole: memory is about 2.3 times the part (a 1 GiB cell,
# 1 MB zipped, took 2.35 GB). 256 MiB is a sheet of about a million short messages; a bigger sheet is read as
# a CSV, which streams.
MAX_XLSX_PART_BYTES = 256 << 20
# Excel's own limit for the characters of one cell: a longer cell was not written by Excel.
MAX_CELL_CHARS = 32_767


def _check_parts(path: Path) -> None:
    """Refuse a workbook any member of which unpacks to more than ``MAX_XLSX_PART_BYTES``, from the sizes its
    zip declares (zipfile never unpacks a member past its declared size). A file that is no zip is left to
    openpyxl, which says so."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return
    for member in members:
        if member.file_size > MAX_XLSX_PART_BYTES:
            raise ValueError(
                f"{path}: the workbook's part {member.filename!r} unpacks to {member.file_size:,} bytes, over the"
                f" {MAX_XLSX_PART_BYTES:,}-byte cap for one part; save the sheet as CSV (read as a stream) and"
                " score that"
            )


def _cell_text(value: Any, *, is_date: bool = False) -> str | None:
    """A cell as the text ``to_message`` expects: dates in ISO 8601, whole numbers without ".0"; a number in
    the date column is an Excel serial date (a date cell whose format was lost)."""
    if value is None:
        return None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int | float):
        if is_date:
            from openpyxl.utils.datetime import from_excel

            try:
                return str(from_excel(value).isoformat())
            except (ValueError, OverflowError):
                return str(value)
        return str(int(value)) if float(value).is_integer() else str(value)
    return str(value)


def read_xlsx(path: Path, *, sheet: str | None = None, text_column: str | None = None) -> Iterator[Message | BadRecord]:
    """The rows of one sheet (the first, or ``sheet``), streamed; locations are the sheet's row numbers. A
    workbook with a part over ``MAX_XLSX_PART_BYTES`` is refused (ValueError) before openpyxl reads it; a row
    with a cell over ``MAX_CELL_CHARS`` is one bad record."""
    from openpyxl import load_workbook

    source = str(path)
    _check_parts(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # not a zip, not a workbook: the file as a whole is unusable
        raise ValueError(f"{path}: not a readable .xlsx workbook ({type(error).__name__}: {error})") from error
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ValueError(f"{path}: no sheet {sheet!r}; the sheets are {', '.join(workbook.sheetnames)}")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        rows = worksheet.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None or all(value is None for value in first):
            raise ValueError(f"{path}: sheet {worksheet.title!r} is empty or has no header row")
        cells = list(first)
        while cells and cells[-1] is None:  # the sheet's width, not the header's, pads the first row
            cells.pop()
        header = [_cell_text(value) or f"column {i}" for i, value in enumerate(cells, start=1)]
        header = [name.strip() for name in header]
        try:
            columns = find_columns(header, text_column)
        except ValueError as error:
            raise ValueError(f"{path}: sheet {worksheet.title!r}: {error}") from None
        date_column = columns.get("date")
        for number, row in enumerate(rows, start=2):
            if all(value is None or str(value).strip() == "" for value in row):
                continue  # an empty row, as a spreadsheet shows many
            location = f"sheet {worksheet.title!r}, row {number}"
            long = next((i for i, v in enumerate(row) if isinstance(v, str) and len(v) > MAX_CELL_CHARS), None)
            if long is not None:
                field = header[long] if long < len(header) else f"column {long + 1}"
                yield BadRecord(
                    source,
                    location,
                    f"a cell of {len(row[long]):,} characters, over {MAX_CELL_CHARS:,} (Excel's own limit)",
                    field,
                )
                continue
            extra = [value for value in row[len(header) :] if value is not None and str(value).strip()]
            if extra:
                yield BadRecord(source, location, f"{len(extra)} value(s) right of the last named column")
                continue
            record = {
                name: _cell_text(value, is_date=name == date_column) for name, value in zip(header, row, strict=False)
            }
            yield to_message(record, columns, source, location, f"{path.stem}:{number}")
    finally:
        workbook.close()
