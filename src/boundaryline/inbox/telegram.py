"""Telegram Desktop's "Export chat history" in machine-readable JSON (``result.json``).

Two shapes: the whole account (``{"chats": {"list": [chat, …]}, "left_chats": {"list": […]}, …}``) or one
chat (``{"name", "type", "id", "messages": […]}``). A chat's messages are
``{"id", "type": "message" | "service", "date", "from", "from_id", "text"}``, where ``text`` is a string or a
list of plain strings and ``{"type": "bold" | "link" | "mention"…, "text"}`` parts, joined here. Each chat is a
thread (its id). Service messages (joins, pins, calls) and media without a caption are ``SystemNotice``s.

The file is streamed: one message at a time is held, never the export (which can be gigabytes). A chat's name,
type and id come before its messages in the files Telegram writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import ijson

from boundaryline.files import TOO_DEEP
from boundaryline.inbox.json_stream import Opened, TooDeep, skip_bom, walk
from boundaryline.inbox.records import BadRecord, Message, SystemNotice
from boundaryline.inbox.tabular import broken_json

# Where chats lie in the file: in the whole account's lists, or the file is one chat ("").
_LISTED_CHATS = ("chats.list.item", "left_chats.list.item")
_CHAT_FIELDS = {f"{chat}.{key}".lstrip("."): key for chat in (*_LISTED_CHATS, "") for key in ("name", "type", "id")}
_MESSAGE_ITEMS = frozenset(f"{chat}.messages.item".lstrip(".") for chat in (*_LISTED_CHATS, ""))
_PERSONAL_CHATS = frozenset({"personal_chat", "bot_chat", "saved_messages"})


def is_telegram_export(keys: list[str]) -> bool:
    """Whether a JSON object with these top-level keys is a Telegram Desktop export."""
    if "chats" in keys or "left_chats" in keys:
        return True
    return "messages" in keys and "type" in keys and "id" in keys and "participants" not in keys


def joined_text(text: Any) -> str:
    """A message's text: the string, or its parts (strings and ``{"text": …}`` objects) joined."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in text if part)
    return ""


class _Chat:
    """The chat whose messages are being read: what its own keys said."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.fields: dict[str, Any] = {}

    @property
    def thread(self) -> str:
        return str(self.fields.get("id") or self.fields.get("name") or f"chat {self.number}")

    @property
    def personal(self) -> bool:
        return self.fields.get("type") in _PERSONAL_CHATS


def _date(item: dict[str, Any]) -> datetime | None:
    """The time the app shows (``date``, local, no zone)."""
    try:
        return datetime.fromisoformat(str(item.get("date")))
    except ValueError:
        return None


def _record(item: Any, chat: _Chat, source: str, location: str) -> Message | BadRecord | SystemNotice:
    if not isinstance(item, dict):
        return BadRecord(source, location, f"expected a JSON object, found {type(item).__name__}")
    if item.get("type") == "service":
        return SystemNotice(source, location, f"Telegram {item.get('action') or 'service message'}")
    if item.get("type", "message") != "message":
        return SystemNotice(source, location, f"Telegram {item.get('type')} entry")
    text = joined_text(item.get("text")).strip()
    if not text:
        if item.get("media_type") or item.get("photo") or item.get("file") or item.get("sticker_emoji"):
            return SystemNotice(source, location, "Telegram media without text")
        return BadRecord(source, location, "empty text", "text")
    sender = item.get("from") or item.get("from_id")
    if not sender:
        return BadRecord(source, location, "no sender ('from')", "from")
    name = chat.fields.get("name")
    return Message(
        id=f"{chat.thread}:{item.get('id')}",
        text=text,
        source=f"{source}: {location}",
        sender=str(sender),
        recipients=str(name) if chat.personal and name and name != sender else None,
        date=_date(item),
        subject=None if chat.personal or not name else str(name),
        thread=chat.thread,
    )


def read_telegram(path: Path) -> Iterator[Message | BadRecord | SystemNotice]:
    """Every message of a Telegram Desktop JSON export, chat by chat, in file order. A message nested deeper
    than ``json_stream.MAX_JSON_DEPTH`` is one bad record, never built, and the next is read."""
    source = str(path)
    chat = _Chat(1)  # a one-chat file's own keys land here
    chats = messages = 0
    with path.open("rb") as handle:
        skip_bom(handle)
        try:
            for prefix, value in walk(handle, _MESSAGE_ITEMS | _CHAT_FIELDS.keys(), _LISTED_CHATS):
                if prefix in _MESSAGE_ITEMS:
                    messages += 1
                    location = f"chat {chat.number}, message {messages}"
                    if isinstance(value, TooDeep):
                        yield BadRecord(source, location, TOO_DEEP)
                    else:
                        yield _record(value, chat, source, location)
                elif isinstance(value, Opened):
                    if value.kind == "object":
                        chats += 1
                        chat = _Chat(chats)
                elif isinstance(value, TooDeep):  # deep nesting outside any message: nothing there is read
                    yield BadRecord(source, f"chat {chat.number}, after message {messages}", TOO_DEEP)
                elif isinstance(value, str | int | float) and not isinstance(value, bool):
                    chat.fields[_CHAT_FIELDS[prefix]] = value
        except (ijson.JSONError, UnicodeDecodeError) as error:
            yield BadRecord(
                source,
                f"chat {chat.number}, after message {messages}",
                broken_json(error, handle),
            )
