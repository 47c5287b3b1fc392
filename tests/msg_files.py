"""Outlook ``.msg`` files for tests, written from scratch ([MS-CFB] version 3, [MS-OXMSG]).

No maintained library writes compound files, and real ``.msg`` files are personal mail: these are built
here, stream by stream, and read back by ``olefile`` as any Outlook file is. Every stream is under 4 KiB,
so all of them live in the mini stream.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

SECTOR, MINI = 512, 64
FREE, END, FAT_SECTOR, NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _entry(
    name: str, kind: int, *, right: int = NO_STREAM, child: int = NO_STREAM, start: int = END, size: int = 0
) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        encoded, len(encoded), kind, 1, NO_STREAM, right, child, b"\x00" * 16, 0, 0, 0, start, size,
    )  # fmt: skip


def _chain(fat: list[int], first: int, count: int) -> None:
    for i in range(first, first + count):
        fat[i] = i + 1 if i < first + count - 1 else END


def _sectors(data: bytes, fill: bytes) -> bytes:
    return data.ljust(-(-len(data) // SECTOR) * SECTOR, fill)


def write_compound_file(path: Path, streams: dict[str, bytes]) -> Path:
    """A compound file whose root storage holds ``streams`` (each under 4 KiB, so all in the mini stream), the
    siblings as a chain. Layout: header, one FAT sector, the directory, the mini FAT, the mini stream."""
    names = sorted(streams, key=lambda n: (len(n), n.upper()))  # the order [MS-CFB] compares names in
    mini_data, mini_fat, starts = b"", [], []
    for name in names:
        data = streams[name]
        assert len(data) < 4096, name
        count = max(1, -(-len(data) // MINI))
        starts.append(len(mini_fat))
        mini_fat += [FREE] * count
        _chain(mini_fat, starts[-1], count)
        mini_data += data.ljust(count * MINI, b"\x00")
    mini_fat_bytes = _sectors(struct.pack(f"<{len(mini_fat)}I", *mini_fat), b"\xff")
    mini_stream = _sectors(mini_data, b"\x00")
    dir_sectors = -(-(1 + len(names)) // 4)
    first_dir, first_minifat = 1, 1 + dir_sectors
    first_mini = first_minifat + len(mini_fat_bytes) // SECTOR
    fat = [FREE] * (SECTOR // 4)
    fat[0] = FAT_SECTOR
    _chain(fat, first_dir, dir_sectors)
    _chain(fat, first_minifat, len(mini_fat_bytes) // SECTOR)
    _chain(fat, first_mini, len(mini_stream) // SECTOR)
    assert first_mini + len(mini_stream) // SECTOR <= len(fat), "a test .msg fits one FAT sector"
    entries = [_entry("Root Entry", 5, child=1 if names else NO_STREAM, start=first_mini, size=len(mini_data))]
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else NO_STREAM
        entries.append(_entry(name, 2, right=right, start=starts[i], size=len(streams[name])))
    entries += [_entry("", 0)] * (dir_sectors * 4 - len(entries))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x00" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\x00" * 6,
        0, 1, first_dir, 0, 4096, first_minifat, len(mini_fat_bytes) // SECTOR, END, 0,
    )  # fmt: skip
    header += struct.pack("<109I", 0, *([FREE] * 108))
    fat_sector = struct.pack(f"<{len(fat)}I", *fat)
    path.write_bytes(header + fat_sector + b"".join(entries) + mini_fat_bytes + mini_stream)
    return path


def unicode_stream(prop: int, value: str) -> tuple[str, bytes]:
    return f"__substg1.0_{prop:04X}001F", value.encode("utf-16-le")


def string8_stream(prop: int, value: str, codepage: str) -> tuple[str, bytes]:
    return f"__substg1.0_{prop:04X}001E", value.encode(codepage)


def binary_stream(prop: int, value: bytes) -> tuple[str, bytes]:
    return f"__substg1.0_{prop:04X}0102", value


def properties_stream(
    *, times: dict[int, datetime] | None = None, longs: dict[int, int] | None = None
) -> tuple[str, bytes]:
    """``__properties_version1.0`` of a top-level message: 32 header bytes, then 16 bytes per fixed property."""
    body = b"\x00" * 32
    for prop, when in (times or {}).items():
        ticks = int((when - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)
        body += struct.pack("<IIQ", prop << 16 | 0x0040, 6, ticks)
    for prop, number in (longs or {}).items():
        body += struct.pack("<IIi4x", prop << 16 | 0x0003, 6, number)
    return "__properties_version1.0", body


def write_msg(path: Path, *streams: tuple[str, bytes]) -> Path:
    return write_compound_file(path, dict(streams))
