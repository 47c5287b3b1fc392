"""Readers never leave the folder they were given (issue 23, second round): a name in an export or a link that
leads out of the folder is one bad record saying so, counted and never opened; a link from inside to inside is
read as any file."""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from boundaryline.inbox import BadRecord, Message, read_inbox
from boundaryline.inbox.confine import OUTSIDE
from boundaryline.inbox.mail import read_maildir
from boundaryline.scoring.partitions import ReadOptions, expand_inputs, plan_partitions, read_partition
from tests.records import split, write_mbox

SECRET = "words from outside the export"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """The real paths of every file opened for reading through ``Path.open`` (as every reader opens them)."""
    paths: set[str] = set()
    real_open = pathlib.Path.open

    def recording_open(self: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        if "r" in mode:
            paths.add(os.path.realpath(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", recording_open)
    yield paths


def eml(text: str, number: int = 1) -> bytes:
    return (
        f"From: Ana <ana@example.com>\r\nTo: me@example.com\r\nSubject: Hi\r\nMessage-ID: <m{number}@example.com>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    ).encode()


def day(*texts: str) -> str:
    return json.dumps(
        [{"type": "message", "user": "U1", "text": t, "ts": f"17000000{i}0.0"} for i, t in enumerate(texts)]
    )


def slack_export(root: Path, channels: list[dict[str, object]]) -> Path:
    root.mkdir(parents=True)
    (root / "users.json").write_text(json.dumps([{"id": "U1", "name": "ana"}]))
    (root / "channels.json").write_text(json.dumps(channels))
    return root


def outside_reasons(records: list[Message | BadRecord]) -> list[tuple[str, str]]:
    return [(r.source, r.location) for r in records if isinstance(r, BadRecord) and r.reason == OUTSIDE]


def test_a_slack_channel_named_out_of_the_export_is_not_read(tmp_path: Path, opened: set[str]) -> None:
    secret = tmp_path / "outside" / "private" / "2026-01-05.json"
    secret.parent.mkdir(parents=True)
    secret.write_text(day(SECRET))
    root = slack_export(
        tmp_path / "export",
        [{"id": "C1", "name": "general"}, {"id": "C2", "name": "../outside/private"}, {"id": "C3", "name": "/etc"}],
    )
    (root / "general").mkdir()
    (root / "general" / "2026-01-05.json").write_text(day("Could we talk?"))
    records = list(read_inbox(root))
    messages, bad, _ = split(records)
    assert [m.text for m in messages] == ["Could we talk?"]
    assert [(b.location, b.reason) for b in bad] == [("../outside/private", OUTSIDE), ("/etc", OUTSIDE)]
    assert str(secret) not in opened and SECRET not in str(records)


def test_slack_day_files_linked_out_of_the_export_are_not_read(tmp_path: Path, opened: set[str]) -> None:
    secret = tmp_path / "outside.json"
    secret.write_text(day(SECRET))
    root = slack_export(tmp_path / "export", [{"id": "C1", "name": "general"}])
    general = root / "general"
    general.mkdir()
    (general / "2026-01-05.json").write_text(day("Could we talk?"))
    (general / "2026-01-06.json").symlink_to(secret)
    (general / "2026-01-07.json").symlink_to("2026-01-05.json")  # inside to inside: read
    (root / "linked").symlink_to(tmp_path, target_is_directory=True)  # a whole folder linked from elsewhere
    messages, bad, _ = split(list(read_inbox(root)))
    assert [m.text for m in messages] == ["Could we talk?", "Could we talk?"]
    assert [(b.location, b.reason) for b in bad] == [("general/2026-01-06.json", OUTSIDE), ("linked", OUTSIDE)]
    assert str(secret) not in opened


def test_mail_files_linked_out_of_the_folder_are_not_read(tmp_path: Path, opened: set[str]) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.eml").write_bytes(eml(SECRET))
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "1.eml").write_bytes(eml("Could we talk?"))
    (folder / "2.eml").symlink_to(outside / "secret.eml")
    (folder / "3").symlink_to(outside / "passwd")  # no extension: not even opened to tell whether it is mail
    (folder / "4.eml").symlink_to(folder / "1.eml")  # inside to inside: read
    records = list(read_inbox(folder))
    messages, _, _ = split(records)
    assert [m.text for m in messages] == ["Could we talk?", "Could we talk?"]
    assert sorted(outside_reasons(records)) == [(str(folder), "2.eml"), (str(folder), "3")]
    assert not {str(outside / "secret.eml"), str(outside / "passwd")} & opened


def test_a_maildir_and_a_mbox_folder_never_leave_their_folder(tmp_path: Path, opened: set[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "1.eml").write_bytes(eml(SECRET))
    maildir = tmp_path / "Maildir"
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(eml("Could we talk?"))
    (maildir / "cur").symlink_to(elsewhere, target_is_directory=True)
    records = list(read_maildir(maildir))
    assert [r.text for r in records if isinstance(r, Message)] == ["Could we talk?"]
    assert outside_reasons(records) == [(str(maildir), "cur")]

    mbox = write_mbox(elsewhere / "Archive", [eml(SECRET)])
    profile = tmp_path / "Mail"
    write_mbox(profile / "Inbox", [eml("Could we talk?")])
    (profile / "Inbox.msf").write_text("")
    (profile / "Archive").symlink_to(mbox)
    records = list(read_inbox(profile))
    assert [r.text for r in records if isinstance(r, Message)] == ["Could we talk?"]
    assert outside_reasons(records) == [(str(profile), "Archive")]
    assert not {str(mbox), str(elsewhere / "1.eml")} & opened


def test_a_linkedin_folder_whose_messages_lead_out_is_not_read(tmp_path: Path, opened: set[str]) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text(f"CONVERSATION ID,FROM,TO,DATE,CONTENT\nc1,Ana,Me,2026-01-05,{SECRET}\n")
    folder = tmp_path / "linkedin"
    folder.mkdir()
    (folder / "messages.csv").symlink_to(secret)
    assert outside_reasons(list(read_inbox(folder))) == [(str(folder), "messages.csv")]
    assert str(secret) not in opened


def test_files_found_by_walking_a_folder_or_a_glob_stay_inside(tmp_path: Path, opened: set[str]) -> None:
    """The partitioner's walks: a folder of exports, and a glob (``**`` follows linked folders)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(f"id,text\n1,{SECRET}\n")
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("id,text\n1,Could we talk?\n")
    (folder / "b.csv").symlink_to(outside / "secret.csv")
    (folder / "c.csv").symlink_to(folder / "a.csv")  # inside to inside: read
    (folder / "linked").symlink_to(outside, target_is_directory=True)

    inputs = expand_inputs([folder / "**" / "*.csv"])
    assert list(inputs) == [folder / "a.csv", folder / "c.csv"]
    assert [path for path, _ in inputs.outside] == [folder / "b.csv", folder / "linked" / "secret.csv"]
    for given in (inputs, [folder]):
        partitions = plan_partitions(given, ReadOptions(), 1 << 20)
        records = [r for p in partitions for r in read_partition(p, ReadOptions())]
        assert [r.text for r in records if isinstance(r, Message)] == ["Could we talk?", "Could we talk?"]
        assert sorted(location for _, location in outside_reasons(records))[0] == "b.csv"
        assert SECRET not in str(records)
    assert str(outside / "secret.csv") not in opened
    with pytest.raises(FileNotFoundError, match="no file inside"):
        expand_inputs([folder / "b.*"])  # nothing left to read: refused as a pattern that matches nothing
