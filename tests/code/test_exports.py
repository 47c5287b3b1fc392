"""The export shapes people have (issue 16): Gmail Takeout, Thunderbird, Apple Mail .emlx, Outlook winmail.dat,
Slack, WhatsApp, UTF-16 and Windows-code-page CSV, ';'-separated CSV, .xlsx; and paths with spaces through
make. Every fixture is made here, small, from what each format's documentation and real exports show."""

import io
import json
import os
import shutil
import struct
import subprocess
import sys
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from boundaryline.cli import main as cli
from boundaryline.inbox import Message, detect_format, read_inbox
from boundaryline.inbox.tabular import sample_encoding
from boundaryline.owner import OwnerEvidence, decide_owner
from boundaryline.predict import Scorer
from boundaryline.progress import TerminalReporter
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.settings import Settings
from tests.records import split, write_mbox

ROOT = Path(__file__).parents[2]


def mail(body: str, *, headers: dict[str, str] | None = None, sender: str = "Ana <ana@example.com>") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "Priya <priya@example.com>", "Hello"
    message["Date"] = format_datetime(datetime(2026, 10, 1, 9, 30, tzinfo=UTC))
    message["Message-ID"] = f"<{abs(hash((body, sender)))}@example.com>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


# ----- Gmail Takeout


def test_gmail_takeout_labels_mark_sent_mail_and_threads(tmp_path: Path) -> None:
    box = write_mbox(
        tmp_path / "Takeout" / "Mail" / "All mail Including Spam and Trash.mbox",
        [
            mail("Coffee next week?", headers={"X-GM-THRID": "1797", "X-Gmail-Labels": "Inbox,Opened,Category Personal"}).as_bytes(),
            mail("Sure, Tuesday.", sender="Priya <priya@example.com>", headers={"X-GM-THRID": "1797", "X-Gmail-Labels": "Sent,Opened"}).as_bytes(),
            mail("Brouillon", sender="Priya <priya@example.com>", headers={"X-GM-THRID": "1800", "X-Gmail-Labels": "=?UTF-8?Q?Archiv=C3=A9s,Envoy=C3=A9?="}).as_bytes(),
            mail("No labels here.").as_bytes(),
        ],
    )  # fmt: skip
    assert detect_format(box) == "mbox"
    messages, bad, _ = split(list(read_inbox(box)))
    assert bad == []
    assert [(m.text, m.direction, m.thread) for m in messages] == [
        ("Coffee next week?", "incoming", "1797"),
        ("Sure, Tuesday.", "outgoing", "1797"),
        ("Brouillon", "outgoing", "1800"),  # a French account's "Envoyé"
        ("No labels here.", None, messages[3].thread),
    ]
    owner = decide_owner(OwnerEvidence.of(messages))  # the account: the sender of what Gmail marks as sent
    assert (
        owner.aliases == {"priya@example.com"}
        and owner.how == "the sender of the 2 message(s) the export marks as sent"
    )
    assert detect_format(box.parent) == "thunderbird"  # the Takeout Mail folder: every .mbox in it
    assert [m.direction for m in split(list(read_inbox(box.parent)))[0]] == ["incoming", "outgoing", "outgoing", None]


# ----- Thunderbird


def test_thunderbird_profile_folder(tmp_path: Path) -> None:
    local = tmp_path / "profile" / "Mail" / "Local Folders"
    write_mbox(local / "Inbox", [mail("First in the inbox").as_bytes(), mail("Second in the inbox").as_bytes()])
    write_mbox(local / "Sent", [mail("My own reply", sender="Priya <priya@example.com>").as_bytes()])
    write_mbox(local / "Archives.sbd" / "2023", [mail("Archived one").as_bytes()])
    for name in ("Inbox.msf", "Sent.msf", "Archives.msf", "Archives.sbd/2023.msf", "Trash.msf"):
        (local / name).write_text('// <!-- <mdb:mork:z v="1.4"/> -->\n')
    (local / "Trash").write_bytes(b"")  # an empty folder
    (local / "msgFilterRules.dat").write_text('version="9"\n')
    (local / "Notes").write_text("not mail at all\n")
    (tmp_path / "profile" / "prefs.js").write_text("user_pref('x', 1);\n")

    assert detect_format(local) == "thunderbird"
    assert detect_format(tmp_path / "profile") == "thunderbird"
    messages, bad, _ = split(list(read_inbox(local)))
    assert [(m.text, m.direction) for m in messages] == [
        ("Archived one", None),
        ("First in the inbox", None),
        ("Second in the inbox", None),
        ("My own reply", "outgoing"),
    ]
    assert [m.source.removeprefix(f"{local}: ") for m in messages] == [
        "Archives.sbd/2023, record 1",
        "Inbox, record 1",
        "Inbox, record 2",
        "Sent, record 1",
    ]
    assert [(b.source, b.location) for b in bad] == [(str(local), "Notes")]
    assert "not an mbox file" in bad[0].reason


# ----- Apple Mail


def emlx(message: EmailMessage) -> bytes:
    raw = message.as_bytes()
    plist = b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>flags</key><integer>8590195713</integer></dict></plist>\n'
    return f"{len(raw):>10}\n".encode() + raw + plist


def test_apple_mail_emlx_file_and_folder(tmp_path: Path) -> None:
    messages_dir = tmp_path / "V10" / "acct" / "INBOX.mbox" / "UUID" / "Data" / "Messages"
    messages_dir.mkdir(parents=True)
    (messages_dir / "101.emlx").write_bytes(emlx(mail("Lunch on Friday?")))
    (messages_dir / "102.partial.emlx").write_bytes(emlx(mail("Slides attached.")))
    (messages_dir / "103.emlx").write_bytes(b"not a count\nFrom: x\n\nbody")
    (messages_dir / "104.emlx").write_bytes(b"9999\nFrom: x\n\nshort")
    sent = tmp_path / "V10" / "acct" / "Sent Messages.mbox" / "Messages"
    sent.mkdir(parents=True)
    (sent / "7.emlx").write_bytes(emlx(mail("Thanks, Ana!", sender="Priya <priya@example.com>")))

    single = messages_dir / "101.emlx"
    assert detect_format(single) == "emlx"
    [message] = list(read_inbox(single))
    assert isinstance(message, Message) and message.text == "Lunch on Friday?"
    assert list(read_inbox(single, fmt="eml")) == [message]  # --format eml no longer scores the byte count

    folder = tmp_path / "V10"
    assert detect_format(folder) == "emlx"
    messages, bad, _ = split(list(read_inbox(folder)))
    assert [(m.text, m.direction) for m in messages] == [
        ("Lunch on Friday?", None),
        ("Slides attached.", None),
        ("Thanks, Ana!", "outgoing"),
    ]
    assert all(not m.text[:1].isdigit() for m in messages)
    assert [(b.location.rsplit("/", 1)[1], b.reason.split(":")[0]) for b in bad] == [
        ("103.emlx", "the first line is not a byte count"),
        ("104.emlx", "truncated"),
    ]


# ----- Outlook winmail.dat


def tnef_object(name: int, data: bytes, type_: int = 0x0006, level: int = 1) -> bytes:
    return struct.pack("<BHHI", level, name, type_, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def mapi_binary(name: int, value: bytes) -> bytes:
    """One MAPI property of binary type (0x0102), as attMAPIProps holds it."""
    return struct.pack("<IHHII", 1, 0x0102, name, 1, len(value)) + value + b"\0" * (-len(value) % 4)


def tnef(*objects: bytes) -> bytes:
    codepage = tnef_object(0x9007, struct.pack("<II", 1252, 0))
    return struct.pack("<IH", 0x223E9F78, 0x0101) + codepage + b"".join(objects)


PLAIN_TNEF = tnef(tnef_object(0x800C, "Hi Priya, could we move our call? Grüße, Ana".encode("cp1252"), 0x0002))
HTML_TNEF = tnef(tnef_object(0x9003, mapi_binary(0x1013, b"<html><body><p>Dinner, <b>just us</b>?</p></body></html>")))
RTF_TNEF = tnef(tnef_object(0x9003, mapi_binary(0x1009, b"LZFu" + b"\x00" * 20)))


def outlook_mail(winmail: bytes) -> bytes:
    message = mail("\n")
    message.add_attachment(winmail, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return message.as_bytes()


def test_outlook_winmail_dat_bodies_and_true_reasons(tmp_path: Path) -> None:
    box = write_mbox(
        tmp_path / "outlook.mbox",
        [outlook_mail(PLAIN_TNEF), outlook_mail(HTML_TNEF), outlook_mail(RTF_TNEF), outlook_mail(b"garbage bytes")],
    )
    messages, bad, _ = split(list(read_inbox(box)))
    assert [m.text for m in messages] == ["Hi Priya, could we move our call? Grüße, Ana", "Dinner, just us?"]
    assert [(b.location, b.field) for b in bad] == [("record 3", "body"), ("record 4", "body")]
    assert "compressed RTF" in bad[0].reason
    assert "cannot be decoded" in bad[1].reason
    assert not any("empty body" in b.reason for b in bad)

    saved = tmp_path / "winmail.dat"
    saved.write_bytes(PLAIN_TNEF)
    assert detect_format(saved) == "tnef"
    [message] = list(read_inbox(saved))
    assert isinstance(message, Message) and message.text.startswith("Hi Priya")


# ----- Slack


def slack_export(root: Path) -> Path:
    def write(name: str, value: object) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(value))

    write("users.json", [
        {"id": "U1", "name": "ana", "real_name": "Ana Lima", "profile": {"real_name": "Ana Lima", "display_name": "ana"}},
        {"id": "U2", "name": "priya", "profile": {"real_name": "Priya Raman"}},
        {"id": "U3", "name": "bo", "profile": {"real_name": "", "display_name": "Bo"}},
    ])  # fmt: skip
    write("channels.json", [{"id": "C1", "name": "general", "members": ["U1", "U2", "U3"]}])
    write("dms.json", [{"id": "D1", "members": ["U1", "U2"]}])
    write("mpims.json", [{"id": "G1", "name": "mpdm-ana--priya--bo-1", "members": ["U1", "U2", "U3"]}])
    write("general/2026-10-05.json", [
        {"type": "message", "subtype": "channel_join", "user": "U3", "text": "<@U3> has joined the channel", "ts": "1791190000.000100"},
        {"type": "message", "user": "U1", "text": "Welcome <@U3>! Notes in <#C1|general> and <https://x.example/doc|the doc> &amp; more", "ts": "1791190060.000200"},
        {"type": "message", "subtype": "bot_message", "bot_id": "B1", "text": "Reminder: standup", "ts": "1791190120.000300"},
        {"type": "message", "subtype": "file_share", "user": "U2", "text": "", "files": [{"id": "F1"}], "ts": "1791190180.000400"},
        {"type": "message", "text": "who wrote this?", "ts": "1791190240.000500"},
    ])  # fmt: skip
    write("D1/2026-10-06.json", [
        {"type": "message", "user": "U1", "text": "Coffee next week, <@U2>?", "ts": "1791276400.000100"},
        {"type": "message", "user": "U2", "text": "Sure!", "ts": "1791276460.000200"},
    ])  # fmt: skip
    write(
        "mpdm-ana--priya--bo-1/2026-10-07.json",
        [{"type": "message", "user": "U3", "text": "hi both", "ts": "1791362800.0"}],
    )
    (root / "general" / "2026-10-08.json").write_text('[{"type": "message", "user": "U1", "text": "cut')
    return root


def test_slack_export_folder(tmp_path: Path) -> None:
    root = slack_export(tmp_path / "Slack export Oct 2026")
    assert detect_format(root) == "slack"
    messages, bad, notices = split(list(read_inbox(root)))
    assert [(m.sender, m.text, m.thread, m.recipients, m.subject) for m in messages] == [
        ("Ana Lima", "Welcome @Bo! Notes in #general and the doc & more", "C1", None, "#general"),
        ("Ana Lima", "Coffee next week, @Priya Raman?", "D1", "Priya Raman", None),
        ("Priya Raman", "Sure!", "D1", "Ana Lima", None),
        ("Bo", "hi both", "G1", "Ana Lima, Priya Raman", None),
    ]
    assert messages[1].date == datetime.fromtimestamp(1791276400.0001, tz=UTC)
    assert messages[1].source == f"{root}: D1/2026-10-06.json, record 1"
    assert sorted(n.kind for n in notices) == [
        "Slack bot_message",
        "Slack channel_join",
        "Slack file or attachment without text",
    ]
    assert [(b.location, b.field) for b in bad] == [
        ("general/2026-10-05.json, record 5", "user"),
        ("general/2026-10-08.json, record 1", None),
    ]

    day = root / "D1" / "2026-10-06.json"  # one day's file still gets names and dates
    assert detect_format(day) == "slack"
    assert [(m.sender, m.text) for m in split(list(read_inbox(day)))[0]] == [
        ("Ana Lima", "Coffee next week, @Priya Raman?"),
        ("Priya Raman", "Sure!"),
    ]


def test_system_notices_are_counted_not_scored_nor_skipped(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    root = slack_export(tmp_path / "slack")
    summary = score_inbox(root, settings=tiny_trained, options=ScoreOptions(), scorer=tiny_scorer,
                          out=tmp_path / "r.csv", reporter=TerminalReporter(out=(report := io.StringIO())))  # fmt: skip
    assert (summary.scored, summary.skipped) == (4, 2)
    assert summary.not_messages == {
        "Slack channel_join": 1,
        "Slack bot_message": 1,
        "Slack file or attachment without text": 1,
    }
    saved = json.loads((tmp_path / "r.summary.json").read_text())
    assert saved["not_messages"]["Slack channel_join"] == 1
    assert "Not people's messages, counted and not scored: 3" in report.getvalue()


# ----- WhatsApp

WHATSAPP = {
    "iphone": (
        "\u200e[31/12/2023, 21:04:05] Ana Lima: \u200eMessages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.\n"
        "[31/12/2023, 21:04:05] Ana Lima: Happy new year!\n"
        "Are you free on the 3rd?\n"
        "\u200e[01/01/2024, 09:15:00] Priya Raman: \u200eimage omitted\n"
        "[01/01/2024, 09:16:10] Priya Raman: Thanks, not this week. \u200e<This message was edited>\n"
    ),
    "android-us": (
        "12/31/23, 9:04\u202fPM - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.\n"
        "12/31/23, 9:04\u202fPM - Ana Lima: Happy new year!\n"
        "Are you free on the 3rd?\n"
        "1/1/24, 9:15\u202fAM - Priya Raman: <Media omitted>\n"
        "1/1/24, 9:16\u202fAM - Priya Raman: Thanks, not this week.\n"
    ),
    "android-de": (
        "31.12.23, 21:04 - Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Tippe, um mehr zu erfahren.\n"
        "31.12.23, 21:04 - Ana Lima: Happy new year!\n"
        "Are you free on the 3rd?\n"
        "01.01.24, 09:15 - Priya Raman: <Medien ausgeschlossen>\n"
        "01.01.24, 09:16 - Priya Raman: Thanks, not this week.\n"
    ),
}


@pytest.mark.parametrize("locale", list(WHATSAPP))
def test_whatsapp_chat_export_in_common_locales(tmp_path: Path, locale: str) -> None:
    path = tmp_path / "WhatsApp Chat with Ana Lima.txt"
    path.write_text(WHATSAPP[locale], encoding="utf-8")
    assert detect_format(path) == "whatsapp"
    messages, bad, notices = split(list(read_inbox(path)))
    assert bad == []
    seconds = 5 if locale == "iphone" else 0
    assert [(m.sender, m.text, m.date, m.recipients) for m in messages] == [
        (
            "Ana Lima",
            "Happy new year!\nAre you free on the 3rd?",
            datetime(2023, 12, 31, 21, 4, seconds),
            "Priya Raman",
        ),
        ("Priya Raman", "Thanks, not this week.", datetime(2024, 1, 1, 9, 16, 10 if seconds else 0), "Ana Lima"),
    ]
    assert [m.source.rsplit(": ", 1)[1] for m in messages] == ["line 2", "line 5"]
    assert messages[0].thread == "WhatsApp Chat with Ana Lima"
    assert [(n.location, n.kind) for n in notices] == [
        ("line 1", "WhatsApp system line"),
        ("line 4", "WhatsApp media omitted"),
    ]


def test_whatsapp_group_lines_and_date_order(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        '02/03/24, 10:00 - Ana created group "Book club"\n'
        "02/03/24, 10:01 - Ana added Bo\n"
        '02/03/24, 10:02 - Ana changed the subject from "Books" to "Books: 2024"\n'
        "02/03/24, 10:03 - Bo: This message was deleted\n"
        "02/03/24, 10:04 - Bo: Missed voice call\n"
        "02/03/24, 10:05 - Bo: IMG-20240302-WA0001.jpg (file attached)\n"
        "The cover\n"
        "02/03/24, 10:06 - Ana: Welcome: glad you're here\n",
        encoding="utf-8",
    )
    messages, bad, notices = split(list(read_inbox(path, fmt="whatsapp")))
    assert [(m.sender, m.text) for m in messages] == [("Bo", "The cover"), ("Ana", "Welcome: glad you're here")]
    assert messages[0].date == datetime(2024, 3, 2, 10, 5)  # nothing above 12, no AM/PM: day first
    assert [n.kind for n in notices] == ["WhatsApp system line"] * 3 + ["WhatsApp deleted message", "WhatsApp call"]
    assert bad == []
    us = tmp_path / "us.txt"
    us.write_text("02/03/24, 10:00 AM - Ana: hi\n", encoding="utf-8")
    assert [m.date for m in split(list(read_inbox(us)))[0]] == [datetime(2024, 2, 3, 10, 0)]  # AM/PM: month first


# ----- CSV encodings and separators


def test_excel_unicode_text_is_utf16_with_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "Inbox export.txt"  # Excel: Save as "Unicode Text (*.txt)"
    path.write_bytes(
        "id\tFrom\tBody\r\n1\tZoë Brandt\tGrüße! Coffee on Tuesday?\r\n2\tBo\tSecond one\r\n".encode("utf-16")
    )
    assert detect_format(path) == "csv"
    messages, bad, _ = split(list(read_inbox(path)))
    assert bad == []
    assert [(m.id, m.sender, m.text) for m in messages] == [
        ("1", "Zoë Brandt", "Grüße! Coffee on Tuesday?"),
        ("2", "Bo", "Second one"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("a,b\n".encode("utf-8-sig"), "utf-8-sig"),
        (b"\xff\xfe" + "a,b\n".encode("utf-16-le"), "utf-16"),
        ("a,b\n".encode("utf-32"), "utf-32"),
        (b"id,text\n1,plain ascii\n", "utf-8"),
        ("id,text\n1,caf\u00e9 ok\n".encode(), "utf-8"),
        (b"id,text\n1,caf\xc3\xa9 ok\n2,broken \xe9 byte\n", "utf-8"),  # UTF-8 beside one broken byte
    ],
)
def test_encoding_from_the_bom_then_utf8(data: bytes, expected: str) -> None:
    assert sample_encoding(data) == expected


def test_windows_code_page_csv_without_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("id;from;body\n1;Zoë;Grüße aus Köln, schöne Woche und bis bald\n".encode("cp1252"))
    [message] = list(read_inbox(path))
    assert isinstance(message, Message)
    assert (message.sender, message.text) == ("Zoë", "Grüße aus Köln, schöne Woche und bis bald")


def test_semicolon_csv_is_sniffed_and_the_separator_can_be_forced(tmp_path: Path) -> None:
    path = tmp_path / "Posteingang.csv"
    path.write_text('Datum;Von;Betreff;body\n2026-10-01;ana@example.com;Hallo;"Hallo, wie geht\'s; alles gut?"\n')
    messages, bad, _ = split(list(read_inbox(path)))
    assert bad == [] and [m.text for m in messages] == ["Hallo, wie geht's; alles gut?"]
    [message] = list(read_inbox(path, text_column="body"))
    assert isinstance(message, Message) and message.sender is None  # "Von" is no known sender column name
    with pytest.raises(ValueError, match="no column named by --text-column"):
        list(read_inbox(path, text_column="body", delimiter=","))
    pipes = tmp_path / "pipes.csv"
    pipes.write_text("id|text\n1|hello, there\n")
    assert [m.text for m in split(list(read_inbox(pipes)))[0]] == ["hello, there"]


def test_score_command_takes_delimiter_and_text_column(
    tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)
    path = tmp_path / "export.csv"
    path.write_text("Datum;Nachricht\n2026-10-01;Kaffee, nächste Woche?\n")
    out = tmp_path / "r.csv"
    args = ["score", str(path), "--out", str(out), "-q", "--text-column", "Nachricht"]
    assert cli([*args, "--delimiter", "semicolon"]) == 0
    assert "Kaffee" not in out.read_text(encoding="utf-8-sig")  # results hold scores, not the text
    assert cli([*args, "--delimiter", ";"]) == 0
    assert cli([*args, "--delimiter", "tab"]) == 2  # then there is no column "Nachricht"
    assert cli([*args, "--delimiter", ";;"]) == 2


# ----- Excel


def test_xlsx_first_sheet_or_named_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Inbox"
    sheet.append(["Message ID", "From", "Date", "Body"])
    sheet.append([1001, "ana@example.com", datetime(2026, 10, 1, 9, 0), "Coffee next week?"])
    sheet.append([None, None, None, None])
    sheet.append([1002, "bo@example.com", 46000, "Fourth email, why no reply?"])  # a date cell that lost its format
    sheet.append([1003, "cy@example.com", None, None])
    sheet.append([1004, "dee@example.com", None, "Fine", "stray value"])
    archive = workbook.create_sheet("Archive")
    archive.append(["text"])
    archive.append(["An old message"])
    path = tmp_path / "inbox.xlsx"
    workbook.save(path)

    assert detect_format(path) == "xlsx"
    messages, bad, _ = split(list(read_inbox(path)))
    assert [(m.id, m.sender, m.date, m.text) for m in messages] == [
        ("1001", "ana@example.com", datetime(2026, 10, 1, 9, 0), "Coffee next week?"),
        ("1002", "bo@example.com", datetime(2025, 12, 9, 0, 0), "Fourth email, why no reply?"),
    ]
    assert messages[0].source == f"{path}: sheet 'Inbox', row 2"
    assert [(b.location, b.field) for b in bad] == [("sheet 'Inbox', row 5", "Body"), ("sheet 'Inbox', row 6", None)]
    assert [m.text for m in split(list(read_inbox(path, sheet="Archive")))[0]] == ["An old message"]
    with pytest.raises(ValueError, match="no sheet 'Nope'; the sheets are Inbox, Archive"):
        list(read_inbox(path, sheet="Nope"))
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ValueError, match=r"save it as \.xlsx or CSV"):
        detect_format(tmp_path / "old.xls")


# ----- paths with spaces through make


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_quotes_paths_with_spaces(tmp_path: Path) -> None:
    """The command lines ``make score`` and ``make retrain`` build, run with a stand-in for the CLI that
    records the arguments it gets (the stamp is taken as up to date, so nothing is installed)."""
    log = tmp_path / "calls.jsonl"
    fake = tmp_path / "fake_cli"  # CLI itself is a make variable for a program, not a user path
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\nwith open({str(log)!r}, 'a') as f: f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    fake.chmod(0o755)
    folder = tmp_path / "Takeout export"
    inbox, out, new = (
        folder / "All mail Including Spam and Trash.mbox",
        folder / "my results.csv",
        folder / "new labels.csv",
    )
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", f"CLI={fake}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    for target in (["score", f"INBOX={inbox}", f"OUT={out}"], ["retrain", f"NEW={new}"], ["score"]):
        subprocess.run([*make, *target], cwd=ROOT, check=True, capture_output=True, env=env)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert ["score", str(inbox), "--out", str(out)] in calls
    assert ["-v", "retrain", str(new)] in calls
    assert ["score"] in calls  # no INBOX: no empty argument either
