"""Facebook Messenger and Instagram direct messages, as "Download your information" writes them in JSON: one
conversation per folder, its messages in ``message_1.json``, ``message_2.json``…:

    {"participants": [{"name": …}], "messages": [{"sender_name", "timestamp_ms", "content"}, …],
     "title": …, "thread_path": "inbox/analima_123"}

Facebook writes text as UTF-8 bytes escaped one by one as code points (``"Zo\\u00c3\\u00ab"`` for "Zoë"); that
mojibake is undone where the string is exactly such bytes. Each file is held whole: Facebook caps a file's
messages (10 000), and its title and thread come after them. Calls, joins and leaves, unsent messages and
photos without text are ``SystemNotice``s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from boundaryline.inbox.records import BadRecord, Message, SystemNotice

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


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not readable JSON ({' '.join(str(error).split())})") from error
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise ValueError(f"{path}: not a Messenger conversation (no 'messages' list)")
    return data


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
    data = _load(path)
    participants = [
        name for p in data.get("participants") or [] if isinstance(p, dict) if (name := _name(p.get("name")))
    ]
    thread = str(data.get("thread_path") or _name(data.get("title")) or path.parent.name)
    source = str(path)
    for number, item in enumerate(data["messages"], start=1):
        yield _record(item, participants, thread, source, f"message {number}")
