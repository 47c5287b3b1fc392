"""The feedback store: labelled examples sent to the service, kept for retraining in SQLite (WAL mode).

A correction waits for review (``boundaryline feedback list|accept|reject``, the page's Corrections tab):
only accepted ones are merged by a retrain (``BOUNDARYLINE_FEEDBACK_AUTO_ACCEPT`` merges every one not
rejected). Whether a correction is merged follows the corpus in service (``reconcile``): a rollback to a
version without it puts it back in the queue, and going forward again marks it merged, never twice.

One short-lived connection per call keeps it safe across the service's threads and processes; WAL lets
readers (a retrain) work while the service writes.

The store holds message text, so its file is its owner's alone (0600): created so before SQLite opens it,
whatever the umask, and an older store's files are made so on open. SQLite gives its ``-wal`` and ``-shm``
files the database file's permissions, ignoring the umask.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boundaryline.data import text_key

if TYPE_CHECKING:
    from boundaryline.predict import Scorer

log = logging.getLogger("boundaryline")
PRIVATE = 0o600  # the store's file and SQLite's -wal and -shm files beside it
SIDE_FILES = ("-wal", "-shm")

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
# Added by issue 21; a store made before gets them on first open.
REVIEW_COLUMNS = {"review": "TEXT", "reviewed": "TEXT"}
REVIEW_DECISIONS = ("accepted", "rejected")


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
    review: str | None = None  # None: waiting for review; accepted; rejected
    reviewed: str | None = None

    @property
    def merged_into(self) -> str | None:
        """The model version the correction was merged into ("<time> <version>" in the store)."""
        return self.merged.rsplit(" ", 1)[-1] if self.merged else None


class FeedbackConflict(ValueError):
    """The client re-used an id for a different example."""


def make_private(path: Path) -> None:
    """Create the store's file readable by its owner only (0600, whatever the umask), or make an existing one
    and its -wal and -shm files so. A file this user does not own is left as it is, with a warning."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        pass
    else:
        try:
            os.fchmod(fd, PRIVATE)  # the umask may have taken bits away from 0600 at creation
        finally:
            os.close(fd)
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SIDE_FILES)):
        try:
            if file.stat().st_mode & 0o777 != PRIVATE:
                file.chmod(PRIVATE)
        except FileNotFoundError:
            continue
        except PermissionError as error:
            log.warning("cannot make %s readable by its owner only: %s", file, error)


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        make_private(path)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
            have = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
            for column, kind in REVIEW_COLUMNS.items():
                if column not in have:
                    db.execute(f"ALTER TABLE feedback ADD COLUMN {column} {kind}")

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
            row = db.execute(f"SELECT {self._COLUMNS} FROM feedback WHERE id = ?", (item_id,)).fetchone()
        item = FeedbackItem(*row)
        if not inserted and (item.text, item.label) != (text, label):
            raise FeedbackConflict(f"feedback id {item_id!r} already holds a different example")
        return item, bool(inserted)

    _COLUMNS = "id, text, label, message_id, channel, note, created, merged, review, reviewed"

    def items(self, *, pending_only: bool = False) -> list[FeedbackItem]:
        """Every correction (``pending_only``: not merged yet), in the order they came."""
        query = (
            f"SELECT {self._COLUMNS} FROM feedback"
            + (" WHERE merged IS NULL" if pending_only else "")
            + " ORDER BY rowid"
        )
        with self._connect() as db:
            return [FeedbackItem(*row) for row in db.execute(query)]

    def to_merge(self, *, auto_accept: bool = False) -> list[FeedbackItem]:
        """The corrections a retrain merges: not merged yet and accepted (or, with ``auto_accept``, not rejected)."""
        return [
            i for i in self.items(pending_only=True) if i.review == "accepted" or (auto_accept and i.review is None)
        ]

    def decide(self, ids: Iterable[str], decision: str) -> list[FeedbackItem]:
        """Accept or reject corrections; an unknown id is an error (nothing is changed then)."""
        if decision not in REVIEW_DECISIONS:
            raise ValueError(f"a review is one of {', '.join(REVIEW_DECISIONS)}, not {decision!r}")
        ids = list(dict.fromkeys(ids))
        known = {item.id: item for item in self.items()}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise KeyError(f"no correction with id {', '.join(unknown)} in {self.path}")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            db.executemany(
                "UPDATE feedback SET review = ?, reviewed = ? WHERE id = ?", [(decision, stamp, i) for i in ids]
            )
        return [item for item in self.items() if item.id in ids]

    def reconcile(
        self, holds: Callable[[FeedbackItem], bool], has_text: Callable[[FeedbackItem], bool], version: str
    ) -> tuple[list[str], list[str]]:
        """Make "merged" say what the corpus in service holds: a merged correction whose text it no longer has
        at all (a rollback) goes back to the queue; one whose text it holds under another label was superseded
        by a later correction and stays merged; a pending, not rejected one it holds (rolled forward again) is
        marked merged into ``version``. Returns the ids put back and the ids marked."""
        back, marked = [], []
        for item in self.items():
            if item.merged and not has_text(item):
                back.append(item.id)
            elif not item.merged and item.review != "rejected" and holds(item):
                marked.append(item.id)
        if back:
            with self._connect() as db:
                db.executemany("UPDATE feedback SET merged = NULL WHERE id = ?", [(i,) for i in back])
        if marked:
            self.mark_merged(marked, version)
        return back, marked

    def mark_merged(self, ids: Iterable[str], version: str) -> None:
        """Record that these examples went into the corpus (with the model version they first trained)."""
        stamp = f"{datetime.now(UTC).isoformat(timespec='seconds')} {version}"
        with self._connect() as db:
            db.executemany("UPDATE feedback SET merged = ? WHERE id = ?", [(stamp, i) for i in ids])

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])


# ----- the review queue: each correction beside the model's current opinion

CONFIDENT = 0.8  # a correction against a model at least this sure of another label is marked for a second look


@dataclass(frozen=True)
class Correction:
    """A correction not merged yet, with what the model in service says of its text and why."""

    item: FeedbackItem
    model_label: str
    model_probability: float  # of the model's label
    probability_of_correction: float  # the model's probability of the corrected label
    evidence: tuple[tuple[str, float], ...]  # the terms that pushed hardest towards the model's label
    marks: tuple[str, ...]  # why a reviewer should look twice

    def to_dict(self) -> dict[str, Any]:
        item = self.item
        return {
            "id": item.id, "text": item.text, "label": item.label, "channel": item.channel, "note": item.note,
            "created": item.created, "review": item.review or "pending", "reviewed": item.reviewed,
            "model_label": self.model_label, "model_probability": round(self.model_probability, 4),
            "probability_of_correction": round(self.probability_of_correction, 4),
            "evidence": [{"term": t, "weight": round(w, 4)} for t, w in self.evidence], "marks": list(self.marks),
        }  # fmt: skip


def review_queue(
    store: FeedbackStore, scorer: Scorer, *, top_k: int = 5, only: Collection[str] | None = None
) -> list[Correction]:
    """Every correction not merged yet (waiting, accepted or rejected; ``only``: those of these ids), oldest
    first, with the model's label, its probability, the evidence for it, and marks: a correction that
    contradicts a confident model, or another correction of the same text with another label."""
    everything = store.items()
    labels_of: dict[str, set[str]] = defaultdict(set)
    for item in everything:
        labels_of[text_key(item.text)].add(item.label)
    waiting = [item for item in everything if not item.merged and (only is None or item.id in only)]
    scores = scorer.score([item.text for item in waiting], explain=True, top_k=top_k, thresholds={})
    queue = []
    for item, score in zip(waiting, scores, strict=True):
        marks = []
        sure = score.scores[score.label]
        if score.label != item.label and sure >= CONFIDENT:
            marks.append(f"contradicts a confident model ({score.label}, {sure:.2f})")
        others = sorted(labels_of[text_key(item.text)] - {item.label})
        if others:
            marks.append(f"another correction of the same text says {', '.join(others)}")
        queue.append(
            Correction(
                item,
                score.label,
                sure,
                score.scores[item.label],
                tuple((c.term, c.weight) for c in score.explanation or []),
                tuple(marks),
            )
        )
    return queue
