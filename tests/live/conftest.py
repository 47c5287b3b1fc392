"""The live tests' fixtures: a real Dovecot (skipped, loudly, where it cannot run), settings for the tiny
project with the IMAP password in the environment, mail to deliver, and the CLI run in-process."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pandas as pd
import pytest

from boundaryline import cli
from boundaryline.predict import Scorer
from boundaryline.settings import Settings
from tests.conftest import FIXTURES
from tests.live.dovecot import USER, CannotRun, Dovecot


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    try:
        server = Dovecot.make()
    except CannotRun as error:
        reason = f"live IMAP tests skipped: {error}"
        warnings.warn(reason, stacklevel=1)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def live_settings(tiny_project: Settings, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The tiny project's settings, the password read from BOUNDARYLINE_IMAP_PASSWORD as in real use, quick
    reconnection and polling for the tests; ``boundaryline.cli`` uses them."""
    monkeypatch.setenv("BOUNDARYLINE_IMAP_PASSWORD", dovecot.password)
    settings = Settings(
        root=tiny_project.root,
        feedback_db=tiny_project.root / "feedback.sqlite3",
        threshold_target_flag_rate=None,
        watch_poll_seconds=2.0,
        watch_backoff_seconds=0.1,
        watch_backoff_max_seconds=0.5,
    )
    assert settings.imap_password is not None
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    return settings


@dataclass(frozen=True)
class Texts:
    """Fixture-corpus texts the tiny model labels professional and proposition (chosen by asking it)."""

    professional: list[str]
    proposition: list[str]


@pytest.fixture(scope="session")
def texts(tiny_scorer: Scorer) -> Texts:
    corpus = pd.read_csv(FIXTURES / "tiny_corpus.csv", dtype=str, keep_default_na=False)
    scores = tiny_scorer.score(corpus["text"].tolist())
    by = {
        label: [t for t, s in zip(corpus["text"], scores, strict=True) if s.label == label]
        for label in ("professional", "inappropriate_proposition")
    }
    assert by["professional"] and by["inappropriate_proposition"], "the tiny model should give both labels"
    return Texts(by["professional"], by["inappropriate_proposition"])


_sent = 0


def mail(text: str, *, sender: str | None = None, to: str = USER, subject: str = "Hello") -> bytes:
    """One RFC 822 message (CRLF line endings, as IMAP carries them), each from its own sender by default."""
    global _sent
    _sent += 1
    message = EmailMessage()
    message["From"] = sender or f"Person {_sent} <person{_sent}@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring=str(_sent), domain="example.com")
    message.set_content(text)
    return message.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``boundaryline …`` in this process: its exit code, standard output and standard error."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return int(code), out, err


def peer_mail() -> list[Path]:
    """django-mailbox's odd real-world mail, when ../shared is beside the checkout."""
    folder = Path(__file__).parents[2].parent / "shared" / "peer-fixtures" / "django-mailbox"
    return sorted(folder.rglob("*.eml")) if folder.is_dir() else []
