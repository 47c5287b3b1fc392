"""Per-sender patterns: pestering is as much a cadence as a sentence.

For each sender: how many messages they sent, how many the model found concerning, the longest run of
messages they sent to the inbox owner with no reply from the owner in between, and the shortest gap
between two of their messages.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from functools import lru_cache
from typing import Any

from boundaryline.decision import combine
from boundaryline.inbox.records import Message
from boundaryline.settings import Settings


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
    return most_received(recipient_counts(messages))


def most_received(counts: Counter[str]) -> str | None:
    """The address that receives the most messages (the first met, on a tie), or None."""
    return counts.most_common(1)[0][0] if counts else None


def recipient_counts(messages: Iterable[Message]) -> Counter[str]:
    """How many messages each address receives, addresses in the order first met (a message's own in
    sorted order, so that a tie for the most goes the same way in every process)."""
    counts: Counter[str] = Counter()
    for message in messages:
        counts.update(sorted(addresses(message.recipients)))
    return counts


def utc(when: datetime) -> datetime:
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
        key=lambda row: (row[0].date is None, utc(row[0].date) if row[0].date else datetime.min.replace(tzinfo=UTC)),
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
            when = utc(message.date)
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
    return sorted(summaries, key=by_concern)


def by_concern(summary: SenderSummary) -> tuple[int, int, timedelta, str]:
    """The ranking's sort key: concerning messages, then the longest run without a reply, then the shortest
    gap, then the address (so that the order never depends on the order the senders were met in)."""
    return (-summary.concerning, -summary.longest_unanswered_run, summary.shortest_gap or timedelta.max, summary.sender)


# ----- the pattern of one message: what came before it from the same sender


# The owner's "no" or "not now": after it, any further message from that sender is pestering by the guide.
# A phrase list, not the model: the model is trained on received messages, not on a person's refusals.
REFUSAL = re.compile(
    r"\b(?:not interested|no,? thanks?|no thank you|not now|not right now|not at (?:this|the) (?:moment|time)|"
    r"maybe later|maybe (?:another|some other) time|i['’]?ll (?:get|come) back to you|please stop(?=\s*(?:[.!,;]|$))|"
    r"(?:stop|quit) (?:messaging|emailing|e-mailing|contacting|calling|texting|writing to|pinging) (?:me|us|this)|"
    r"(?:don['’]?t|do not) (?:contact|message|email|e-mail|call|text|write to|ping) (?:me|us)|"
    r"(?:i['’]?m|i am) (?:swamped|not available|too busy)|not (?:the )?right time|i['’]?ll pass|pass on this|"
    r"(?:i['’]?m|i am|we['’]?re|we are) (?:unable|not able) to help|(?:can['’]?t|cannot) help(?! but| it))\b",
    re.IGNORECASE,
)
# Measured on the shared real mail (2,805 Enron and 572 list messages, nearly none of them a refusal): the
# earlier list fired on 1.0% / 1.6% of them, mostly "please don't hesitate to call", "please stop by" and
# "schedule another time", each of which would have turned the sender's next question into pestering; this
# one on 0.11% / 0.70%, nearly all true refusals or deferrals. Apostrophes may be straight or curly.

# A request or a follow-up: what makes a repeated message pestering rather than repeated news.
REQUEST = re.compile(
    r"\?|\b(?:follow(?:ing)?[- ]?up|checking in|check in|circling back|any (?:update|news)|did you (?:get|see|have)|"
    r"bump(?:ing)?|could (?:we|you)|can (?:we|you|i)|would you|let me know|please (?:reply|respond|let|get back|"
    r"advise|revert|call)|kindly (?:revert|reply|confirm|respond|let)|haven'?t heard|still waiting|waiting for (?:your|a)|"
    r"when (?:can|could|will) (?:we|you)|are you free|get back to me)\b",
    re.IGNORECASE,
)


# Machines write often and are never answered; their cadence says nothing about a person's behaviour.
AUTOMATED_SENDER = re.compile(
    r"no-?reply|donotreply|do-not-reply|mailer-daemon|notifications?@|newsletter|alerts?@|bounce", re.IGNORECASE
)


@dataclass(frozen=True)
class Pattern:
    """What came before a message from the same sender (its own included in the counts)."""

    unanswered: int  # messages from the sender since the owner last wrote to them, this one included
    span: timedelta | None  # from the first of those to this one (None without dates)
    shortest_gap: timedelta | None  # the shortest time between two of them
    after_refusal: bool  # the owner's last message to the sender said no or not now
    channels: tuple[str, ...]  # the channels of those messages, in the order first used

    def reason(self, *, min_unanswered: int, window: timedelta, min_channels: int) -> str | None:
        """Why the pattern makes a request pestering, or None when it does not."""
        if self.after_refusal and self.unanswered >= 1:
            return "written again after the owner said no or not now"
        if self.unanswered >= min_unanswered and self.span is not None and self.span <= window:
            return f"{self.unanswered} messages without a reply in {_days(self.span)}"
        if len(self.channels) >= min_channels:
            return f"moved across {len(self.channels)} channels without a reply ({', then '.join(self.channels)})"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "unanswered": self.unanswered,
            "span_days": round(self.span.total_seconds() / 86400, 2) if self.span is not None else None,
            "shortest_gap_hours": round(self.shortest_gap.total_seconds() / 3600, 2)
            if self.shortest_gap is not None
            else None,
            "after_refusal": self.after_refusal,
            "channels": list(self.channels),
        }


def _days(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:.0f} day{'s' if round(days) != 1 else ''}" if days >= 1 else f"{span.total_seconds() / 3600:.0f} h"


@dataclass
class _Run:
    """A sender's messages since the owner last wrote to them, kept as running figures (a sender with
    thousands of messages costs the same per message as one with two)."""

    count: int = 0
    undated: int = 0
    first: datetime | None = None  # the first and last dated messages
    last: datetime | None = None
    shortest_gap: timedelta | None = None  # between consecutive dated messages
    channels: list[str] = field(default_factory=list)
    refused: bool = False


class PatternTracker:
    """Follows every sender through a conversation in time order: ``received`` gives each incoming message
    its pattern, ``owner_wrote`` records the owner's replies (which end a sender's unanswered run and, when
    they say no or not now, mark it refused)."""

    def __init__(self) -> None:
        self._runs: dict[str, _Run] = defaultdict(_Run)

    def owner_wrote(self, to: Iterable[str], *, refused: bool) -> None:
        for person in to:
            self._runs[person] = _Run(refused=refused)

    def received(self, sender: str, when: datetime | None, channel: str | None) -> Pattern:
        run = self._runs[sender]
        run.count += 1
        if when is None:
            run.undated += 1
        else:
            when = utc(when)
            if run.last is not None:
                gap = when - run.last
                run.shortest_gap = gap if run.shortest_gap is None else min(run.shortest_gap, gap)
            if run.first is None:
                run.first = when
            run.last = when
        if channel and channel not in run.channels:
            run.channels.append(channel)
        every_one_dated = run.undated == 0 and run.first is not None and run.last is not None
        return Pattern(
            unanswered=run.count,
            span=run.last - run.first if every_one_dated else None,  # type: ignore[operator]
            shortest_gap=run.shortest_gap,
            after_refusal=run.refused,
            channels=tuple(run.channels),
        )


# The same phrase lists without IGNORECASE, searched in ``text.lower()``: three times faster, and the same
# answer, since for these ASCII phrases a character matches under IGNORECASE exactly when its lower-case
# form does, except for the long s, the dotless i and the dotted capital I (texts holding one of those
# are searched with the original pattern).
_REFUSAL_LOWER = re.compile(REFUSAL.pattern)
_REQUEST_LOWER = re.compile(REQUEST.pattern)
_CASE_ODD = re.compile("[\u017f\u0131\u0130]")


def _says(text: str, pattern: re.Pattern[str], lower: re.Pattern[str]) -> bool:
    if _CASE_ODD.search(text):
        return pattern.search(text) is not None
    return lower.search(text.lower()) is not None


def is_refusal(text: str) -> bool:
    """Whether a message says no or not now (``REFUSAL``)."""
    return _says(text, REFUSAL, _REFUSAL_LOWER)


def is_request(text: str) -> bool:
    """Whether a message asks for something or follows up (a pattern only turns such messages into pestering)."""
    return "?" in text or _says(text, REQUEST, _REQUEST_LOWER)


@dataclass(frozen=True)
class Event:
    """One earlier message of a conversation, as a caller of the API gives it (text optional)."""

    outgoing: bool  # written by the owner (a reply) rather than received
    time: datetime | None = None
    text: str = ""
    channel: str | None = None


def pattern_of(history: Sequence[Event], time: datetime | None, channel: str | None) -> Pattern:
    """The pattern of a message received after ``history`` (one sender and the owner, oldest first; sorted by
    time when every event has one)."""
    if all(event.time is not None for event in history):
        history = sorted(history, key=lambda event: utc(event.time))  # type: ignore[arg-type]
    tracker = PatternTracker()
    for event in history:
        if event.outgoing:
            tracker.owner_wrote(["sender"], refused=is_refusal(event.text))
        else:
            tracker.received("sender", event.time, event.channel)
    return tracker.received("sender", time, channel)


def pattern_reason(pattern: Pattern, settings: Settings) -> str | None:
    """Why, under the settings' rule, the pattern makes a request pestering (None: it does not)."""
    return pattern.reason(
        min_unanswered=settings.pattern_min_unanswered,
        window=timedelta(days=settings.pattern_window_days),
        min_channels=settings.pattern_min_channels,
    )


def history_verdict(
    text: str,
    text_label: str,
    history: Sequence[Event] | None,
    *,
    time: datetime | None = None,
    channel: str | None = None,
    settings: Settings,
) -> tuple[str, str, Pattern | None, str | None]:
    """(label, fired, pattern, reason) of a message given its conversation so far; without a history the
    label is the text's (the pattern of a first message never counts)."""
    if history is None:
        label, fired = combine(text_label, None, False)
        return label, fired, None, None
    pattern = pattern_of(history, time, channel)
    reason = pattern_reason(pattern, settings)
    label, fired = combine(text_label, reason, is_request(text))
    return label, fired, pattern, reason
