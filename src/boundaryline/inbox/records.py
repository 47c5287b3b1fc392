"""What every inbox reader yields: one ``Message``; one ``BadRecord`` that says what was wrong and where; or
one ``SystemNotice`` for an entry of the export that is no person's message (a Slack join notice, a
WhatsApp "<Media omitted>" line)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Direction = Literal["incoming", "outgoing"]


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
    direction: Direction | None = None  # "outgoing": the owner's own mail (Gmail's Sent label); None: unknown
    channel: str | None = None  # email, linkedin_dm, text_message, chat…: from the export, or a channel column
    mailing_list: str | None = None  # the list that relayed it (List-Id, List-Post, "X via list"): never the owner


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


@dataclass(frozen=True, slots=True)
class SystemNotice:
    """An entry that is well formed but no person's message (a Slack ``channel_join``, a bot post, a WhatsApp
    "X added Y" line or "<Media omitted>"). Counted by kind in the summary, never scored, and not an error:
    nothing in the export is wrong, so it is not a ``BadRecord``."""

    source: str
    location: str
    kind: str  # what it is, e.g. "Slack channel_join", "WhatsApp media omitted"

    def __str__(self) -> str:
        return f"{self.source}: {self.location}: {self.kind}"
