"""Whose inbox it is: decided per export shape, said in the summary, never guessed.

The sender history needs the owner: their messages are the replies that end a run of unanswered ones. Each
shape says it differently, so the evidence is gathered message by message (``OwnerEvidence.add``; partitions
and Dask parts merge theirs with ``+``) and one decision is taken over the whole run (``decide_owner``):

1. ``--owner`` (or ``BOUNDARYLINE_OWNER``): names or addresses, several for aliases;
2. the sender of the messages the export marks as the owner's own (Gmail Takeout's Sent label, a Sent folder);
3. in WhatsApp's "WhatsApp Chat with Ana.txt", the one writer who is not Ana;
4. in conversation exports (LinkedIn ``messages.csv``, Slack DMs, several chats), the one person in (nearly)
   every two-person conversation;
5. in mail, the address in the To of most direct (non-list) messages.

A mailing-list address is never the owner. When none of these settles it, the owner is not decided: the
summary says why and no history is applied, rather than a guess that would score the owner's own messages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from boundaryline.inbox.records import Message
from boundaryline.senders import address, addresses, is_placeholder, people, person

# The file WhatsApp names a chat's export after its counterpart, in the phone's language.
WHATSAPP_CHAT_WITH = re.compile(
    r"^(?:WhatsApp Chat(?: with| -)|WhatsApp[- ]Chat mit|Conversa do WhatsApp com|Chat de WhatsApp con|"
    r"Discussion WhatsApp avec|Chat WhatsApp con|WhatsApp-chat met)\s+(?P<name>.+?)(?:\s*\(\d+\))?$",
    re.IGNORECASE,
)
CHAT_CHANNELS = frozenset({"linkedin_dm", "chat", "text_message"})
# In conversation exports the owner may show as a placeholder in a few conversations: nearly every one is enough,
# when nobody else comes close.
EVERY_CONVERSATION_SHARE = 0.8
RUNNER_UP_SHARE = 0.5
MAIL_OWNER_SHARE = 0.5  # the owner receives at least half of the direct mail that names a recipient


@dataclass
class OwnerEvidence:
    """What the owner is decided from. Only counts and names: never a message's text."""

    recipients: Counter[str] = field(default_factory=Counter)  # direct mail: messages each address receives
    addressed: int = 0  # direct mail naming any recipient
    marked: Counter[str] = field(default_factory=Counter)  # senders of messages the export marks as the owner's
    conversations: dict[str, set[str]] = field(default_factory=dict)  # chats: the people in each conversation
    named: dict[str, str] = field(default_factory=dict)  # WhatsApp: chat -> the person its file is named after
    lists: set[str] = field(default_factory=set)  # mailing-list addresses: never the owner

    def add(self, message: Message) -> None:
        sender = person(message.sender, message.thread)
        if message.mailing_list:
            self.lists.add(message.mailing_list)
            return  # list mail says nothing of who receives it
        if message.direction == "outgoing" and not is_placeholder(address(message.sender)):
            self.marked[sender] += 1
        if message.channel in CHAT_CHANNELS and message.thread:
            found = self.conversations.setdefault(message.thread, set())
            if message.recipients:  # a Slack channel names no recipients: its posters are not a conversation's two
                named = {address(message.sender), *addresses(message.recipients)}
                found.update(key for key in named if not is_placeholder(key))
            if (match := WHATSAPP_CHAT_WITH.match(message.thread)) is not None:
                self.named[message.thread] = address(match["name"])
        elif message.direction != "outgoing" and (to := people(message.recipients, message.thread)):
            self.addressed += 1
            self.recipients.update(sorted(to))

    def __add__(self, other: OwnerEvidence) -> OwnerEvidence:
        conversations = {k: set(v) for k, v in self.conversations.items()}
        for key, names in other.conversations.items():
            conversations.setdefault(key, set()).update(names)
        return OwnerEvidence(
            self.recipients + other.recipients,
            self.addressed + other.addressed,
            self.marked + other.marked,
            conversations,
            self.named | other.named,
            self.lists | other.lists,
        )

    @classmethod
    def of(cls, messages: Iterable[Message]) -> OwnerEvidence:
        evidence = cls()
        for message in messages:
            evidence.add(message)
        return evidence


@dataclass(frozen=True)
class Owner:
    """The owner's names and addresses (empty: not decided) and how that was decided, in a sentence."""

    aliases: frozenset[str]
    how: str

    @property
    def decided(self) -> bool:
        return bool(self.aliases)

    def wrote(self, message: Message) -> bool:
        """Whether the owner wrote ``message``: the export marks it so, or it comes from one of their names."""
        return message.direction == "outgoing" or person(message.sender, message.thread) in self.aliases

    def to_dict(self) -> dict[str, object]:
        return {"aliases": sorted(self.aliases), "how": self.how}


def decide_owner(evidence: OwnerEvidence, given: Iterable[str] = ()) -> Owner:
    """The owner, by the first rule of the module's list that settles it."""
    named = frozenset(address(value) for value in given if address(value))
    if named:
        return Owner(named, "given with --owner (or BOUNDARYLINE_OWNER)")
    marked = {sender for sender in evidence.marked if sender not in evidence.lists}
    if marked:
        total = sum(evidence.marked.values())
        return Owner(frozenset(marked), f"the sender of the {total} message(s) the export marks as sent")
    for decide in (_from_chat_names, _from_conversations, _from_recipients):
        owner = decide(evidence)
        if owner is not None:
            return owner
    return Owner(frozenset(), _why_undecided(evidence))


def _from_chat_names(evidence: OwnerEvidence) -> Owner | None:
    """WhatsApp files named after the counterpart: the other writer, when every such chat agrees."""
    candidates: set[str] | None = None
    counterparts = []
    for chat, counterpart in sorted(evidence.named.items()):
        writers = evidence.conversations.get(chat, set())
        if counterpart not in writers or len(writers) != 2:
            continue  # a group chat is named after the group, not a person: no evidence
        counterparts.append(counterpart)
        others = writers - {counterpart}
        candidates = others if candidates is None else candidates & others
    if candidates is not None and len(candidates) == 1:
        named = ", ".join(counterparts[:3]) + (f" and {len(counterparts) - 3} more" if len(counterparts) > 3 else "")
        return Owner(frozenset(candidates), f"the writer besides the person each chat file is named after ({named})")
    return None


def _from_conversations(evidence: OwnerEvidence) -> Owner | None:
    """The person in (nearly) every two-person conversation of a chat export (LinkedIn's, Slack's DMs), with
    nobody else close. Group chats and channels say nothing of whose export it is."""
    conversations = [names for names in evidence.conversations.values() if len(names) == 2]
    if len(conversations) < 2:
        return None
    counts = Counter(name for names in conversations for name in sorted(names))
    (first, n), *rest = counts.most_common(2)
    runner_up = rest[0][1] if rest else 0
    if n >= EVERY_CONVERSATION_SHARE * len(conversations) and runner_up <= RUNNER_UP_SHARE * len(conversations):
        return Owner(frozenset({first}), f"the one person in {n} of the {len(conversations)} two-person conversations")
    return None


def _from_recipients(evidence: OwnerEvidence) -> Owner | None:
    """The address in the To of most direct mail."""
    candidates = [(key, n) for key, n in evidence.recipients.most_common() if key not in evidence.lists]
    if not candidates or evidence.addressed == 0:
        return None
    key, n = candidates[0]
    if n < MAIL_OWNER_SHARE * evidence.addressed or (len(candidates) > 1 and candidates[1][1] == n):
        return None  # too few, or two addresses as often (a shared alias?): not a guess
    return Owner(frozenset({key}), f"the recipient of {n} of the {evidence.addressed} direct messages")


def _why_undecided(evidence: OwnerEvidence) -> str:
    pairs = sum(len(names) == 2 for names in evidence.conversations.values())
    if pairs == 1:
        return "one conversation between two people, and nothing says which of them exported it"
    if pairs:
        return "no one person takes part in nearly every two-person conversation"
    if evidence.conversations:
        return "no two-person conversation (only group chats or channels) to tell the owner by"
    if evidence.addressed:
        return "no one address receives most of the direct mail"
    return "the export names no recipients and marks no message as sent"
