"""``boundaryline filter`` on raw mail: three headers added at the top, once however often it runs, the rest
byte for byte as it came, and the exit codes a delivery agent reads."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from boundaryline import cli
from boundaryline.live.filter import FilterExit, filter_message
from boundaryline.predict import Scorer
from boundaryline.settings import Settings
from tests.live.conftest import Texts, mail, peer_mail

OURS = b"x-boundaryline-"


def split(raw: bytes) -> tuple[list[bytes], bytes]:
    """The header lines and everything from the blank line on, found independently of the filter's own code."""
    end = re.search(rb"\r?\n\r?\n", raw)
    cut = end.start() + (2 if raw[end.start()] == 13 else 1) if end else len(raw)
    return raw[:cut].splitlines(keepends=True), raw[cut:]


def check(raw: bytes, out: bytes) -> None:
    """``out`` is ``raw`` with one set of our headers at the top, earlier ones gone, nothing else changed."""
    head_in, body_in = split(raw)
    head_out, body_out = split(out)
    assert body_out == body_in
    start = 1 if raw.startswith(b"From ") else 0
    assert head_out[:start] == head_in[:start]  # an mbox envelope line stays first
    assert [line[: line.index(b":")].lower() for line in head_out[start : start + 3]] == [
        b"x-boundaryline-label",
        b"x-boundaryline-scores",
        b"x-boundaryline-model",
    ]
    assert sum(line.lower().startswith(OURS) for line in head_out) == 3
    expected, ours = [], False
    for line in head_in[start:]:  # the input's header lines less our fields, their folded lines included
        ours = ours if line[:1] in (b" ", b"\t") else line.lower().startswith(OURS)
        if not ours:
            expected.append(line)
    assert head_out[start + 3 :] == expected


def messages(texts: Texts) -> dict[str, bytes]:
    crlf = mail(texts.proposition[0])
    return {
        "crlf": crlf,
        "lf": crlf.replace(b"\r\n", b"\n"),
        "mbox envelope": b"From person@example.com Sat Dec  6 10:00:00 2026\n" + crlf.replace(b"\r\n", b"\n"),
        "no trailing newline": crlf.rstrip(b"\r\n"),
    }


@pytest.mark.parametrize("name", ["crlf", "lf", "mbox envelope", "no trailing newline"])
def test_the_headers_are_added_once_and_the_rest_is_untouched(
    name: str, texts: Texts, tiny_scorer: Scorer, tiny_trained: Settings
) -> None:
    raw = messages(texts)[name]
    once = filter_message(raw, tiny_scorer, tiny_trained)
    assert once.exit is FilterExit.FLAGGED and once.label == "inappropriate_proposition"
    check(raw, once.output)
    twice = filter_message(once.output, tiny_scorer, tiny_trained)
    assert twice.output == once.output  # a second pass replaces the set: still one
    newline = b"\r\n" if name in ("crlf", "no trailing newline") else b"\n"  # the message's own
    assert once.output.split(b"X-Boundaryline-Label: inappropriate_proposition", 1)[1].startswith(newline)


def test_a_forged_set_is_replaced_wherever_it_stands(texts: Texts, tiny_scorer: Scorer, tiny_trained: Settings) -> None:
    raw = mail(texts.proposition[0])
    forged = raw.replace(
        b"Subject:",
        b"X-Boundaryline-Label: professional\r\nX-BOUNDARYLINE-Scores: professional=1\r\n\tfolded=1\r\nSubject:",
    )
    out = filter_message(forged, tiny_scorer, tiny_trained).output
    check(forged, out)
    assert b"professional=1" not in out and b"folded" not in out
    assert filter_message(raw, tiny_scorer, tiny_trained).output == out


PEERS = peer_mail()


@pytest.mark.skipif(not PEERS, reason="../shared/peer-fixtures/django-mailbox is not beside the checkout")
@pytest.mark.parametrize("path", PEERS, ids=lambda p: p.name)
def test_odd_real_world_mail_goes_through_byte_for_byte(
    path: Path, tiny_scorer: Scorer, tiny_trained: Settings
) -> None:
    raw = path.read_bytes()
    once = filter_message(raw, tiny_scorer, tiny_trained)
    if once.exit is FilterExit.NOT_SCORED:
        assert once.output == raw
        return
    check(raw, once.output)
    assert filter_message(once.output, tiny_scorer, tiny_trained).output == once.output


class Stream:
    def __init__(self, data: bytes = b"") -> None:
        self.buffer = io.BytesIO(data)


def run_filter(monkeypatch: pytest.MonkeyPatch, settings: Settings, raw: bytes, *argv: str) -> tuple[int, bytes]:
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(sys, "stdin", Stream(raw))
    out = Stream()
    monkeypatch.setattr(sys, "stdout", out)
    code = cli.main(["filter", *argv])
    return int(code), out.buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "argv", "code"),
    [
        ("professional", (), 0),
        ("proposition", (), 1),
        ("proposition", ("--exit-zero",), 0),
        ("empty body", (), 2),
        ("empty body", ("--exit-zero",), 0),
        ("no model", (), 2),
    ],
)
def test_the_exit_codes(
    kind: str,
    argv: tuple[str, ...],
    code: int,
    texts: Texts,
    tiny_trained: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw = mail(texts.professional[0] if kind == "professional" else texts.proposition[0])
    settings = tiny_trained
    if kind == "empty body":
        raw = split(raw)[0][0] + b"\r\n"
    if kind == "no model":
        settings = Settings(root=tiny_trained.root, models_root=tmp_path / "none")
    got, out = run_filter(monkeypatch, settings, raw, *argv)
    assert got == code
    if kind in ("empty body", "no model"):
        assert out == raw  # passed on unchanged
        assert "not scored, passed on unchanged" in capsys.readouterr().err
    else:
        check(raw, out)


def test_the_installed_command_filters_standard_input(texts: Texts, tiny_trained: Settings) -> None:
    """The real process a delivery agent starts: bytes in, bytes out, the exit code."""
    raw = mail(texts.proposition[0])
    command = [sys.executable, "-m", "boundaryline.cli", "filter"]
    env = {"BOUNDARYLINE_ROOT": str(tiny_trained.root), "PATH": "/usr/bin:/bin", "HOME": str(tiny_trained.root)}
    done = subprocess.run(command, input=raw, capture_output=True, env=env, timeout=60, check=False)
    assert done.returncode == 1, done.stderr.decode()
    check(raw, done.stdout)
    bad_settings = env | {"BOUNDARYLINE_THRESHOLDS": "not json"}  # the message must not be lost to a bad value
    done = subprocess.run(command, input=raw, capture_output=True, env=bad_settings, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (2, raw)
    assert "BOUNDARYLINE_THRESHOLDS" in done.stderr.decode() and "passed on unchanged" in done.stderr.decode()
