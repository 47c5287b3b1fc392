"""Outlook .msg files (issue 22): read with their headers, dates and body; a bad one is one skipped record."""

from datetime import UTC, datetime
from pathlib import Path

from boundaryline.inbox import BadRecord, Message, detect_format, read_inbox
from boundaryline.inbox.outlook import (
    BODY,
    CLIENT_SUBMIT_TIME,
    DISPLAY_TO,
    HTML,
    INTERNET_CPID,
    RTF,
    SENDER_NAME,
    SENDER_SMTP,
    SUBJECT,
    TRANSPORT_HEADERS,
)
from boundaryline.predict import Scorer
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.settings import Settings
from tests.msg_files import binary_stream, properties_stream, string8_stream, unicode_stream, write_msg

RECEIVED_HEADERS = (
    "Received: from mx.example.com by mail.example.org; Mon, 2 Mar 2026 10:00:00 +0000\r\n"
    "From: Sam Ruiz <sam@example.com>\r\n"
    "To: Ana Lima <ana@example.org>\r\n"
    "Subject: Re: coffee\r\n"
    "Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
    "Message-ID: <m2@example.com>\r\n"
    "In-Reply-To: <m1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/alternative; boundary="b1"\r\n'
    "\r\n"
)


def received(path: Path) -> Path:
    return write_msg(
        path,
        unicode_stream(TRANSPORT_HEADERS, RECEIVED_HEADERS),
        unicode_stream(SUBJECT, "Re: coffee"),
        unicode_stream(BODY, "Thursday works, see you at 10.\r\n\r\nOn Sun, Ana wrote:\r\n> Coffee next week?\r\n"),
    )


def test_a_received_message_keeps_its_internet_headers_and_own_text(tmp_path: Path) -> None:
    [message] = read_inbox(received(tmp_path / "reply.msg"))
    assert isinstance(message, Message)
    assert message.text == "Thursday works, see you at 10."
    assert (message.sender, message.recipients) == ("Sam Ruiz <sam@example.com>", "Ana Lima <ana@example.org>")
    assert message.date == datetime(2026, 3, 2, 10, tzinfo=UTC) and message.id == "m2@example.com"
    assert message.thread == "m1@example.org" and message.subject == "Re: coffee"


def test_a_draft_is_read_from_its_properties(tmp_path: Path) -> None:
    path = write_msg(
        tmp_path / "draft.msg",
        unicode_stream(SUBJECT, "Café à deux ? ☕"),
        unicode_stream(BODY, "Hi Ana, dinner just the two of us on Friday?"),
        unicode_stream(SENDER_NAME, "Sam Ruiz"),
        unicode_stream(SENDER_SMTP, "sam@example.com"),
        unicode_stream(DISPLAY_TO, "Ana Lima"),
        properties_stream(times={CLIENT_SUBMIT_TIME: datetime(2026, 3, 1, 9, 30, tzinfo=UTC)}),
    )
    [message] = read_inbox(path)
    assert isinstance(message, Message)
    assert message.subject == "Café à deux ? ☕" and message.sender == "Sam Ruiz <sam@example.com>"
    assert message.date == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert message.text == "Hi Ana, dinner just the two of us on Friday?"


def test_an_html_body_and_an_8_bit_body_in_their_code_pages(tmp_path: Path) -> None:
    html = write_msg(
        tmp_path / "html.msg",
        unicode_stream(SENDER_SMTP, "recruiter@example.com"),
        binary_stream(HTML, "<html><body><p>Caf\u00e9 on Monday?</p><p>R\u00e9gis</p></body></html>".encode("cp1252")),
        properties_stream(longs={INTERNET_CPID: 1252}),
    )
    cyrillic = write_msg(
        tmp_path / "cyrillic.msg",
        unicode_stream(SENDER_SMTP, "ivan@example.com"),
        string8_stream(BODY, "Добрый день! Встретимся в пятницу?", "cp1251"),
        properties_stream(longs={INTERNET_CPID: 1251}),
    )
    [from_html], [eight_bit] = read_inbox(html), read_inbox(cyrillic)
    assert isinstance(from_html, Message) and "Café on Monday?" in from_html.text
    assert isinstance(eight_bit, Message) and eight_bit.text == "Добрый день! Встретимся в пятницу?"


def test_bad_msg_files_are_skipped_one_by_one_and_never_quoted(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    received(folder / "a.msg")
    (folder / "b.msg").write_text("Dinner tonight? SECRET text, not a compound file")
    write_msg(folder / "c.msg", unicode_stream(SENDER_SMTP, "x@example.com"), binary_stream(RTF, b"\x00" * 40))
    whole = received(tmp_path / "whole.msg").read_bytes()
    (folder / "d.msg").write_bytes(whole[:1100])  # cut inside its directory
    write_msg(folder / "e.msg", unicode_stream(BODY, "Coffee next week?"))
    assert detect_format(folder) == "msg"
    records = list(read_inbox(folder))
    assert [type(r).__name__ for r in records] == ["Message", "BadRecord", "BadRecord", "BadRecord", "Message"]
    reasons = {r.location: r.reason for r in records if isinstance(r, BadRecord)}
    assert reasons["b.msg"] == "not an Outlook message (no compound-file signature)"
    assert reasons["c.msg"] == "only a compressed RTF body, which is not read"
    assert reasons["d.msg"].startswith("cannot read the Outlook message (")
    assert not any("SECRET" in reason or "Dinner" in reason for reason in reasons.values())


def test_a_folder_of_msg_files_is_scored(tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    folder.mkdir()
    received(folder / "a.msg")
    write_msg(folder / "b.msg", unicode_stream(BODY, "Dinner, just us? You look great"))
    summary = score_inbox(folder, settings=tiny_trained, options=ScoreOptions(), scorer=tiny_scorer,
                          out=tmp_path / "r.csv")  # fmt: skip
    assert (summary.scored, summary.skipped) == (2, 0)
