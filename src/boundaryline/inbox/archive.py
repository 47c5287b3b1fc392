"""Exports delivered as a ``.zip`` (Slack's workspace export; WhatsApp's "Export chat" with media): read as they
come, unpacked into a temporary folder that is removed when the reading ends. Records name the zip, and the
file inside it, never the temporary folder."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath

from boundaryline.inbox.records import BadRecord, Message, SystemNotice
from boundaryline.inbox.slack import CONVERSATION_LISTS

Record = Message | BadRecord | SystemNotice
MAX_UNPACKED_BYTES = 8 << 30  # what a zip may unpack to; more is refused (a zip bomb, or not an inbox export)


def _members(path: Path) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path}: not a readable zip archive ({error})") from error


def _is_slack(names: set[PurePosixPath]) -> bool:
    folders = {name.parent for name in names if name.name == "users.json"}
    return any(folder / listed in names for folder in folders for listed in CONVERSATION_LISTS)


def zip_format(path: Path, is_chat_line: Callable[[str], bool]) -> str:
    """``slack`` or ``whatsapp`` for a zip holding that export; a ValueError saying what it holds otherwise.
    ``is_chat_line`` tells a WhatsApp chat's first line."""
    members = _members(path)
    if _is_slack({PurePosixPath(m.filename) for m in members}):
        return "slack"
    if _whatsapp_chat(path, members, is_chat_line) is not None:
        return "whatsapp"
    raise ValueError(
        f"{path}: a zip archive with {len(members)} file(s) but no Slack export (users.json beside channels.json)"
        " and no WhatsApp chat (.txt); unzip it and score the export inside"
    )


def _whatsapp_chat(path: Path, members: list[zipfile.ZipInfo], is_chat_line: Callable[[str], bool]) -> str | None:
    """The member that is the chat's text (``_chat.txt``, ``WhatsApp Chat with Ana.txt``), if one is."""
    with zipfile.ZipFile(path) as archive:
        for member in members:
            if not member.filename.lower().endswith(".txt"):
                continue
            with archive.open(member) as handle:
                head = handle.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff")
            first = next((line for line in head.splitlines() if line.strip()), "")
            if is_chat_line(first):
                return member.filename
    return None


def _unpack(path: Path, members: list[zipfile.ZipInfo], into: Path) -> None:
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise ValueError(f"{path}: unpacks to more than {MAX_UNPACKED_BYTES >> 30} GiB; unzip it and score the export")
    with zipfile.ZipFile(path) as archive:
        archive.extractall(into, members)  # zipfile drops "..", drive letters and leading slashes from names


def _renamed(record: Record, folder: str, path: Path) -> Record:
    """``record`` naming the zip where it named the temporary folder."""
    return replace(record, source=record.source.replace(folder, str(path), 1))


def read_zipped_slack(
    path: Path, read_folder: Callable[[Path], Iterator[Record]], find_root: Callable[[Path], Path | None]
) -> Iterator[Record]:
    """The records of the Slack export in the zip ``path``, read by ``read_folder`` from where it unpacks."""
    with tempfile.TemporaryDirectory(prefix="boundaryline-") as folder:
        _unpack(path, _members(path), Path(folder))
        candidates = [Path(folder), *sorted(p for p in Path(folder).iterdir() if p.is_dir())]
        root = next((root for c in candidates if (root := find_root(c)) is not None), Path(folder))
        for record in read_folder(root):
            yield _renamed(record, str(root), path)


def read_zipped_whatsapp(
    path: Path, read_chat: Callable[[Path], Iterator[Record]], is_chat_line: Callable[[str], bool]
) -> Iterator[Record]:
    """The records of the WhatsApp chat in the zip ``path``; only its text is unpacked, not the media. The chat
    is named after the zip ("WhatsApp Chat - Ana Lima.zip"), as iPhone's ``_chat.txt`` is by its folder."""
    members = _members(path)
    name = _whatsapp_chat(path, members, is_chat_line)
    if name is None:
        raise ValueError(f"{path}: a zip archive with no WhatsApp chat (.txt) in it")
    with tempfile.TemporaryDirectory(prefix="boundaryline-") as folder:
        chat_folder = Path(folder) / path.stem
        chat_folder.mkdir()
        chat = chat_folder / ("_chat.txt" if PurePosixPath(name).name == "_chat.txt" else PurePosixPath(name).name)
        with zipfile.ZipFile(path) as archive, archive.open(name) as source, chat.open("wb") as target:
            while block := source.read(1 << 20):
                target.write(block)
        for record in read_chat(chat):
            yield _renamed(record, str(chat), Path(f"{path}:{name}"))
