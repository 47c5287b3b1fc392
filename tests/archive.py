"""A generated archive of several export formats, for the partitioned-scoring tests: small (a few hundred
messages), with what makes splitting hard (quoted line ends, a byte-order mark, bad lines, the owner's
replies that the sender history needs)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

OWNER = "me@example.com"
TEXTS = [
    "Coffee next week? I'd love to hear about your team.",
    "Fourth email, why no reply??\nJust checking in again.",
    'Dinner, just us? You look great, "seriously".',
    "Thanks for the intro, I will follow up with the recruiter, no rush.",
    "Following up again: could you refer me, today, please?",
    "Loved your talk! Drinks after, just the two of us?",
]
START = datetime(2026, 10, 1, tzinfo=UTC)


def _when(i: int) -> datetime:
    return START + timedelta(hours=5 * i + i % 3)


def write_csv(path: Path, rows: int) -> Path:
    """A CSV with a byte-order mark, multi-line quoted texts, the owner's replies, and two bad rows."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "from", "to", "date", "subject", "text"])
        for i in range(rows):
            sender = f"s{i % 5}@example.com"
            if i % 9 == 8:  # the owner answers (sometimes with a no)
                writer.writerow(
                    [
                        f"c{i}",
                        OWNER,
                        sender,
                        _when(i).isoformat(),
                        "re",
                        "Not now, thanks." if i % 2 else "Sure, let's talk.",
                    ]
                )
                continue
            text = TEXTS[i % len(TEXTS)] + (f"\nline two of {i}," if i % 4 == 0 else f" #{i}")
            writer.writerow([f"c{i}", sender, OWNER, _when(i).isoformat(), f"subject {i % 7}", text])
            if i == rows // 2:
                writer.writerow(["bad1", "x@example.com", OWNER, "", "", "  "])
                writer.writerow(["bad2", "too", "many", "fields", "here", "in", "this row"])
    return path  # fmt: skip


def write_jsonl(path: Path, rows: int) -> Path:
    """JSON Lines with varying field names, a blank line, a broken line and a non-object."""
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            sender_field = "from" if i % 2 else "sender"
            record = {"id": f"j{i}", sender_field: f"p{i % 4}@example.org", "to": OWNER, "date": _when(i).isoformat(),
                      "text": TEXTS[(i + 2) % len(TEXTS)] + f" ({i})"}  # fmt: skip
            handle.write(json.dumps(record) + "\n")
            if i == 7:
                handle.write("\n{not json\n[1, 2]\n")
    return path


def _mail(i: int, sender: str, to: str = OWNER) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, f"hello {i}"
    mail["Date"] = format_datetime(_when(i))
    mail["Message-ID"] = f"<m{i}@example.net>"
    mail.set_content(TEXTS[i % len(TEXTS)] + f" (mail {i})")
    return mail.as_bytes()


def write_mbox(path: Path, messages: int, first: int = 0) -> Path:
    with path.open("wb") as handle:
        for i in range(first, first + messages):
            handle.write(
                b"From sender@example.net Thu Oct  1 10:00:00 2026\n" + _mail(i, f"m{i % 3}@example.net") + b"\n"
            )
    return path


def write_maildir(path: Path, messages: int) -> Path:
    (path / "cur").mkdir(parents=True)
    (path / "new").mkdir()
    for i in range(messages):
        (path / "cur" / f"{1700000000 + i}.M{i}.host:2,S").write_bytes(_mail(100 + i, f"d{i % 4}@example.net"))
    (path / "cur" / "1700000999.broken:2,S").write_bytes(b"not a mail at all")
    return path


def make_archive(root: Path) -> list[Path]:
    """Five inputs: a CSV, a JSON Lines file, an mbox, a Maildir and a Takeout-style folder of mbox files."""
    root.mkdir(parents=True, exist_ok=True)
    takeout = root / "Mail"
    takeout.mkdir()
    write_mbox(takeout / "Inbox.mbox", 6, first=200)
    write_mbox(takeout / "Archive.mbox", 5, first=300)
    return [
        write_csv(root / "inbox.csv", 150),
        write_jsonl(root / "inbox.jsonl", 60),
        write_mbox(root / "inbox.mbox", 8),
        write_maildir(root / "maildir", 12),
        takeout,
    ]
