"""Readers never leave the folder they were given. A file found inside an export folder (by walking it, or
named by the export itself, as Slack's ``channels.json`` names folders) is read only when, every link
followed, it still lies inside that folder; one that leads out (a ``..`` in a name, a link to ``/etc``) is a
``BadRecord`` saying so, counted and never opened. A link from inside the folder to inside it is fine. A path
the user names themselves is what they were given, and is read wherever it leads."""

from __future__ import annotations

import os
from pathlib import Path

OUTSIDE = "outside the export folder (a link or a name that leads out of it); not read"


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, its links followed, lies in the folder ``root`` (its links followed too). A link that
    cannot be followed (a loop) is not inside."""
    try:
        real, real_root = os.path.realpath(path, strict=False), os.path.realpath(root, strict=False)
    except (OSError, RuntimeError, ValueError):
        return False
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def relative(path: Path, root: Path) -> str:
    """``path`` as a record names it: relative to ``root`` where it was found, as written (links not followed)."""
    return Path(os.path.relpath(path, root)).as_posix()
