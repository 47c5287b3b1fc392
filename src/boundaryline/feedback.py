"""The feedback store: labelled examples sent to the service, kept for retraining in SQLite (WAL mode).

One short-lived connection per call keeps it safe across the service's threads and processes; WAL lets
readers (a retrain) work while the service writes.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    message_id TEXT,
    channel TEXT,
    note TEXT,
    created TEXT NOT NULL,
    merged TEXT
)
"""


@dataclass(frozen=True)
class FeedbackItem:
    id: str
    text: str
    label: str
    message_id: str | None
    channel: str | None
    note: str | None
    created: str
    merged: str | None


class FeedbackConflict(ValueError):
    """The client re-used an id for a different example."""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    def add(
        self,
        text: str,
        label: str,
        *,
        id: str | None = None,
        message_id: str | None = None,
        channel: str | None = None,
        note: str | None = None,
    ) -> tuple[FeedbackItem, bool]:
        """Store one example; returns it and whether it is new. The same id twice stores it once."""
        item_id = id or uuid.uuid4().hex
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            inserted = db.execute(
                "INSERT INTO feedback (id, text, label, message_id, channel, note, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                (item_id, text, label, message_id, channel, note, created),
            ).rowcount
            row = db.execute("SELECT * FROM feedback WHERE id = ?", (item_id,)).fetchone()
        item = FeedbackItem(*row)
        if not inserted and (item.text, item.label) != (text, label):
            raise FeedbackConflict(f"feedback id {item_id!r} already holds a different example")
        return item, bool(inserted)

    def items(self, *, pending_only: bool = False) -> list[FeedbackItem]:
        query = (
            "SELECT * FROM feedback" + (" WHERE merged IS NULL" if pending_only else "") + " ORDER BY rowid"
        )  # insertion order
        with self._connect() as db:
            return [FeedbackItem(*row) for row in db.execute(query)]

    def mark_merged(self, ids: Iterable[str], version: str) -> None:
        """Record that these examples went into the corpus (with the model version they first trained)."""
        stamp = f"{datetime.now(UTC).isoformat(timespec='seconds')} {version}"
        with self._connect() as db:
            db.executemany("UPDATE feedback SET merged = ? WHERE id = ?", [(stamp, i) for i in ids])

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])
