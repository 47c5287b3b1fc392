"""``boundaryline watch`` against a real Dovecot: keywords, moves and copies, the place kept across restarts,
a server restart survived, a promoted model picked up, and a correction read back into the feedback store."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from imapclient import IMAPClient

from boundaryline import registry
from boundaryline.feedback import FeedbackStore
from boundaryline.live.imap import SCORED, Account, correction_folders
from boundaryline.live.watch import Tally, WatchOptions, state_path, watch
from boundaryline.settings import Settings
from tests.live.conftest import Texts, mail, run
from tests.live.dovecot import Dovecot

WATCH = ("watch", "--insecure", "--once")


def flags_by_id(client: IMAPClient, folder: str) -> dict[str, set[bytes]]:
    """Each message of ``folder``, by its Message-ID, with its flags (read-only: nothing is changed)."""
    client.select_folder(folder, readonly=True)
    found = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    out = {}
    for data in found.values():
        header = next(v for k, v in data.items() if k.startswith(b"BODY[HEADER"))
        out[header.split(b":", 1)[1].strip().decode()] = set(data[b"FLAGS"]) - {b"\\Recent"}  # per session
    return out


def bodies(client: IMAPClient, folder: str) -> dict[int, bytes]:
    client.select_folder(folder, readonly=True)
    return {uid: d[b"BODY[]"] for uid, d in client.fetch(client.search("ALL"), ["BODY.PEEK[]"]).items()}


def message_id(raw: bytes) -> str:
    return next(line.split(b":", 1)[1].strip().decode() for line in raw.splitlines() if line.startswith(b"Message-ID"))


@pytest.mark.parametrize("how", ["--move-flagged", "--copy-flagged"])
def test_new_mail_is_marked_and_the_flagged_moved_or_copied(
    how: str,
    dovecot: Dovecot,
    live_settings: Settings,
    texts: Texts,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # even at DEBUG: no password, no message text (imapclient's protocol log is off)
    professional, proposition, read_already = (
        mail(texts.professional[0]),
        mail(texts.proposition[0]),
        mail(texts.professional[1]),
    )
    with dovecot.client() as client:
        for raw in (professional, proposition):
            client.append("INBOX", raw)
        client.append("INBOX", read_already, flags=[b"\\Seen"])
        before = bodies(client, "INBOX")

    code, out, err = run(capsys, *WATCH, "--backfill", "10", how, "Flagged", dovecot.url)

    assert code == 0, err
    assert "3 scored (0 pestering, 1 inappropriate_proposition)" in out
    assert dovecot.password not in out + err
    assert dovecot.password not in caplog.text
    assert not any(text in out + err + caplog.text for text in [*texts.professional, *texts.proposition])
    with dovecot.client() as client:
        inbox, flagged = flags_by_id(client, "INBOX"), flags_by_id(client, "Flagged")
        after = bodies(client, "INBOX")
    assert inbox[message_id(professional)] == {SCORED.encode()}  # scored; not marked read
    assert inbox[message_id(read_already)] == {SCORED.encode(), b"\\Seen"}  # \Seen kept as it was
    assert flagged[message_id(proposition)] == {SCORED.encode(), b"$Proposition"}
    assert (message_id(proposition) in inbox) is (how == "--copy-flagged")
    assert all(after[uid] == before[uid] for uid in after)  # the content is untouched


def test_a_restart_neither_scores_twice_nor_misses(
    dovecot: Dovecot, live_settings: Settings, texts: Texts, capsys: pytest.CaptureFixture[str]
) -> None:
    with dovecot.client() as client:
        old = [mail(texts.professional[0]), mail(texts.professional[1])]
        for raw in old:
            client.append("INBOX", raw)

    code, out, _ = run(capsys, *WATCH, dovecot.url)  # the first look: the mail already there is left alone
    assert code == 0
    assert "0 scored" in out
    place = state_path(live_settings, Account.parse(dovecot.url))
    assert place.stat().st_mode & 0o777 == 0o600
    saved = json.loads(place.read_text())
    assert saved["folders"]["INBOX"]["last_uid"] == 2 and saved["folders"]["INBOX"]["uidvalidity"] > 0
    assert dovecot.password not in place.read_text()

    new = [mail(texts.proposition[0]), mail(texts.professional[0])]
    with dovecot.client() as client:
        for raw in new:  # arrives while the watch is not running
            client.append("INBOX", raw)
    assert "2 scored" in run(capsys, *WATCH, dovecot.url)[1]

    with dovecot.client() as client:  # the keyword taken off by hand: the place file still knows
        client.select_folder("INBOX")
        client.remove_flags(client.search("ALL"), [SCORED])
    assert "0 scored" in run(capsys, *WATCH, dovecot.url)[1]

    last = mail(texts.proposition[1])
    with dovecot.client() as client:
        client.append("INBOX", last)
    assert "1 scored (0 pestering, 1 inappropriate_proposition)" in run(capsys, *WATCH, dovecot.url)[1]
    with dovecot.client() as client:
        flags = flags_by_id(client, "INBOX")
    assert all(SCORED.encode() not in flags[message_id(raw)] for raw in [*old, *new])  # taken off by the test
    assert SCORED.encode() in flags[message_id(last)]


def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def scored(dovecot: Dovecot, raw: bytes) -> bool:
    with dovecot.client() as client:
        return SCORED.encode() in flags_by_id(client, "INBOX").get(message_id(raw), set())


def new_version(settings: Settings) -> str:
    """A copy of the model in service under the next version's name (same verified file), not promoted."""
    models = settings.models_dir
    current = registry.current_version(models)
    assert current is not None
    version = registry.next_version(models)
    shutil.copytree(models / current, models / version)
    manifest = json.loads((models / version / "manifest.json").read_text())
    (models / version / "manifest.json").write_text(json.dumps({**manifest, "version": version}))
    return version


def test_the_watch_survives_a_server_restart_and_picks_up_a_promoted_model(
    dovecot: Dovecot, live_settings: Settings, texts: Texts
) -> None:
    lines: list[str] = []
    stop = threading.Event()
    account, password = Account.parse(dovecot.url), live_settings.imap_password
    assert password is not None
    result: list[Tally | BaseException] = []

    def loop() -> None:
        options = WatchOptions(insecure=True)
        try:
            result.append(watch(account, password, live_settings, options, report=lines.append, stop=stop))
        except BaseException as error:  # seen by the test below
            result.append(error)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        wait_for(lambda: any(line.startswith("first look at INBOX") for line in lines))
        first = mail(texts.professional[0])
        with dovecot.client() as client:
            client.append("INBOX", first)
        wait_for(lambda: scored(dovecot, first))  # woken by IDLE

        dovecot.restart()  # the watch's connection drops
        version = new_version(live_settings)
        registry.promote(live_settings.models_dir, version, reason="test")
        second = mail(texts.proposition[0])
        with dovecot.client() as client:
            client.append("INBOX", second)
        wait_for(lambda: scored(dovecot, second))
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    (tally,) = result
    assert not isinstance(tally, BaseException), tally
    assert tally.reconnects >= 1 and tally.scored == 2
    assert any("lost or refused" in line for line in lines)
    assert any(line.endswith(f"-> {version} (promoted)") for line in lines)
    assert any(f"1 inappropriate_proposition); model {version}" in line for line in lines)


def test_a_correction_is_read_back_into_the_feedback_store(
    dovecot: Dovecot, live_settings: Settings, texts: Texts, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = mail(texts.professional[0])
    with dovecot.client() as client:
        client.append("INBOX", raw)
    assert run(capsys, *WATCH, "--backfill", "1", dovecot.url)[0] == 0  # makes the Boundaryline folders

    with dovecot.client() as client:  # the owner disagrees: moves it into Boundaryline/Pestering
        folder = next(f for f, label in correction_folders(client).items() if label == "pestering")
        client.select_folder("INBOX")
        client.move(client.search("ALL"), folder)
    code, out, _ = run(capsys, *WATCH, dovecot.url)
    assert code == 0 and "1 correction(s) read" in out
    assert "0 correction(s) read" in run(capsys, *WATCH, dovecot.url)[1]  # read once

    (item,) = FeedbackStore(live_settings.feedback_path).items()
    assert item.label == "pestering" and item.channel == "email"
    assert item.message_id == message_id(raw).strip("<>")
    assert item.text.strip() == texts.professional[0]  # what scoring reads of it, no more
    with dovecot.client() as client:
        assert b"\\Seen" not in next(iter(flags_by_id(client, folder).values()))


def test_a_wrong_password_stops_the_watch_without_showing_it(
    dovecot: Dovecot, live_settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    wrong = tmp_path / "password"
    wrong.write_text("not-the-password-4711\n")
    wrong.chmod(0o600)
    code, out, err = run(capsys, *WATCH, "--password-file", str(wrong), dovecot.url)
    assert code == 2
    assert "refused" in err
    assert "not-the-password-4711" not in out + err and dovecot.password not in out + err


def test_plain_imap_is_refused_without_insecure(
    dovecot: Dovecot, live_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The test server offers no TLS: without --insecure the watch will not send the password in the clear."""
    code, _, err = run(capsys, "watch", "--once", dovecot.url)
    assert code == 2 and "offers no STARTTLS" in err
