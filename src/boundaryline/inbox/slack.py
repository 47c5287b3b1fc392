"""Slack workspace exports: ``users.json``, ``channels.json`` (and ``groups.json``, ``dms.json``, ``mpims.json``
where present), and a folder per conversation of per-day JSON files (``2026-10-05.json``, an array of messages).

Each conversation is a thread (its channel or DM id). Names come from ``users.json`` and ``<@U123>`` mentions
are resolved to them. Join/leave notices, topic changes, bot and app posts and file shares without text are
yielded as ``SystemNotice``: counted, never scored, and not errors.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ijson

from boundaryline.files import TOO_DEEP
from boundaryline.inbox.confine import OUTSIDE, inside
from boundaryline.inbox.json_stream import TooDeep, skip_bom, walk
from boundaryline.inbox.records import BadRecord, Message, SystemNotice
from boundaryline.inbox.tabular import broken_json

CONVERSATION_LISTS = {"channels.json": "channel", "groups.json": "private channel", "dms.json": "dm", "mpims.json": "group dm"}  # fmt: skip
# Subtypes that are still a person writing; every other subtype (channel_join, bot_message, …) is a notice.
PERSON_SUBTYPES = frozenset({"thread_broadcast", "file_share", "me_message", "reply_broadcast", "file_comment"})
_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_MARKUP = re.compile(r"<([@#!])?([^<>|]+)(?:\|([^<>]*))?>")


def is_slack_export(path: Path) -> bool:
    return (path / "users.json").is_file() and any((path / name).is_file() for name in CONVERSATION_LISTS)


def slack_root(path: Path) -> Path | None:
    """The export folder ``path`` is, or lies in (a conversation folder, or one day's file)."""
    for candidate in (path, path.parent, path.parent.parent):
        if candidate.is_dir() and is_slack_export(candidate):
            return candidate
    return None


@dataclass(frozen=True)
class Conversation:
    id: str
    folder: str
    kind: str  # channel, private channel, dm, group dm, or "folder" for one no list names
    name: str | None
    members: tuple[str, ...]


def _load_list(path: Path) -> list[dict[str, Any]]:
    """The objects of one of the export's lists (``users.json``, ``channels.json``…), streamed; an entry that
    is no object, or nests deeper than ``json_stream.MAX_JSON_DEPTH``, is left out. A list file that leads out
    of the export (a link) is not read: it lists nothing (``read_slack`` reports it)."""
    if not inside(path, path.parent):
        return []
    try:
        with path.open("rb") as handle:
            start = skip_bom(handle)
            if not handle.read(4096).lstrip().startswith(b"["):
                raise ValueError(f"{path}: expected a JSON array")
            handle.seek(start)
            return [item for _, item in walk(handle, ("item",)) if isinstance(item, dict)]
    except OSError as error:
        raise ValueError(f"{path}: not readable ({error.strerror or type(error).__name__})") from error
    except (ijson.JSONError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not readable JSON ({type(error).__name__})") from error


def user_names(root: Path) -> dict[str, str]:
    """User id → the name people see: real name, else display name, else the handle."""
    names = {}
    for user in _load_list(root / "users.json"):
        profile = user["profile"] if isinstance(user.get("profile"), dict) else {}
        name = profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user.get("name")
        if user.get("id") and name:
            names[str(user["id"])] = str(name)
    return names


def conversations(root: Path) -> list[Conversation]:
    """Every conversation the lists name, then any other folder of day files (read too: nothing is dropped)."""
    found: list[Conversation] = []
    for list_name, kind in CONVERSATION_LISTS.items():
        if not (root / list_name).is_file():
            continue
        for item in _load_list(root / list_name):
            conversation_id = str(item.get("id") or item.get("name") or "")
            # Channels' folders are named by name; DMs' by id; group DMs' by their mpdm-… name.
            folder = str(item.get("id") if kind == "dm" else item.get("name") or item.get("id") or "")
            members = tuple(str(m) for m in item.get("members") or [] if m)
            found.append(Conversation(conversation_id, folder, kind, item.get("name"), members))
    known = {c.folder for c in found}
    for extra in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in known):
        # a folder linked from elsewhere is not looked into; listed, it is reported as outside the export
        if not inside(extra, root) or any(_DAY_FILE.match(f.name) for f in extra.iterdir()):
            found.append(Conversation(extra.name, extra.name, "folder", extra.name, ()))
    return found


def resolve_markup(text: str, names: dict[str, str]) -> str:
    """Slack's markup as people read it: ``<@U123>`` → "@Ana Lima", ``<#C1|general>`` → "#general",
    ``<!here>`` → "@here", ``<https://…|label>`` → "label"; ``&amp;`` and friends unescaped."""

    def replace(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return "@" + names.get(target, label or target)
        if sigil == "#":
            return "#" + (label or target)
        if sigil == "!":
            return label or "@" + target.split("^")[0]
        return label or target.removeprefix("mailto:")

    return html.unescape(_MARKUP.sub(replace, text))


def _date(ts: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _message(
    item: Any, conversation: Conversation, names: dict[str, str], source: str, location: str
) -> Message | BadRecord | SystemNotice:
    if not isinstance(item, dict):
        return BadRecord(source, location, f"expected a JSON object, found {type(item).__name__}")
    subtype = item.get("subtype")
    if item.get("type", "message") != "message":
        return SystemNotice(source, location, f"Slack {item.get('type')} event")
    if subtype and subtype not in PERSON_SUBTYPES:
        return SystemNotice(source, location, f"Slack {subtype}")
    # Old exports put a file comment's author and words in "comment"; "text" is "<@U1> commented on …: words".
    comment = item["comment"] if subtype == "file_comment" and isinstance(item.get("comment"), dict) else {}
    user = item.get("user") or comment.get("user")
    if not user:
        if item.get("bot_id"):
            return SystemNotice(source, location, "Slack bot_message")
        return BadRecord(source, location, "no sender (no 'user')", "user")
    raw = comment.get("comment") if isinstance(comment.get("comment"), str) else item.get("text")
    if raw is not None and not isinstance(raw, str):
        return BadRecord(source, location, f"text is a {type(raw).__name__}, not a string", "text")
    text = resolve_markup(raw or "", names).strip()
    if not text:
        if item.get("files") or item.get("attachments"):
            return SystemNotice(source, location, "Slack file or attachment without text")
        return BadRecord(source, location, "empty text", "text")
    date = _date(item.get("ts"))
    if date is None:
        return BadRecord(source, location, f"no usable timestamp ({item.get('ts')!r})", "ts")
    profile = item["user_profile"] if isinstance(item.get("user_profile"), dict) else {}
    sender = names.get(str(user)) or profile.get("real_name") or str(user)
    others = [names.get(m, m) for m in conversation.members if m != user]
    is_dm = conversation.kind in ("dm", "group dm")
    return Message(
        id=f"{conversation.id}:{item.get('ts')}",
        text=text,
        source=f"{source}: {location}",
        sender=sender,
        recipients=", ".join(others) if is_dm and others else None,
        date=date,
        subject=None if is_dm else f"#{conversation.name or conversation.folder}",
        thread=conversation.id,
    )


def read_slack(path: Path) -> Iterator[Message | BadRecord | SystemNotice]:
    """Every message of a Slack export folder, conversation by conversation, day by day; ``path`` may also be
    one conversation's folder or one day's file inside an export (names still come from its ``users.json``).

    Nothing outside the export folder is read (``confine``): a list file or day file linking out of it, or a
    conversation whose name leads out (``../elsewhere``), is one ``BadRecord`` each, never opened."""
    root = slack_root(path)
    if root is None:
        raise ValueError(f"{path}: not in a Slack export (no users.json with channels.json, dms.json, … beside it)")
    source = str(root)
    for listed in ("users.json", *CONVERSATION_LISTS):
        if (root / listed).is_file() and not inside(root / listed, root):
            yield BadRecord(source, listed, OUTSIDE)
    names = user_names(root)
    for conversation in conversations(root):
        folder = root / conversation.folder
        if path not in (root, folder) and folder not in path.parents:
            continue
        if not conversation.folder or not folder.is_dir():
            continue  # listed but with no messages exported
        if not inside(folder, root):
            yield BadRecord(source, conversation.folder, OUTSIDE)
            continue
        days = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix == ".json")
        for day in days:
            if path.is_file() and day != path:
                continue
            relative = day.relative_to(root).as_posix()
            if not inside(day, root):
                yield BadRecord(source, relative, OUTSIDE)
                continue
            yield from _read_day(day, relative, conversation, names, source)


def _read_day(
    day: Path, relative: str, conversation: Conversation, names: dict[str, str], source: str
) -> Iterator[Message | BadRecord | SystemNotice]:
    """One day's messages, streamed; a message nested deeper than ``json_stream.MAX_JSON_DEPTH`` is one bad
    record, never built, and the next is read."""
    record = 0
    with day.open("rb") as handle:
        start = skip_bom(handle)
        if not handle.read(4096).lstrip().startswith(b"["):
            yield BadRecord(source, relative, "not a JSON array of messages; not read")
            return
        handle.seek(start)
        try:
            for _, item in walk(handle, ("item",)):
                record += 1
                location = f"{relative}, record {record}"
                if isinstance(item, TooDeep):
                    yield BadRecord(source, location, TOO_DEEP)
                    continue
                yield _message(item, conversation, names, source, location)
        except (ijson.JSONError, UnicodeDecodeError) as error:
            yield BadRecord(
                source,
                f"{relative}, record {record + 1}",
                broken_json(error, handle),
            )
