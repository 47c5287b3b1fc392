"""Facebook Messenger and Instagram direct messages, as "Download your information" writes them in JSON: one
conversation per folder, its messages in ``message_1.json``, ``message_2.json``…:

    {"participants": [{"name": …}], "messages": [{"sender_name", "timestamp_ms", "content"}, …],
     "title": …, "thread_path": "inbox/analima_123"}

Facebook writes text as UTF-8 bytes escaped one by one as code points (``"Zo\\u00c3\\u00ab"`` for "Zoë"); that
mojibake is undone where the string is exactly such bytes. Each file's messages are held (Facebook caps a
file's messages at 10 000): its title and thread come after them. The file is streamed to build them, so a
message nested deeper than ``json_stream.MAX_JSON_DEPTH`` is one bad record, never built. Calls, joins and
leaves, unsent messages and photos without text are ``SystemNotice``s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ijson

from boundaryline.files import TOO_DEEP
from boundaryline.inbox.json_stream import Opened, TooDeep, skip_bom, walk
from boundaryline.inbox.records import BadRecord, Message, SystemNotice
from boundaryline.inbox.tabular import broken_json

_MEDIA_KEYS = ("photos", "videos", "audio_files", "gifs", "sticker", "files", "share")
_NOTICE_TYPES = frozenset({"Call", "Subscribe", "Unsubscribe"})


def is_messenger_export(keys: list[str]) -> bool:
    """Whether a JSON object with these top-level keys is a Messenger or Instagram conversation file."""
    return "participants" in keys and "messages" in keys


def unmojibake(text: str) -> str:
    """``text`` with Facebook's escaping undone: code points that are UTF-8 bytes become the characters they
    encode. A string that is not such bytes (real Latin-1 text, or already right) is kept as it is."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _name(value: Any) -> str | None:
    return unmojibake(value) if isinstance(value, str) and value.strip() else None


def _date(milliseconds: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(milliseconds) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


_FIELDS = frozenset({"participants", "title", "thread_path"})


@dataclass
class _Conversation:
    """What a conversation file holds: its top-level fields, its messages (``TooDeep`` where one nested too
    deep), and, when the JSON broke off or nested too deep outside a message, where and why."""

    fields: dict[str, Any] = field(default_factory=dict)
    messages: list[Any] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (location, reason)


def _load(path: Path) -> _Conversation:
    """The conversation in ``path``, streamed. A file that is no JSON at all, or has no ``messages`` list, is
    refused whole (ValueError); JSON that breaks off after some messages keeps them, the break a problem."""
    conversation, listed = _Conversation(), False
    try:
        with path.open("rb") as handle:
            skip_bom(handle)
            try:
                for prefix, value in walk(handle, _FIELDS | {"messages.item"}, ("messages",)):
                    if prefix == "messages.item":
                        conversation.messages.append(value)
                    elif isinstance(value, Opened):
                        listed = listed or value.kind == "array"
                    elif isinstance(value, TooDeep):
                        place = prefix if prefix in _FIELDS else f"after message {len(conversation.messages)}"
                        conversation.problems.append((place, TOO_DEEP))
                    else:
                        conversation.fields[prefix] = value
            except (ijson.JSONError, UnicodeDecodeError) as error:
                if not conversation.messages:
                    raise ValueError(f"{path}: not readable JSON ({type(error).__name__})") from error
                where = f"message {len(conversation.messages) + 1}"
                conversation.problems.append((where, broken_json(error, handle)))
    except OSError as error:
        raise ValueError(f"{path}: not readable ({error.strerror or type(error).__name__})") from error
    if not listed and not conversation.messages:
        raise ValueError(f"{path}: not a Messenger conversation (no 'messages' list)")
    return conversation


def _record(
    item: Any, participants: list[str], thread: str, source: str, location: str
) -> Message | BadRecord | SystemNotice:
    if not isinstance(item, dict):
        return BadRecord(source, location, f"expected a JSON object, found {type(item).__name__}")
    if item.get("is_unsent"):
        return SystemNotice(source, location, "Messenger unsent message")
    if item.get("type") in _NOTICE_TYPES:
        return SystemNotice(source, location, f"Messenger {item['type'].lower()}")
    sender = _name(item.get("sender_name"))
    content = item.get("content")
    text = unmojibake(content).strip() if isinstance(content, str) else ""
    if not text:
        if any(item.get(key) for key in _MEDIA_KEYS):
            return SystemNotice(source, location, "Messenger media without text")
        return BadRecord(source, location, "empty text", "content")
    if sender is None:
        return BadRecord(source, location, "no sender ('sender_name')", "sender_name")
    others = [name for name in participants if name != sender]
    return Message(
        id=f"{thread}:{item.get('timestamp_ms')}:{location.rsplit(' ', 1)[-1]}",
        text=text,
        source=f"{source}: {location}",
        sender=sender,
        recipients=", ".join(others) or None,
        date=_date(item.get("timestamp_ms")),
        subject=None,
        thread=thread,
    )


def read_messenger(path: Path) -> Iterator[Message | BadRecord | SystemNotice]:
    """Every message of one Messenger/Instagram conversation file, in file order (Facebook writes the newest
    first)."""
    conversation = _load(path)
    fields = conversation.fields
    participants = [
        name for p in fields.get("participants") or [] if isinstance(p, dict) if (name := _name(p.get("name")))
    ]
    thread = str(fields.get("thread_path") or _name(fields.get("title")) or path.parent.name)
    source = str(path)
    for number, item in enumerate(conversation.messages, start=1):
        location = f"message {number}"
        if isinstance(item, TooDeep):
            yield BadRecord(source, location, TOO_DEEP)
        else:
            yield _record(item, participants, thread, source, location)
    for location, reason in conversation.problems:
        yield BadRecord(source, location, reason)
