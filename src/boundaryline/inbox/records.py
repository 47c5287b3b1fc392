"""The record every inbox reader yields: one ``Message``, or one ``BadRecord`` that says what was wrong and where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Message:
    """One received (or sent) message, reduced to what scoring and the sender summary need."""

    id: str
    text: str
    source: str  # where it came from: "inbox.csv:line 12", "Takeout.mbox:record 7", "eml/abc.eml"
    sender: str | None = None
    recipients: str | None = None
    date: datetime | None = None
    subject: str | None = None
    thread: str | None = None  # conversation id where the export has one
    truncated: bool = False  # the text was cut to the length limit before scoring
    quoted_only: bool = False  # the sender added nothing: the text scored is the message they quoted


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that could not be read; reported, counted and skipped, never silently dropped."""

    source: str  # file path
    location: str  # "line 12", "record 7", a file name inside a folder
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}: {self.location}" + (f", field {self.field!r}" if self.field else "")
        return f"{where}: {self.reason}"
