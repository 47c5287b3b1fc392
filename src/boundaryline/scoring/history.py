"""The sender history of a run: who the owner is, each message's pattern and combined label (``Verdict``
dicts, in the results' columns), and the senders ranked from those verdicts.

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


def owner_of(evidence: OwnerEvidence, names: Sequence[str], settings: Settings) -> Owner:
    """The owner a run names (``--owner``, else ``BOUNDARYLINE_OWNER``), else the one ``evidence`` shows."""
    return decide_owner(evidence, names or settings.owner)


def run_history(kept: list[Kept], names: Sequence[str], settings: Settings) -> tuple[Owner, list[dict[str, Any]], bool]:
    """The owner (``names`` from ``--owner``, else decided from ``kept``), every message's history verdict
    (``history_verdicts``) in the order of ``kept``, and whether the history could be applied."""
    owner = owner_of(OwnerEvidence.of(m for m, _, _ in kept), names, settings)
    verdicts, applied = history_verdicts(kept, owner, settings)
    return owner, verdicts, applied


def rank_senders(kept: list[Kept], verdicts: list[dict[str, Any]], settings: Settings) -> list[SenderSummary]:
    """The senders ranked by concern (``senders.summarise_senders``) from the rows: their combined labels and
    the unanswered turns the history pass counted."""
    rows = [
        (m, v["label"], v.get("unanswered") or 0)
        for (m, _, _), v in zip(kept, verdicts, strict=True)
        if v["direction"] != "outgoing"
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


# The owner's own messages are not labelled: they are the replies. One dict for all of them, never changed.
OUTGOING_VERDICT: dict[str, Any] = {
    "direction": "outgoing",
    "label": "",
    "text_label": "",
    "flagged": False,
    "fired": "",
}


def history_verdicts(
    kept: list[Kept], owner: Owner, settings: Settings, *, applied: bool | None = None
) -> tuple[list[dict[str, Any]], bool]:
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
    verdicts: list[dict[str, Any]] = [{} for _ in kept]
    for i in order:
        message, text_label, cues = kept[i]
        if outgoing[i]:
            tracker.owner_wrote(people(message.recipients, message.thread), refused=cues.refusal)
            verdicts[i] = OUTGOING_VERDICT
            continue
        sender = person(message.sender, message.thread)
        followed = owner.decided and sender and not message.mailing_list and not AUTOMATED_SENDER.search(sender)
        pattern = tracker.received(sender, message.date, message.channel, request=cues.request) if followed else None
        reason = pattern.reason if pattern is not None else None
        label, fired = combine(text_label, reason if applied else None, cues.request)
        verdicts[i] = {
            "direction": message.direction or "incoming",
            "label": label,
            "flagged": label in CONCERN_LABELS,
            "fired": fired,
            "pattern": reason or "",
            **(
                {
                    k: ";".join(v) if k == "channels" else v
                    for k, v in pattern.to_dict().items()
                    if k != "shortest_gap_hours"
                }
                if pattern is not None
                else {}
            ),
        }
    return verdicts, applied
