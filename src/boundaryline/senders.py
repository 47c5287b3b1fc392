"""Per-sender patterns: pestering is as much a cadence as a sentence.

For each sender: how many messages they sent, how many the model found concerning, the longest run of
messages they sent to the inbox owner with no reply from the owner in between, and the shortest gap
between two of their messages.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from functools import lru_cache
from typing import Any

from boundaryline.inbox.records import Message


@lru_cache(maxsize=65_536)  # the same few senders recur across a whole inbox
def address(value: str | None) -> str:
    """The e-mail address (or, for exports without one, the name) of a From/To value, lower-cased."""
    if not value:
        return ""
    if "@" not in value:  # exports such as LinkedIn's name people, not addresses
        return " ".join(value.split()).lower()
    pairs = getaddresses([value])
    name, addr = pairs[0] if pairs else ("", value)
    return (addr or name or value).strip().lower()


@lru_cache(maxsize=65_536)
def addresses(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    if "@" not in value:
        return frozenset(" ".join(part.split()).lower() for part in value.split(",") if part.strip())
    return frozenset((addr or name).strip().lower() for name, addr in getaddresses([value]) if addr or name)


@dataclass(frozen=True)
class SenderSummary:
    sender: str
    messages: int
    labels: dict[str, int]
    concerning: int
    longest_unanswered_run: int
    shortest_gap: timedelta | None
    first: datetime | None
    last: datetime | None
    message_ids: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "sender": self.sender,
            "messages": self.messages,
            "labels": self.labels,
            "concerning": self.concerning,
            "longest_unanswered_run": self.longest_unanswered_run,
            "shortest_gap": str(self.shortest_gap) if self.shortest_gap is not None else None,
            "shortest_gap_seconds": self.shortest_gap.total_seconds() if self.shortest_gap is not None else None,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "message_ids": list(self.message_ids),
        }


def infer_owner(messages: Iterable[Message]) -> str | None:
    """The inbox owner: the address that receives the most messages."""
    counts: Counter[str] = Counter()
    for message in messages:
        counts.update(addresses(message.recipients))
    return counts.most_common(1)[0][0] if counts else None


def _utc(when: datetime) -> datetime:
    """Exports mix zone-aware and naive dates; a naive one is taken as UTC so all can be compared."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def summarise_senders(
    rows: Iterable[tuple[Message, str]],
    *,
    owner: str | None = None,
    concern_labels: Sequence[str] = ("pestering", "inappropriate_proposition"),
) -> list[SenderSummary]:
    """Every sender except the owner, most concerning first (concerning messages, then the longest run
    without a reply, then the shortest gap). ``owner`` defaults to the most frequent recipient."""
    rows = list(rows)
    owner = address(owner) if owner else infer_owner(m for m, _ in rows)
    # Undated messages keep their file order, after the dated ones.
    ordered = sorted(
        rows,
        key=lambda row: (row[0].date is None, _utc(row[0].date) if row[0].date else datetime.min.replace(tzinfo=UTC)),
    )
    runs: dict[str, int] = defaultdict(int)
    longest: dict[str, int] = defaultdict(int)
    last_seen: dict[str, datetime] = {}
    gaps: dict[str, timedelta] = {}
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    ids: dict[str, list[str]] = defaultdict(list)
    first: dict[str, datetime] = {}
    for message, label in ordered:
        sender = address(message.sender)
        if not sender:
            continue
        if owner and sender == owner:
            # The owner answered: every recipient's (and the thread's) unanswered run starts again.
            for person in addresses(message.recipients):
                runs[person] = 0
            continue
        labels[sender][label] += 1
        ids[sender].append(message.id)
        if owner is None or owner in addresses(message.recipients) or not message.recipients:
            runs[sender] += 1
            longest[sender] = max(longest[sender], runs[sender])
        if message.date is not None:
            when = _utc(message.date)
            if sender in last_seen:
                gap = when - last_seen[sender]
                gaps[sender] = min(gap, gaps.get(sender, gap))
            last_seen[sender] = when
            first.setdefault(sender, when)
    summaries = [
        SenderSummary(
            sender=sender,
            messages=sum(counts.values()),
            labels=dict(counts),
            concerning=sum(counts[c] for c in concern_labels),
            longest_unanswered_run=longest[sender],
            shortest_gap=gaps.get(sender),
            first=first.get(sender),
            last=last_seen.get(sender),
            message_ids=tuple(ids[sender]),
        )
        for sender, counts in labels.items()
    ]
    big = timedelta.max
    return sorted(summaries, key=lambda s: (-s.concerning, -s.longest_unanswered_run, s.shortest_gap or big, s.sender))
