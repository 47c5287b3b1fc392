"""The LinkedIn data export's ``messages.csv`` (Settings → Data privacy → Get a copy of your data)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from boundaryline.inbox.confine import OUTSIDE, inside
from boundaryline.inbox.records import BadRecord, Message
from boundaryline.inbox.tabular import read_csv

LINKEDIN_COLUMNS = ("CONVERSATION ID", "FROM", "TO", "DATE", "CONTENT")


def is_linkedin_header(header: str) -> bool:
    upper = header.upper()
    return all(column in upper for column in LINKEDIN_COLUMNS)


def read_linkedin_messages(path: Path) -> Iterator[Message | BadRecord]:
    """Rows of ``messages.csv``: CONTENT is the text (HTML converted), FROM/TO the people, CONVERSATION ID
    the thread. A folder holding the export's ``messages.csv`` works too (not one linked from outside it)."""
    if path.is_dir():
        folder, path = path, path / "messages.csv"
        if not inside(path, folder):
            yield BadRecord(str(folder), path.name, OUTSIDE)
            return
    yield from read_csv(path, text_column="CONTENT")
