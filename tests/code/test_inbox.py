"""Every inbox reader on small fixtures: good input, broken input (reported with where and why, the
stream going on), format detection, and the mail clean-up."""

import json
import tracemalloc
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from boundaryline.inbox import BadRecord, Message, detect_format, read_inbox
from boundaryline.inbox.cleanup import MailBody, html_to_text, own_text, strip_quoted_and_signature
from boundaryline.inbox.mail import read_maildir, read_mbox
from boundaryline.settings import Settings

EXAMPLES = Path(__file__).parents[2] / "data" / "examples"


def split(records: list[Message | BadRecord]) -> tuple[list[Message], list[BadRecord]]:
    return [r for r in records if isinstance(r, Message)], [r for r in records if isinstance(r, BadRecord)]


def mail_bytes(body: str | None = None, *, html: str | None = None, charset: str = "utf-8", cte: str | None = None,
               subject: str = "Hello", sender: str = "Ana <ana@example.com>") -> bytes:  # fmt: skip
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "Priya <priya@example.com>", subject
    message["Date"] = format_datetime(datetime(2026, 10, 1, 9, 30, tzinfo=UTC))
    message["Message-ID"] = f"<{abs(hash((body, html, subject)))}@example.com>"
    if body is not None:
        message.set_content(body, charset=charset, cte=cte)
        if html is not None:
            message.add_alternative(html, subtype="html")
    else:
        message.set_content(html or "", subtype="html", charset=charset, cte=cte)
    return message.as_bytes()


def write_mbox(path: Path, mails: list[bytes]) -> Path:
    with path.open("wb") as handle:
        for raw in mails:
            handle.write(
                b"From MAILER-DAEMON Thu Oct  1 09:30:00 2026\n" + raw.replace(b"\nFrom ", b"\n>From ") + b"\n"
            )
    return path


# ----- CSV, TSV, JSON Lines, JSON


def test_csv_with_auto_detected_columns(tmp_path: Path) -> None:
    path = tmp_path / "inbox.csv"
    path.write_text(
        'Message ID,From,To,Sent At,Subject,Body\nm1,a@example.com,me@example.com,2026-10-01T09:00:00+00:00,Hi,"Coffee\nnext week?"\nm2,b@example.com,me@example.com,,,Thanks!\n'
    )
    messages, bad = split(list(read_inbox(path)))
    assert bad == []
    assert [(m.id, m.sender, m.text) for m in messages] == [
        ("m1", "a@example.com", "Coffee\nnext week?"),
        ("m2", "b@example.com", "Thanks!"),
    ]
    assert messages[0].date == datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    assert messages[1].date is None
    assert messages[1].source.endswith("inbox.csv: line 4")  # the first row spans lines 2-3


def test_csv_bad_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    # A UTF-8 file (row 1 holds a UTF-8 "ü") with one stray Latin-1 byte in row 4. A file with no UTF-8 at all
    # is taken as a legacy code page instead (test_exports.py).
    path.write_bytes(b"id,text\n1,fine \xc3\xbc\n2,too,many,fields\n3,   \n4,caf\xe9 latin-1\n5,also fine\n")
    messages, bad = split(list(read_inbox(path)))
    assert [m.id for m in messages] == ["1", "5"]
    assert [(b.location, b.field) for b in bad] == [("line 3", None), ("line 4", "text"), ("line 5", "text")]
    assert "expected 2 fields, found 4" in bad[0].reason
    assert "empty" in bad[1].reason
    assert "not valid UTF-8" in bad[2].reason
    assert str(bad[0]) == f"{path}: line 3: expected 2 fields, found 4"


def test_csv_text_column_given_or_missing(tmp_path: Path) -> None:
    path = tmp_path / "notes.tsv"
    path.write_text("who\tnote\nana\thello there\n")
    with pytest.raises(ValueError, match="none of the 2 header fields is a text column") as error:
        list(read_inbox(path))
    assert "who" not in str(error.value)  # the header is never echoed: it may be somebody's first message
    [message] = list(read_inbox(path, text_column="note"))
    assert isinstance(message, Message) and message.text == "hello there"
    with pytest.raises(ValueError, match="no column named by --text-column among the 2 header fields"):
        list(read_inbox(path, text_column="body"))


def test_jsonl_with_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    lines = [json.dumps({"id": "a", "text": "Hello", "sender": "x@example.com"}), "{not json", json.dumps([1, 2]),
             "", json.dumps({"id": "b", "text": ""}), json.dumps({"id": "c", "text": 5}), json.dumps({"id": "d", "text": "Bye"})]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    messages, bad = split(list(read_inbox(path)))
    assert [m.id for m in messages] == ["a", "d"]
    assert [b.location for b in bad] == ["line 2", "line 3", "line 5", "line 6"]
    assert "not valid JSON" in bad[0].reason and "expected a JSON object" in bad[1].reason


def test_json_array_streams_objects(tmp_path: Path) -> None:
    path = tmp_path / "inbox.json"
    items = [{"message": f"message number {i} " + "x" * 50, "from": f"s{i}@example.com"} for i in range(300)]
    path.write_text(json.dumps([*items[:150], "oops", *items[150:]]))
    messages, bad = split(list(read_inbox(path)))
    assert len(messages) == 300 and messages[-1].sender == "s299@example.com"
    assert [(b.location, "expected a JSON object" in b.reason) for b in bad] == [("record 151", True)]


def test_json_array_reads_in_small_chunks(tmp_path: Path) -> None:
    from boundaryline.inbox.tabular import read_json_array

    path = tmp_path / "inbox.json"
    path.write_text(json.dumps([{"text": f"hello {i} " * 20} for i in range(50)]))
    assert len(list(read_json_array(path, buf_size=64))) == 50


def test_linkedin_export(tmp_path: Path) -> None:
    path = tmp_path / "messages.csv"
    path.write_text(
        "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER\n"
        'c1,,Ana Lima,https://x,Priya Raman,https://y,2026-10-06 08:12:44 UTC,,"<p>Hi <b>Priya</b>, congrats!</p>",INBOX\n'
    )
    assert detect_format(path) == "linkedin"
    assert detect_format(tmp_path) == "linkedin"
    [message] = list(read_inbox(tmp_path))
    assert isinstance(message, Message)
    assert (message.text, message.sender, message.recipients, message.thread) == (
        "Hi Priya, congrats!",
        "Ana Lima",
        "Priya Raman",
        "c1",
    )
    assert message.date == datetime(2026, 10, 6, 8, 12, 44, tzinfo=UTC)


# ----- mail


def test_mbox_multipart_charsets_html_only_and_quotes(tmp_path: Path) -> None:
    mails = [
        mail_bytes("Hi Priya,\n\nCoffee next week?\n\nAna\n-- \nAna Lima | Analyst", html="<p>Hi Priya, coffee?</p>"),
        mail_bytes(
            "Merci beaucoup, très utile.\n\nOn Tue, 1 Oct 2026 at 09:00, Priya wrote:\n> Voici le fichier.",
            charset="iso-8859-1",
            cte="quoted-printable",
        ),
        mail_bytes(
            html="<html><body><p>Only <b>HTML</b> here.</p><blockquote>old quoted text</blockquote></body></html>"
        ),
        mail_bytes("Base64 body with ünïcödé", cte="base64"),
        mail_bytes("From the start of a line inside the body."),
    ]
    box = write_mbox(tmp_path / "inbox.mbox", mails)
    assert detect_format(box) == "mbox"
    messages, bad = split(list(read_inbox(box)))
    assert bad == []
    assert [m.text for m in messages] == [
        "Hi Priya,\n\nCoffee next week?\n\nAna",
        "Merci beaucoup, très utile.",
        "Only HTML here.",
        "Base64 body with ünïcödé",
        "From the start of a line inside the body.",
    ]
    assert messages[0].sender == "Ana <ana@example.com>" and messages[0].subject == "Hello"
    assert messages[0].date == datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
    assert [m.source.rsplit(": ", 1)[1] for m in messages] == [f"record {i}" for i in range(1, 6)]


def test_mbox_bad_records_do_not_stop_the_stream(tmp_path: Path) -> None:
    bogus = mail_bytes("placeholder").replace(b'charset="utf-8"', b'charset="x-no-such-charset"')
    big = mail_bytes("x" * 3000)
    quoted_only = mail_bytes("> only a quote\n> of someone else")
    empty = mail_bytes("  \n")
    box = write_mbox(tmp_path / "mixed.mbox", [mail_bytes("first"), bogus, big, quoted_only, empty, mail_bytes("last")])
    records = list(read_mbox(box, max_bytes=2000))
    messages, bad = split(records)
    # an unknown charset falls back to UTF-8; an over-size message is read from its start and marked truncated;
    # a message that only quotes is scored on the quote and marked quoted_only
    assert [m.text[:5] for m in messages] == ["first", "place", "xxxxx", "only ", "last"]
    assert [(m.truncated, m.quoted_only) for m in messages] == [(False, False)] * 2 + [
        (True, False),
        (False, True),
        (False, False),
    ]
    assert messages[3].text == "only a quote\nof someone else"
    assert [(b.location, b.reason.split(" (")[0]) for b in bad] == [("record 5", "empty body")]


def test_mbox_with_mixed_charsets_and_undecodable_bytes(tmp_path: Path) -> None:
    latin = mail_bytes("Grüße aus Köln", charset="iso-8859-1", cte="8bit")
    lying = mail_bytes("placeholder").replace(b"placeholder", "caf\u00e9 ok".encode("latin-1"))
    box = write_mbox(tmp_path / "charsets.mbox", [latin, lying])
    messages, bad = split(list(read_inbox(box)))
    assert bad == []
    assert [m.text for m in messages] == ["Grüße aus Köln", "café ok"]


def test_mbox_streams_without_holding_the_file(tmp_path: Path) -> None:
    box = write_mbox(tmp_path / "big.mbox", [mail_bytes(f"message {i} " + "lorem ipsum " * 1000) for i in range(300)])
    assert box.stat().st_size > 3_000_000
    tracemalloc.start()
    count = sum(1 for _ in read_mbox(box))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 300
    assert peak < 1_000_000, f"peak {peak:,} bytes: the reader held more than a few messages"


def test_eml_folder_and_maildir(tmp_path: Path) -> None:
    folder = tmp_path / "eml" / "nested"
    folder.mkdir(parents=True)
    (folder / "a.eml").write_bytes(mail_bytes("One"))
    (folder / "b.eml").write_bytes(mail_bytes("   \n"))
    assert detect_format(tmp_path / "eml") == "eml"
    messages, bad = split(list(read_inbox(tmp_path / "eml")))
    assert [m.text for m in messages] == ["One"]
    assert [(b.location, b.field) for b in bad] == [("nested/b.eml", "body")]

    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "cur" / "1.host:2,S").write_bytes(mail_bytes("Seen"))
    (maildir / "new" / "2.host").write_bytes(mail_bytes("Unseen"))
    assert detect_format(maildir) == "maildir"
    assert sorted(m.text for m in split(list(read_inbox(maildir)))[0]) == ["Seen", "Unseen"]


def test_a_message_over_the_character_limit_is_truncated_and_scored(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("text\nshort\n" + "y" * 120 + "\n")
    messages, bad = split(list(read_inbox(path, max_chars=100)))
    assert bad == []
    assert [(m.text, m.truncated) for m in messages] == [("short", False), ("y" * 100, True)]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.mbox", b"", "mbox"),
        ("export", b"From x Thu Oct  1 09:30:00 2026\n", "mbox"),
        ("a.jsonl", b"{}", "jsonl"),
        ("a.json", b"  [ {}]", "json"),
        ("a.json", b"{}\n{}", "jsonl"),
        ("a.tsv", b"a\tb", "tsv"),
        ("a.csv", b"id,text", "csv"),
        ("messages.csv", b"CONVERSATION ID,FROM,TO,DATE,SUBJECT,CONTENT\n", "linkedin"),
        ("a.eml", b"From: x", "eml"),
    ],
)
def test_detect_format(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert detect_format(path) == expected


def test_detect_format_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "notes.docx").write_bytes(b"PK")
    with pytest.raises(ValueError, match=r"notes\.docx: cannot tell the format"):
        detect_format(tmp_path / "notes.docx")
    with pytest.raises(FileNotFoundError, match="no such file"):
        detect_format(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        read_inbox(tmp_path / "notes.docx", fmt="pdf")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Thanks!\n\nOn Mon, 5 Oct 2026 at 09:00, Ana <ana@example.com> wrote:\n> hi", "Thanks!"),
        ("Sure.\n\nOn Mon, 5 Oct 2026 at 09:00\nAna <ana@example.com> wrote:\n> hi", "Sure."),
        ("See below.\n\n-----Original Message-----\nFrom: Ana\nSent: Monday\nTo: Priya\n\nold", "See below."),
        ("FYI\n\n---------- Forwarded message ---------\nFrom: Ana", "FYI"),
        ("Reply here\n\nFrom: Ana Lima\nSent: Monday, 5 October 2026\nTo: Priya\nSubject: Hi\n\nold", "Reply here"),
        ("From: the start we agreed on the plan.", "From: the start we agreed on the plan."),
        ("Hi,\nsee you there\n-- \nAna Lima\nAnalyst", "Hi,\nsee you there"),
        ("ok!\n\nSent from my iPhone", "ok!"),
        ("> only\n> quoted", ""),
        ("line one\r\n> quoted\r\nline two", "line one\nline two"),
    ],
)
def test_strip_quoted_and_signature(body: str, expected: str) -> None:
    assert strip_quoted_and_signature(body) == expected


def test_html_to_text_drops_scripts_and_quotes() -> None:
    html = "<html><head><style>p{}</style></head><body><p>Hi<br>there</p><script>x()</script><div class='gmail_quote'>old</div></body></html>"
    assert html_to_text(html) == "Hi\nthere"


@pytest.mark.parametrize("name", ["inbox.mbox", "eml", "linkedin", "inbox.csv", "inbox.jsonl"])
def test_the_sample_inbox_reads(name: str) -> None:
    messages, bad = split(list(read_inbox(EXAMPLES / name)))
    assert len(messages) >= 5
    assert all(m.text.strip() for m in messages)
    assert len(bad) <= 1  # the CSV and LinkedIn samples each hold one empty message on purpose


def test_a_message_that_only_quotes_is_scored_on_the_quote() -> None:
    body = own_text("On Mon, Ana wrote:\n> Are you free on Friday?\n> Ana")
    assert body == MailBody("Are you free on Friday?\nAna", quoted_only=True)
    assert own_text("Yes!\n\nOn Mon, Ana wrote:\n> Are you free?") == MailBody("Yes!")


REAL_MAILDIR = Settings().real_mail_source / "maildir"


@pytest.mark.skipif(not REAL_MAILDIR.is_dir(), reason="no ../shared/real-mail/maildir on this machine")
def test_the_real_maildir_is_read_with_every_skip_explained() -> None:
    records = list(read_maildir(REAL_MAILDIR))
    messages, bad = split(records)
    assert len(records) == 300
    assert len(messages) / len(records) >= 0.98, [str(b) for b in bad]
    assert all(b.reason.startswith(("empty body", "cannot decode")) for b in bad), [str(b) for b in bad]
    assert sum(m.quoted_only for m in messages) <= 3


def test_parsed_mail_reads_every_header_as_email_message_does() -> None:
    """``ParsedMail`` parses each header once; the values are those of ``EmailMessage`` (policy.default)."""
    import email
    from email import policy

    from boundaryline.inbox.mail import ParsedMail

    mail = EmailMessage()
    mail["From"] = '"Lima, Ana" <ana@example.com>'
    mail["To"] = "Priya <priya@example.com>, ben@example.org"
    mail["Subject"] = "Café? ünïcode, =?broken"
    mail["Date"] = format_datetime(datetime(2026, 3, 2, 9, tzinfo=UTC))
    mail.set_content("Coffee next week?")
    mail.add_alternative("<p>Coffee <b>next</b> week?</p>", subtype="html")
    mail.add_attachment(b"\x00" * 500, maintype="application", subtype="pdf", filename="cv.pdf")
    raw = mail.as_bytes()
    fast = email.message_from_bytes(raw, _class=ParsedMail, policy=policy.default)
    plain = email.message_from_bytes(raw, policy=policy.default)
    fast_parts, plain_parts = list(fast.walk()), list(plain.walk())
    assert all(isinstance(part, ParsedMail) for part in fast_parts) and len(fast_parts) == len(plain_parts) == 5
    for mine, theirs in zip(fast_parts, plain_parts, strict=True):
        for name in [*theirs.keys(), "X-Absent"]:
            for _ in range(2):  # the second look-up comes from the cache
                assert str(mine.get(name)) == str(theirs.get(name))
                assert type(mine.get(name)).__name__ == type(theirs.get(name)).__name__
        assert mine.get_content_type() == theirs.get_content_type() and mine.is_attachment() == theirs.is_attachment()
    assert fast.get_body(("plain", "html")).get_content() == plain.get_body(("plain", "html")).get_content()
