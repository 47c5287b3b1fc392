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
from tests.records import write_mbox

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


def _mail_shapes() -> list[bytes]:
    """Messages of every shape the body search meets, with headers that need decoding."""
    shapes = []
    plain = EmailMessage()
    plain["From"] = '"Lima, Ana" <ana@example.com>'
    plain["To"] = "=?utf-8?q?Priya_R=C3=A2man?= <priya@example.com>, ben@example.org (Ben)"
    plain["Subject"] = "=?utf-8?b?Q2Fmw6k/?=  next   week"
    plain["Date"] = format_datetime(datetime(2026, 3, 2, 9, tzinfo=UTC))
    plain["Message-ID"] = "<abc@example.com>"
    plain.set_content("Coffee next week? Ça va?", charset="utf-8")
    shapes.append(plain.as_bytes())
    alternative = EmailMessage()
    alternative["From"] = "ana@example.com"
    alternative.set_content("Coffee next week?")
    alternative.add_alternative("<p>Coffee <b>next</b> week?</p>", subtype="html")
    alternative.add_attachment(b"%PDF-1.4" + bytes(range(256)) * 40, maintype="application", subtype="pdf",
                               filename="cv.pdf")  # fmt: skip
    alternative.add_attachment("not the body", filename="notes.txt")  # a text/plain attachment
    shapes.append(alternative.as_bytes())
    html_only = EmailMessage()
    html_only.set_content("<p>Only <i>HTML</i> here</p>", subtype="html")
    html_only.make_related()
    html_only.add_related(b"\x89PNG" + bytes(100), maintype="image", subtype="png", cid="<img1>")
    shapes.append(html_only.as_bytes())
    shapes.append(
        b"From: x@example.com\nSubject: caf\xe9 8-bit\nContent-Type: text/plain; charset=latin-1\n\ncaf\xe9 ok\n"
    )
    shapes.append(b"From: x@example.com\nContent-Type: text/plain; charset=unknown-8bit\n\ncaf\xc3\xa9\n")
    return shapes


def _reference_decode(part: EmailMessage) -> str:
    """The reader's decoding as it was with ``policy.default`` (``get_content``, then the fallbacks)."""
    try:
        content = str(part.get_content())
        if "\ufffd" not in content:
            return content
    except (LookupError, UnicodeDecodeError, AssertionError):
        pass
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    for charset in (part.get_content_charset(), "utf-8", "cp1252"):
        try:
            return payload.decode(charset or "utf-8")
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


@pytest.mark.parametrize("raw", _mail_shapes())
def test_compat32_reading_matches_policy_default(raw: bytes) -> None:
    """Headers decoded and the body chosen and decoded as ``EmailMessage`` (``policy.default``) does."""
    import email
    from email import policy

    from boundaryline.inbox.mail import MailHeaders, _decode_part, get_body
    from boundaryline.inbox.rawmail import message_from_bytes

    fast = message_from_bytes(raw)  # the reader's own parse (compat32's tree, built faster)
    reference = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(reference, EmailMessage)
    for name in [*reference.keys(), "X-Absent"]:
        value = reference.get(name)
        assert MailHeaders(fast).get(name) == (" ".join(str(value).split()) if value else None)
    part, expected = get_body(fast), reference.get_body(preferencelist=("plain", "html"))
    assert (part is None) == (expected is None)
    if part is not None and expected is not None:
        assert _decode_part(part) == _reference_decode(expected)
        assert part.get_content_type() == expected.get_content_type()


def test_compat32_reading_matches_policy_default_on_real_mail(project_settings: Settings) -> None:
    """Every message of the real-mail maildir, when it is linked in (``make train`` links it)."""
    maildir = project_settings.real_mail_dir / "maildir"
    if not maildir.is_dir():
        pytest.skip(f"no real mail at {maildir}")
    files = sorted(p for p in maildir.rglob("*") if p.is_file())
    for file in files:
        test_compat32_reading_matches_policy_default(file.read_bytes())


def test_every_format_is_one_registry_entry() -> None:
    """Issue 22: a format's identity is in one place (``inbox/formats.py``): its name, how it is recognised,
    read and partitioned, and its channel; the CLI's choices and the channels come from it."""
    from boundaryline.cli import build_parser
    from boundaryline.inbox.formats import CHANNEL_OF_FORMAT, FORMAT, FORMATS, REGISTRY

    assert sorted(FORMATS) == sorted(FORMAT) and len(REGISTRY) == len(FORMAT)
    assert all(entry.file or entry.folder for entry in REGISTRY), "every format can be recognised"
    assert {e.name: e.channel for e in REGISTRY if e.channel} == CHANNEL_OF_FORMAT
    score = next(
        a for a in build_parser()._subparsers._group_actions[0].choices["score"]._actions if a.dest == "format"
    )  # type: ignore[union-attr]
    assert tuple(score.choices) == FORMATS
