"""Mail the readers once got wrong: a header that crashed the run, an empty text/plain beside the HTML, one
bad byte that turned a body into mojibake, RFC 2231 charsets, forwards (attached whole, or marked in other
languages) and Apple Mail's .partial.emlx. Small messages are built here with the email package; the rest
come from other projects' test inputs in ../shared/peer-fixtures (skipped, with one reason, when absent)."""

from email.message import EmailMessage
from email.policy import compat32
from pathlib import Path
from types import SimpleNamespace

import pytest

from boundaryline.inbox import detect_format, read_inbox
from boundaryline.inbox import mail as mail_module
from boundaryline.inbox.cleanup import own_text
from boundaryline.inbox.mail import parse_mail, read_eml, read_maildir, read_mbox
from boundaryline.inbox.records import BadRecord, Message
from tests.records import write_mbox

PEER_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "peer-fixtures"
needs_peer_fixtures = pytest.mark.skipif(
    not PEER_FIXTURES.is_dir(), reason=f"{PEER_FIXTURES} is absent: the peer-fixture mail cases are NOT run"
)

EMPTY_GROUP = "unlisted-recipients:; (no To-header on input)"  # what sendmail writes for a Bcc-only message


def mail(body: str = "Coffee on Friday?", *, to: str = "Priya <priya@example.com>") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Ana <ana@example.com>", "placeholder", "Hello"
    message.set_content(body)
    # set as bytes: the email package's own header parser fails on the very headers tested here
    return message.as_bytes().replace(b"To: placeholder", f"To: {to}".encode())


def replace_body(raw: bytes, charset: str, body: bytes) -> bytes:
    """A one-part message whose body is exactly ``body`` (8-bit), declared as ``charset``."""
    headers = b"From: ana@example.com\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n"
    return headers + f"Content-Type: text/plain; charset={charset}\n\n".encode() + body + b"\n"


def texts(records: list[Message | BadRecord]) -> list[str]:
    return [r.text if isinstance(r, Message) else f"BAD {r.reason}" for r in records]


def read_one(raw: bytes) -> Message:
    record = parse_mail(raw, "test.eml", "record 1")
    assert isinstance(record, Message), record
    return record


# ----- 1. one message's failure is that message's BadRecord, never the run's


def test_an_empty_group_in_to_is_no_recipient_in_an_mbox(tmp_path: Path) -> None:
    box = write_mbox(tmp_path / "inbox.mbox", [mail("First."), mail("Second.", to=EMPTY_GROUP), mail("Third.")])
    records = list(read_mbox(box))
    assert texts(records) == ["First.", "Second.", "Third."]
    assert [r.recipients for r in records if isinstance(r, Message)] == [
        "Priya <priya@example.com>",
        None,
        "Priya <priya@example.com>",
    ]


def test_an_empty_group_in_to_is_no_recipient_in_a_maildir(tmp_path: Path) -> None:
    (tmp_path / "cur").mkdir()
    for name, raw in [("1.host", mail("First.")), ("2.host", mail("Second.", to=EMPTY_GROUP)), ("3.host", mail())]:
        (tmp_path / "cur" / name).write_bytes(raw)
    assert texts(list(read_maildir(tmp_path))) == ["First.", "Second.", "Coffee on Friday?"]


def test_a_group_with_members_keeps_them() -> None:
    assert read_one(mail(to="Team: a@example.com, b@example.com; (the team)")).recipients is not None


def test_any_failure_is_a_bad_record_that_names_the_field_but_not_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_own_text = mail_module.own_text

    def failing_own_text(text: str):  # type: ignore[no-untyped-def]
        if "Secret" in text:
            raise ValueError(f"cannot handle {text!r}")  # an error whose message quotes the body
        return real_own_text(text)

    monkeypatch.setattr(mail_module, "own_text", failing_own_text)
    box = write_mbox(tmp_path / "inbox.mbox", [mail("First."), mail("Secret plans."), mail("Third.")])
    records = list(read_mbox(box))
    assert texts(records)[0::2] == ["First.", "Third."]
    bad = records[1]
    assert isinstance(bad, BadRecord)
    assert (bad.source, bad.location, bad.field) == (str(box), "record 2", "body")
    assert "ValueError" in bad.reason and "Secret" not in str(bad)


def test_a_header_that_cannot_be_read_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_parse(name: str, value: str) -> str:
        raise RuntimeError(f"bad value {value!r}")

    broken_policy = SimpleNamespace(default=SimpleNamespace(header_fetch_parse=failing_parse), compat32=compat32)
    monkeypatch.setattr(mail_module, "policy", broken_policy)
    # an encoded word: plain values are read without the registry (inbox/headers.py), this one is not
    raw = mail("Secret plans.").replace(b"Subject: Hello", b"Subject: =?utf-8?q?Secret_plans?=")
    bad = parse_mail(raw, "inbox.mbox", "record 7")
    assert isinstance(bad, BadRecord)
    assert bad.field is not None and bad.field.startswith("header ")
    assert "RuntimeError" in bad.reason and "Secret" not in str(bad) and "priya" not in str(bad)


# ----- 2. an empty text/plain beside a real text/html


def test_an_empty_plain_part_falls_back_to_the_html() -> None:
    message = EmailMessage()
    message["From"] = "ana@example.com"
    message.set_content("\n")
    message.add_alternative("<p>Lunch <b>tomorrow</b>?</p>", subtype="html")
    assert read_one(message.as_bytes()).text == "Lunch tomorrow?"


# ----- 3. the declared charset kept around a bad byte; guessed only when it reads nothing


def test_one_bad_byte_keeps_the_utf8_text_around_it() -> None:
    body = "Grüße aus Köln, ".encode() + b"\xff" + " bis Montag — Ana".encode()
    assert read_one(replace_body(b"", "utf-8", body)).text == "Grüße aus Köln, \ufffd bis Montag — Ana"


def test_one_bad_byte_keeps_the_gb2312_text_around_it() -> None:
    body = "你好，明天见。".encode("gb2312") + b"\xff\xff" + "谢谢".encode("gb2312")
    text = read_one(replace_body(b"", "gb2312", body)).text
    assert text.startswith("你好，明天见。") and text.endswith("谢谢")


@pytest.mark.parametrize(
    ("declared", "body", "expected"),
    [
        ("utf-8", "café ok".encode("latin-1"), "café ok"),  # Latin-1 labelled UTF-8: nothing non-ASCII reads
        ("us-ascii", "Это сообщение на русском языке, не ASCII.".encode("cp1251"), None),  # a guess: Cyrillic
        ("iso-8859-1", "a non-breaking\u00a0space and ✿".encode(), "a non-breaking\u00a0space and ✿"),
        ("x-no-such-charset", "Grüße".encode(), "Grüße"),
    ],
)
def test_a_charset_that_reads_nothing_is_guessed(declared: str, body: bytes, expected: str | None) -> None:
    text = read_one(replace_body(b"", declared, body)).text
    assert text == (expected or body.decode("cp1251"))


# ----- 4. RFC 2231 parameters


def test_an_rfc2231_charset_is_read() -> None:
    raw = b"From: ana@example.com\nMIME-Version: 1.0\nContent-Type: text/plain; charset*=us-ascii''us-ascii\n\nHello.\n"
    assert read_one(raw).text == "Hello."


# ----- 5. a forward attached whole


def test_a_forward_attached_as_a_message_is_scored_on_the_forwarded_text() -> None:
    forwarded = EmailMessage()
    forwarded["From"], forwarded["Subject"] = "Bo <bo@example.com>", "Dinner"
    forwarded.set_content("Dinner at mine on Saturday?\n\n-- \nBo")
    wrapper = EmailMessage()
    wrapper["From"], wrapper["Subject"] = "Ana <ana@example.com>", "Fwd: Dinner"
    wrapper.make_mixed()
    wrapper.attach(_as_attachment(forwarded))
    message = read_one(wrapper.as_bytes())
    assert (message.text, message.quoted_only) == ("Dinner at mine on Saturday?", True)


def _as_attachment(message: EmailMessage) -> EmailMessage:
    part = EmailMessage()
    part.set_content(message)  # message/rfc822
    part["Content-Disposition"] = "attachment"
    return part


# ----- 6. a bare forward in other languages keeps the forwarded text

_FORWARD_MARKERS = [
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "Anfang der weitergeleiteten Nachricht:",
    "---------- Weitergeleitete Nachricht ----------",
    "-------- Message transféré --------",
    "---------- Mensaje reenviado ---------",
    "---------- Messaggio inoltrato ---------",
    "---------- Mensagem encaminhada ---------",
    "---------- Doorgestuurd bericht ---------",
]


@pytest.mark.parametrize("marker", _FORWARD_MARKERS)
def test_a_bare_forward_keeps_the_forwarded_text(marker: str) -> None:
    body = f"{marker}\nFrom: Bo <bo@example.com>\nDate: 1 Oct 2026\nSubject: Dinner\nTo: Ana\n\nDinner on Saturday?\n"
    assert own_text(body).text == "Dinner on Saturday?"
    assert own_text(body).quoted_only


@pytest.mark.parametrize("marker", _FORWARD_MARKERS[:3])
def test_a_forward_with_a_note_keeps_only_the_note(marker: str) -> None:
    assert own_text(f"FYI, see below.\n\n{marker}\nFrom: Bo\n\nDinner on Saturday?\n").text == "FYI, see below."


# ----- 7. Apple Mail .partial.emlx: the count is the whole message's, the file holds less


def test_a_partial_emlx_is_read_up_to_its_property_list(tmp_path: Path) -> None:
    raw = mail("Slides are in the attachment.")
    plist = b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict/></plist>\n'
    announced = len(raw) + 50_000  # the attachment Apple Mail keeps in another file
    (tmp_path / "7.partial.emlx").write_bytes(f"{announced}\n".encode() + raw + plist)
    (tmp_path / "8.emlx").write_bytes(f"{announced}\n".encode() + raw + plist)  # not partial: cut off
    assert texts(list(read_eml(tmp_path))) == [
        "Slides are in the attachment.",
        f"BAD truncated: the first line announces {announced:,} bytes, {len(raw) + len(plist):,} follow",
    ]


# ----- the peer fixtures these cases come from


def peer_text(relative: str) -> str:
    records = list(read_eml(PEER_FIXTURES / relative))
    assert len(records) == 1 and isinstance(records[0], Message), records
    return records[0].text


@needs_peer_fixtures
@pytest.mark.parametrize(
    ("relative", "start"),
    [
        ("cpython/data/msg_32.txt", "Some message."),  # charset*=ansi-x3.4-1968''us-ascii
        ("cpython/data/msg_33.txt", "part 1"),  # RFC 2231 in a multipart/signed
        ("cpython/data/msg_11.txt", "Here is the body of the message."),  # message/rfc822, nothing else
        ("cpython/data/msg_46.txt", "Testing email forwarding with Groupwise"),  # a forward attached whole
        ("django-mailbox/django_mailbox/tests/messages/message_with_invalid_content_for_declared_encoding.eml", "Это"),
        ("django-mailbox/django_mailbox/tests/messages/email_issue_82.eml", "Atención al"),  # bad bytes inside
        ("partial-emlx-converter/test/__testdata/input/Messages/114892.partial.emlx", "But I must explain"),
        ("partial-emlx-converter/test/__testdata/input/Messages/136153.partial.emlx", "wie eben besprochen."),
        ("partial-emlx-converter/test/__testdata/input/Messages/229417.partial.emlx", "Beim Lesen deiner E-mail"),
    ],
)
def test_peer_fixture_is_read(relative: str, start: str) -> None:
    assert peer_text(relative).startswith(start)


@needs_peer_fixtures
def test_peer_utf8_labelled_latin1_is_read_as_utf8() -> None:
    text = peer_text("django-mailbox/django_mailbox/tests/messages/message_with_utf8_char.eml")
    assert '"\u00a0"' in text and '"✿"' in text


def mh_message(n: int) -> bytes:
    return (
        f"Return-Path: <a{n}@example.com>\nFrom: A{n} <a{n}@example.com>\nTo: me@example.com\n"
        f"Subject: note {n}\nDate: Mon, 2 Mar 2026 09:{n:02d}:00 +0000\n\nHello, this is message {n}.\n"
    ).encode()


def test_an_mh_folder_and_a_saved_message_without_extension_are_mail(tmp_path: Path) -> None:
    """Files of RFC 822 mail without an extension (an MH folder: 1, 2, 10; notmuch; "saved messages") are
    recognised by their header block, read in number order; other extension-less files are not mail."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    for n in (1, 2, 10):
        (folder / str(n)).write_bytes(mh_message(n))
    (folder / ".mh_sequences").write_text("unseen: 1-10\n")
    (folder / "README").write_text("Not mail: notes about this folder.\n")
    assert detect_format(folder) == "eml"
    messages = [r for r in read_inbox(folder) if isinstance(r, Message)]
    assert [m.subject for m in messages] == ["note 1", "note 2", "note 10"]
    saved = tmp_path / "saved-message"
    saved.write_bytes(mh_message(3))
    assert detect_format(saved) == "eml"
    assert [m.subject for m in read_inbox(saved) if isinstance(m, Message)] == ["note 3"]
    with pytest.raises(ValueError, match="cannot tell the format"):
        detect_format(folder / "README")
