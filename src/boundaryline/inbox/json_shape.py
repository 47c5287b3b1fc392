"""What a ``.json`` file is, from a look at its start: a JSON array of records, JSON Lines, or one JSON object
whose top-level keys name the export it is (Telegram's ``result.json``, Messenger's ``message_1.json``).

A single JSON object that no reader knows is refused here with one error, rather than read as JSON Lines and
reported line by line as thousands of "not valid JSON" records."""

from __future__ import annotations

import json
from pathlib import Path

import ijson

from boundaryline.files import nested_deeper
from boundaryline.inbox.messenger import is_messenger_export
from boundaryline.inbox.telegram import is_telegram_export

_BOM = b"\xef\xbb\xbf"
_FIRST_LINE_LIMIT = 1 << 20  # a JSON Lines record longer than this is not looked at whole to tell the shape
_KEYS_SHOWN = 6


def top_level_keys(path: Path) -> list[str]:
    """The keys of the object ``path`` starts with, streamed (a big export is not loaded to learn them); the
    keys read before the JSON broke off, if it does. Only ``basic_parse`` events are read: nothing is built,
    and however deep the values nest, only their depth is counted."""
    keys: list[str] = []
    depth = 0
    with path.open("rb") as handle:
        if handle.read(3) != _BOM:
            handle.seek(0)
        try:
            for event, value in ijson.basic_parse(handle, multiple_values=True):
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                    if depth == 0:
                        break
                elif depth == 1 and event == "map_key":
                    keys.append(str(value))
        except (ijson.JSONError, UnicodeDecodeError):
            pass  # broken JSON: the keys seen so far still tell what it was meant to be
    return keys


def _first_line_is_an_object(path: Path) -> bool:
    with path.open("rb") as handle:
        for raw in iter(lambda: handle.readline(_FIRST_LINE_LIMIT), b""):
            line = raw.removeprefix(_BOM).strip()
            if not line:
                continue
            if nested_deeper(line):  # a JSON Lines record too deep to read: the reader skips that one line
                return line.startswith(b"{")
            try:
                return isinstance(json.loads(line), dict)
            except (ValueError, UnicodeDecodeError, RecursionError):
                return False
    return False


def json_format(path: Path, head: bytes) -> str:
    """``json`` (an array of records), ``jsonl``, ``telegram`` or ``messenger`` for a ``.json`` file whose
    first bytes are ``head``; a ValueError saying what the file looks like for anything else."""
    start = head.removeprefix(_BOM).lstrip(b" \t\r\n")
    if start.startswith(b"["):
        return "json"
    if not start.startswith(b"{"):
        what = "empty" if not start else "not JSON: it starts with neither '[' nor '{'"
        raise ValueError(f"{path}: {what}; a .json export is a JSON array of records, JSON Lines or a known export")
    keys = top_level_keys(path)
    if is_telegram_export(keys):
        return "telegram"
    if is_messenger_export(keys):
        return "messenger"
    if _first_line_is_an_object(path):
        return "jsonl"  # one record a line, whatever its fields
    shown = ", ".join(repr(key[:40]) for key in keys[:_KEYS_SHOWN]) + (", …" if len(keys) > _KEYS_SHOWN else "")
    raise ValueError(
        f"{path}: one JSON object (top-level keys: {shown or 'none'}) that is no known export: not a JSON array of"
        " records, not JSON Lines (one object a line), not a Slack, Telegram (result.json) or Facebook/Instagram"
        " Messenger (message_1.json) export; convert it to CSV or JSON Lines with a text field"
    )
