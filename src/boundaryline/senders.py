"""Per-sender patterns: pestering is as much a cadence as a sentence.

``PatternTracker`` follows each sender's turns (messages minutes apart with no reply between are one) since
the owner last wrote to them, and says when the run makes a request pestering (``Rule``); ``summarise_senders``
ranks the senders from the rows it produced: how many messages each sent, how many are concerning, the
longest run of turns without a reply, and the shortest silence between two turns.
"""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from functools import cached_property, lru_cache
from itertools import pairwise
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


def utc(when: datetime) -> datetime:
    """Exports mix zone-aware and naive dates; a naive one is taken as UTC so all can be compared."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# Names exports give to people they do not name ("LinkedIn Member" for a closed account): never one person.
PLACEHOLDER_SENDERS = frozenset(
    {"linkedin member", "linkedin user", "unknown", "unknown sender", "anonymous", "deleted user", "former member"}
)


def is_placeholder(key: str) -> bool:
    return not key or key in PLACEHOLDER_SENDERS


def _keyed(key: str, thread: str | None) -> str:
    if is_placeholder(key):
        return f"{key or 'unknown sender'} (conversation {thread})" if thread else ""
    return key


def person(value: str | None, thread: str | None) -> str:
    """Who a From value names, as the history follows them: the address (or the name, in exports without
    one); a placeholder ("LinkedIn Member") or an empty From is a different person in each conversation, and
    nobody outside one."""
    return _keyed(address(value), thread)


def people(value: str | None, thread: str | None) -> frozenset[str]:
    """``person`` for each recipient of a To value."""
    return frozenset(key for key in (_keyed(a, thread) for a in addresses(value)) if key)


def summarise_senders(
    rows: Iterable[tuple[Message, str, int | None]],
    *,
    turn_gap: timedelta = timedelta(minutes=10),
    concern_labels: Sequence[str] = ("pestering", "inappropriate_proposition"),
) -> list[SenderSummary]:
    """Every sender of ``rows`` (received messages, each with its label and the unanswered turns the history
    pass counted for it), most concerning first (concerning messages, then the longest run without a reply,
    then the shortest gap between two turns). The longest run is the largest count of the sender's rows: the
    ranking and the rows are one truth."""
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    ids: dict[str, list[str]] = defaultdict(list)
    longest: dict[str, int] = defaultdict(int)
    dates: dict[str, list[datetime]] = defaultdict(list)
    for message, label, unanswered in rows:
        sender = person(message.sender, message.thread)
        if not sender:
            continue
        labels[sender][label] += 1
        ids[sender].append(message.id)
        longest[sender] = max(longest[sender], unanswered or 0)
        if message.date is not None:
            dates[sender].append(utc(message.date))
    summaries = []
    for sender, counts in labels.items():
        times = sorted(dates[sender])
        gaps = [b - a for a, b in pairwise(times) if b - a > turn_gap]  # within a turn: not a gap
        summaries.append(
            SenderSummary(
                sender=sender,
                messages=sum(counts.values()),
                labels=dict(counts),
                concerning=sum(counts[c] for c in concern_labels),
                longest_unanswered_run=longest[sender],
                shortest_gap=min(gaps, default=None),
                first=times[0] if times else None,
                last=times[-1] if times else None,
                message_ids=tuple(ids[sender]),
            )
        )
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
class Rule:
    """The history rule's settings: when a run of unanswered turns is pestering, and what a turn is."""

    # (turns, window): this many turns without a reply inside a window of this length that ends at the message;
    # a short window for a burst of follow-ups, a long one for the vendor who writes every week
    windows: tuple[tuple[int, timedelta], ...] = ((3, timedelta(days=7)), (4, timedelta(days=30)))
    min_channels: int = 3  # or this many channels tried without a reply
    turn_gap: timedelta = timedelta(minutes=10)  # messages closer than this, with no reply between, are one turn

    @classmethod
    def of(cls, settings: Settings) -> Rule:
        return cls(
            windows=(
                (settings.pattern_min_unanswered, timedelta(days=settings.pattern_window_days)),
                (settings.pattern_long_min_unanswered, timedelta(days=settings.pattern_long_window_days)),
            ),
            min_channels=settings.pattern_min_channels,
            turn_gap=timedelta(minutes=settings.pattern_turn_minutes),
        )

    @cached_property  # asked at every message
    def longest(self) -> timedelta:
        return max(window for _, window in self.windows)


@dataclass(frozen=True)
class Pattern:
    """What came before a message from the same sender since the owner last wrote to them (this one included),
    and the reason it makes a request pestering (None: it does not)."""

    unanswered: int  # turns (a burst of messages minutes apart is one) since the owner last wrote to the sender
    span: timedelta | None  # from the first of those turns to this message (None without dates)
    shortest_gap: timedelta | None  # the shortest silence between two of those turns
    after_refusal: bool  # the owner's last message to the sender said no or not now
    channels: tuple[str, ...]  # the channels of those messages, in the order first used
    reason: str | None = None

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
    seconds = span.total_seconds()
    if seconds >= 86400:
        return f"{seconds / 86400:.0f} day{'s' if round(seconds / 86400) != 1 else ''}"
    return f"{seconds / 3600:.0f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


@dataclass
class _Run:
    """A sender's turns since the owner last wrote to them, kept as running figures (a sender with thousands
    of messages costs the same per message as one with two)."""

    turns: int = 0
    undated: bool = False  # a turn without a date: the run's span is unknown
    first: datetime | None = None  # the start of the first dated turn, of the current one, and the last message
    turn_start: datetime | None = None
    last: datetime | None = None
    recent: deque[datetime] = field(default_factory=deque)  # starts of the dated turns still inside the window
    shortest_gap: timedelta | None = None  # between consecutive turns
    channels: list[str] = field(default_factory=list)
    refused: bool = False
    pestering: bool = False  # the pattern has flagged a request of the run: it stays so until the owner writes


def _back(when: datetime, span: timedelta) -> datetime | None:
    """``when - span``; None when that lies before the earliest date there is (a message dated year 1): then
    nothing is older."""
    try:
        return when - span
    except OverflowError:
        return None


def _inside_a_window(starts: deque[datetime], when: datetime, rule: Rule) -> tuple[int, datetime] | None:
    """How many of the turn starts (in time order) lie inside the first window (of ``rule.windows``, ending
    at ``when``) that holds enough of them, and the first of those; None when none does. Found by
    bisection: a sender who writes daily has hundreds of starts inside a 30-day window."""
    for turns, window in rule.windows:
        start = _back(when, window)
        first = 0 if start is None else bisect_left(starts, start)
        if len(starts) - first >= turns:
            return len(starts) - first, starts[first]
    return None


class PatternTracker:
    """Follows every sender through a conversation in time order: ``received`` gives each incoming message
    its pattern, ``owner_wrote`` records the owner's replies (which end a sender's unanswered run and, when
    they say no or not now, mark it refused).

    The rule is monotone: the window that counts turns ends at each message (it slides), and once a run has
    been pestering every further request in it stays pestering until the owner writes; so one more unanswered
    message never turns a flagged sender's next message back into a professional one."""

    def __init__(self, rule: Rule | None = None) -> None:
        self.rule = rule or Rule()
        self._runs: dict[str, _Run] = defaultdict(_Run)

    def owner_wrote(self, to: Iterable[str], *, refused: bool) -> None:
        for person in to:
            self._runs[person] = _Run(refused=refused)

    def received(self, sender: str, when: datetime | None, channel: str | None, *, request: bool = True) -> Pattern:
        """The pattern of a message from ``sender``; ``request``: it asks or follows up (only a flagged request
        makes the rest of the run pestering)."""
        rule, run = self.rule, self._runs[sender]
        if when is None:
            run.turns += 1  # without a time it cannot be joined to a burst
            run.undated = True
        else:
            when = utc(when)
            # A turn is measured from its first message: a message every nine minutes is not one endless turn.
            if run.turn_start is None or when - run.turn_start > rule.turn_gap:
                if run.last is not None:
                    gap = when - run.last
                    run.shortest_gap = gap if run.shortest_gap is None else min(run.shortest_gap, gap)
                run.turns += 1
                if run.recent and when < run.recent[-1]:  # out of time order: kept sorted for the bisection
                    insort(run.recent, when)
                else:
                    run.recent.append(when)
                run.first = run.first or when
                run.turn_start = when
            run.last = when
            oldest = _back(when, rule.longest)
            while oldest is not None and run.recent and run.recent[0] < oldest:
                run.recent.popleft()
        if channel and channel not in run.channels:
            run.channels.append(channel)
        span = when - run.first if when is not None and run.first is not None and not run.undated else None
        reason = None
        if run.refused:
            reason = "written again after the owner said no or not now"
        elif when is not None and (inside := _inside_a_window(run.recent, when, rule)) is not None:
            count, first = inside
            run.pestering = run.pestering or request
            reason = f"written {count} times without a reply in {_days(when - first)}"
        elif run.pestering:
            reason = f"written {run.turns} times without a reply" + (f" in {_days(span)}" if span else "")
        elif len(run.channels) >= rule.min_channels:
            reason = f"moved across {len(run.channels)} channels without a reply ({', then '.join(run.channels)})"
        return Pattern(
            unanswered=run.turns,
            span=span,
            shortest_gap=run.shortest_gap,
            after_refusal=run.refused,
            channels=tuple(run.channels),
            reason=reason,
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


def pattern_of(
    history: Sequence[Event], time: datetime | None, channel: str | None, rule: Rule | None = None
) -> Pattern:
    """The pattern of a message received after ``history`` (one sender and the owner, oldest first; sorted by
    time when every event has one)."""
    if all(event.time is not None for event in history):
        history = sorted(history, key=lambda event: utc(event.time))  # type: ignore[arg-type]
    tracker = PatternTracker(rule)
    for event in history:
        if event.outgoing:
            tracker.owner_wrote(["sender"], refused=is_refusal(event.text))
        else:  # an earlier message given without its text is taken for a request
            tracker.received("sender", event.time, event.channel, request=not event.text or is_request(event.text))
    return tracker.received("sender", time, channel)


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
    pattern = pattern_of(history, time, channel, Rule.of(settings))
    label, fired = combine(text_label, pattern.reason, is_request(text))
    return label, fired, pattern, pattern.reason
