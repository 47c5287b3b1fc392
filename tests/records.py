"""Helpers the reader tests share: sorting what a reader yields, writing an mbox or a crafted zip, and running
a memory probe in a child process under an address-space cap."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

from boundaryline.inbox import BadRecord, Message, SystemNotice

Record = Message | BadRecord | SystemNotice


def split(records: list[Record]) -> tuple[list[Message], list[BadRecord], list[SystemNotice]]:
    """A reader's records sorted into messages, bad records and system notices (each in reading order)."""
    return (
        [r for r in records if isinstance(r, Message)],
        [r for r in records if isinstance(r, BadRecord)],
        [r for r in records if isinstance(r, SystemNotice)],
    )


def write_mbox(path: Path, mails: list[bytes]) -> Path:
    """``mails`` as an mbox file (mboxrd: a body line starting "From " is escaped), its folder made if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for raw in mails:
            handle.write(
                b"From MAILER-DAEMON Thu Oct  1 09:30:00 2026\n" + raw.replace(b"\nFrom ", b"\n>From ") + b"\n"
            )
    return path


def write_zip(path: Path, members: dict[str, list[tuple[bytes, int]]]) -> Path:
    """A zip whose members are pieces repeated (``(block, times)``), each piece deflated once and its
    compressed form repeated: a member that unpacks to a gigabyte is written in a second and takes a megabyte.
    A full flush after each piece makes it independent of what came before, so the copies decompress alike."""
    central, offset = b"", 0
    with path.open("wb") as handle:
        for name, pieces in members.items():
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            data, crc, size = b"", 0, 0
            for block, times in pieces:
                data += (compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)) * times
                for _ in range(times):
                    crc = zlib.crc32(block, crc)
                size += len(block) * times
            data += compressor.flush()
            encoded = name.encode()
            fields = (crc, len(data), size, len(encoded))
            handle.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, *fields, 0) + encoded + data)
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, *fields, 0, 0, 0, 0, 0,
                                   offset) + encoded  # fmt: skip
            offset += 30 + len(encoded) + len(data)
        handle.write(central)
        handle.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), offset, 0))
    return path


# A child's address space is capped this far above what it uses once started: enough for any reader on a
# small fixture, far below what the regressions took (3-22 GB), so one fails with MemoryError, not the machine.
CAP_ABOVE = 3 << 29  # 1.5 GiB
_CAPPED = """
import json, resource, time
def _vm_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()
_soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
_cap = _vm_bytes() + {above}
resource.setrlimit(resource.RLIMIT_AS, (_cap if _hard == resource.RLIM_INFINITY else min(_cap, _hard), _hard))
_start = time.perf_counter()
{body}
print(json.dumps({{"result": result, "seconds": time.perf_counter() - _start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}}))
"""


def run_capped(setup: str, body: str, *, above: int = CAP_ABOVE, timeout: float = 120) -> dict[str, Any]:
    """Run ``setup`` (imports), then ``body`` under an ``RLIMIT_AS`` cap ``above`` bytes over the child's size
    after ``setup``, in a child Python; ``body`` sets ``result`` (JSON). Returns ``{"result", "seconds",
    "peak_mb"}``; a child that fails (MemoryError included) fails the test with its stderr."""
    code = textwrap.dedent(setup) + _CAPPED.format(above=above, body=textwrap.dedent(body))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.splitlines()[-1]))
