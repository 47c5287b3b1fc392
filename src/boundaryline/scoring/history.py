"""The sender history of a run: who the owner is, each message's ``Verdict`` (its direction, pattern and
combined label), and the senders ranked from those verdicts.

Every engine calls ``history_verdicts``: this process over every part's history fields in partition order
(one core or several), a Dask cluster over each counterparty's messages (``dask_engine``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boundaryline.decision import combine
from boundaryline.inbox import Message
from boundaryline.owner import Owner, OwnerEvidence, decide_owner
from boundaryline.senders import (
    AUTOMATED_SENDER,
    Pattern,
    PatternTracker,
    Rule,
    SenderSummary,
    is_refusal,
    is_request,
    people,
    person,
    summarise_senders,
    utc,
)
from boundaryline.settings import CONCERN_LABELS, Settings

Kept = tuple[Message, str, "Cues"]  # a message without its text, its text's label, and its cues


@dataclass(frozen=True, slots=True)
class Verdict:
    """A message's direction and combined label (text and pattern), the rule that fired, and the sender's
    pattern when the history followed them. The owner's own messages are replies, not labelled (``OUTGOING``)."""

    direction: str  # incoming, outgoing (as the export marks it), or the owner's reply
    label: str
    flagged: bool
    fired: str
    pattern: Pattern | None = None  # None: the sender was not followed (no owner, a list, an automated sender)
    reply: bool = False  # the owner wrote it

    @property
    def reason(self) -> str:
        """Why the pattern makes it pestering ("written 3 times without a reply in 2 days"), else ""."""
        return (self.pattern.reason or "") if self.pattern is not None else ""

    def columns(self) -> dict[str, Any]:
        """The verdict's columns of a JSON Lines results row: a reply's text label blanked; the pattern's figures
        only when the sender was followed."""
        if self.reply:
            return {"direction": self.direction, "label": "", "text_label": "", "flagged": False, "fired": ""}
        row = {
            "direction": self.direction,
            "label": self.label,
            "flagged": self.flagged,
            "fired": self.fired,
            "pattern": self.reason,
        }
        if self.pattern is not None:
            figures = self.pattern.to_dict()
            del figures["shortest_gap_hours"]
            row |= figures | {"channels": ";".join(figures["channels"])}
        return row


# The owner's own messages are not labelled: they are the replies. One verdict for all of them.
OUTGOING = Verdict(direction="outgoing", label="", flagged=False, fired="", reply=True)


def owner_of(evidence: OwnerEvidence, names: Sequence[str], settings: Settings) -> Owner:
    """The owner a run names (``--owner``, else ``BOUNDARYLINE_OWNER``), else the one ``evidence`` shows."""
    return decide_owner(evidence, names or settings.owner)


def run_history(kept: list[Kept], names: Sequence[str], settings: Settings) -> tuple[Owner, list[Verdict], bool]:
    """The owner (``names`` from ``--owner``, else decided from ``kept``), every message's history verdict
    (``history_verdicts``) in the order of ``kept``, and whether the history could be applied."""
    owner = owner_of(OwnerEvidence.of(m for m, _, _ in kept), names, settings)
    verdicts, applied = history_verdicts(kept, owner, settings)
    return owner, verdicts, applied


def rank_senders(kept: list[Kept], verdicts: Sequence[Verdict], settings: Settings) -> list[SenderSummary]:
    """The senders ranked by concern (``senders.summarise_senders``) from the rows: their combined labels and
    the unanswered turns the history pass counted."""
    rows = [
        (m, v.label, v.pattern.unanswered if v.pattern is not None else 0)
        for (m, _, _), v in zip(kept, verdicts, strict=True)
        if v.direction != "outgoing"
    ]
    return summarise_senders(rows, turn_gap=Rule.of(settings).turn_gap, concern_labels=CONCERN_LABELS)


@dataclass(frozen=True, slots=True)
class Cues:
    """What the history pass needs of a message's text, taken before the text is dropped."""

    refusal: bool  # it says no or not now (when the owner wrote it, the sender's later messages are pestering)
    request: bool  # it asks or follows up (only such messages become pestering by their pattern)

    @classmethod
    def of(cls, text: str) -> Cues:
        return cls(refusal=is_refusal(text), request=is_request(text))


def history_verdicts(
    kept: list[Kept], owner: Owner, settings: Settings, *, applied: bool | None = None
) -> tuple[list[Verdict], bool]:
    """Each message's direction, pattern and combined label, in the order given; and whether the pattern
    could be applied at all (``applied``, when given, says it for the whole export ``kept`` is part of).

    Messages are followed in time order (undated ones after, in file order). The owner's own messages are not
    labelled: they end their recipients' runs of unanswered turns, and a "no" or "not now" among them marks
    the run refused. Without a decided owner no pattern is followed (the owner's messages could not be told
    from the others'); an export that holds none of the owner's messages cannot show a reply, so there the
    pattern is reported but changes no label. Mailing-list mail is nobody's run: it was not written to the owner.
    """
    outgoing = [owner.wrote(m) for m, _, _ in kept]
    applied = owner.decided and any(outgoing) if applied is None else applied

    def when(i: int) -> tuple[bool, datetime, int]:  # dated messages in time order, then the rest in file order
        date = kept[i][0].date
        return (date is None, utc(date) if date is not None else datetime.min.replace(tzinfo=UTC), i)

    order = sorted(range(len(kept)), key=when)
    tracker = PatternTracker(Rule.of(settings))
    verdicts: list[Verdict] = [OUTGOING] * len(kept)
    for i in order:
        message, text_label, cues = kept[i]
        if outgoing[i]:
            tracker.owner_wrote(people(message.recipients, message.thread), refused=cues.refusal)
            continue
        sender = person(message.sender, message.thread)
        followed = owner.decided and sender and not message.mailing_list and not AUTOMATED_SENDER.search(sender)
        pattern = tracker.received(sender, message.date, message.channel, request=cues.request) if followed else None
        reason = pattern.reason if pattern is not None else None
        label, fired = combine(text_label, reason if applied else None, cues.request)
        verdicts[i] = Verdict(message.direction or "incoming", label, label in CONCERN_LABELS, fired, pattern)
    return verdicts, applied
