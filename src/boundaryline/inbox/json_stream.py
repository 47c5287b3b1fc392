"""JSON for the readers, with a limit on how deep a value may nest, checked before the value is built.

A value nested thousands of levels deep costs nothing to step over but everything to build: ijson's ``parse``
and ``items`` make a dotted path for every level (a 200 KB file nested 100,000 deep needs gigabytes, the paths
growing with the depth), and ``json.loads`` gives up with a ``RecursionError`` that takes the whole file with
it. So the streamed readers walk ijson's ``basic_parse`` events (no paths), keep the few paths they look for
only down to ``MAX_JSON_DEPTH``, and never build a value deeper than that: its record is one skip and the
reading goes on after it. A JSON Lines line is measured by a scan of its bytes before ``json.loads``
(``files.read_json_lines``)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import IO, Any

import ijson
from ijson.common import ObjectBuilder

from boundaryline.files import MAX_JSON_DEPTH


@dataclass(frozen=True)
class TooDeep:
    """A value that nests deeper than ``MAX_JSON_DEPTH`` and so was not built."""


@dataclass(frozen=True)
class Opened:
    """An array or object begins at a path the caller marked (``walk``'s ``mark``)."""

    kind: str  # "array" or "object"


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


_STARTS = {"start_map": "object", "start_array": "array"}
_ENDS = frozenset({"end_map", "end_array"})


def walk(
    handle: IO[bytes],
    build: Collection[str],
    mark: Collection[str] = (),
    *,
    limit: int = MAX_JSON_DEPTH,
    multiple_values: bool = False,
    buf_size: int = 1 << 16,
) -> Iterator[tuple[str, Any]]:
    """The values of a JSON stream at the paths in ``build`` (ijson's prefixes: ``"item"``,
    ``"chats.list.item.messages.item"``), each as ``(path, value)``: an array or object built whole, or
    ``TooDeep()`` when it nests deeper than ``limit`` levels from the top (it is then stepped over, never
    built). An array or object beginning at a path in ``mark`` is ``(path, Opened(kind))``, not built. Where
    nesting passes ``limit`` outside any value built, ``(path, TooDeep())`` once, the path being that of the
    value where it did. Only ``basic_parse`` events are read, and paths kept only down to ``limit`` levels,
    so a deep file costs its bytes, never its depth squared. Raises what ijson raises on broken JSON."""
    depth = 0  # the arrays and objects open now
    paths: list[str] = []  # the path of each open one down to ``limit``
    keys: list[str | None] = []  # the key being read in each open object down to ``limit`` (None: an array)
    builder: ObjectBuilder | None = None
    building, built, built_depth, skipping = False, "", 0, False
    for event, value in ijson.basic_parse(handle, use_float=True, multiple_values=multiple_values, buf_size=buf_size):
        if building:  # inside a value being built
            if event in _STARTS:
                depth += 1
                if depth > limit and not skipping:
                    skipping, builder = True, None
            elif event in _ENDS:
                depth -= 1
            if builder is not None:
                builder.event(event, value)
            if depth == built_depth:
                yield built, TooDeep() if skipping or builder is None else builder.value
                building, builder, skipping = False, None, False
            continue
        if event in _ENDS:
            if depth <= limit:
                paths.pop()
                keys.pop()
            depth -= 1
            continue
        if depth > limit:
            if event in _STARTS:
                depth += 1
            continue
        if event == "map_key":
            keys[-1] = value
            continue
        path = "" if not paths else _join(paths[-1], "item" if keys[-1] is None else str(keys[-1]))
        if event not in _STARTS:
            if path in build:
                yield path, value
            continue
        if path in build:
            building, built, built_depth = True, path, depth
            depth += 1
            skipping = depth > limit
            builder = None if skipping else ObjectBuilder()
            if builder is not None:
                builder.event(event, value)
            continue
        depth += 1
        if path in mark:
            yield path, Opened(_STARTS[event])
        if depth > limit:
            yield path, TooDeep()
        else:
            paths.append(path)
            keys.append(None if event == "start_array" else "")


def skip_bom(handle: IO[bytes]) -> int:
    """Past a UTF-8 byte-order mark (Windows tools write one) at the start of ``handle``: where the JSON starts."""
    start = 3 if handle.read(3) == b"\xef\xbb\xbf" else 0
    handle.seek(start)
    return start
