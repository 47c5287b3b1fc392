"""Chat exports: WhatsApp's date layouts and attachments, Telegram's result.json, Messenger's message_1.json, and
JSON files that are no known export. Peer fixtures (other projects' test inputs) are read from
../shared/peer-fixtures beside the checkout when it is there."""

from __future__ import annotations

import json
import logging
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from boundaryline.inbox import BadRecord, Message, SystemNotice, detect_format, read_inbox
from boundaryline.scoring.partitions import ReadOptions, plan_partitions, read_partition
from tests.records import split

PEERS = Path(__file__).parents[2].parent / "shared" / "peer-fixtures"
needs_peers = pytest.mark.skipif(
    not PEERS.is_dir(), reason=f"peer fixtures not found at {PEERS}: the chat-export fixture tests are skipped"
)


def read(path: Path) -> tuple[list[Message], list[BadRecord], list[SystemNotice]]:
    return split(list(read_inbox(path)))


# ----- WhatsApp: date layouts

JUNE_3 = datetime(2018, 6, 3, 13, 55)
JUNE_13 = datetime(2018, 6, 13, 21, 25, 15)
MARCH_6 = datetime(2018, 3, 6, 13, 55)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("13.6.2018 klo 21.25.15 - a: m", JUNE_13),  # Finnish
        ("13. 6. 2018. 21:25:15 a: m", JUNE_13),  # Croatian, Hungarian: spaced dots, no dash
        ("13.06.18 21.25.15: a: m", JUNE_13),  # a colon after the time
        ("[06/2018/13, 21:25:15] a: m", JUNE_13),  # the year in the middle
        ("[06.13.18 21:25:15] a: m", JUNE_13),  # dots, yet month first: the 13 says so
        ("[2018/06/13, 21:25:15] a: m", JUNE_13),
        ("3/6/18, 1:55 p.m. - a: m", JUNE_3),  # a dotted p.m.: not a US phone
        ("[3/6/18 1:55:00 p. m.] a: m", JUNE_3),
        ("\u200e[3/6/18 1:55:00 p. m.] a: m", JUNE_3),
        ("3/6/2018 1:55 p. m. - a: m", JUNE_3),
        ("3/6/18, 1:55 PM - a: m", MARCH_6),  # upper-case PM, as US phones write it: month first
    ],
)
def test_whatsapp_date_layouts(tmp_path: Path, line: str, expected: datetime) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(f"{line}\n{line.replace('a: m', 'b: n')}\n", encoding="utf-8")
    assert detect_format(path) == "whatsapp"
    messages, bad, notices = read(path)
    assert (bad, notices) == ([], [])
    assert [(m.sender, m.text, m.date) for m in messages] == [("a", "m", expected), ("b", "n", expected)]


def test_whatsapp_day_and_month_are_told_apart_from_the_whole_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settled = tmp_path / "settled.txt"
    settled.write_text("03/06/18, 1:55 PM - a: early\n12/25/18, 9:00 AM - b: later\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        messages, _, _ = read(settled)
    assert [m.date for m in messages] == [MARCH_6, datetime(2018, 12, 25, 9)]  # the 25 settles the first line too
    assert caplog.records == []

    ambiguous = tmp_path / "ambiguous.txt"
    ambiguous.write_text("03/06/18, 13:55 - a: secret words\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        messages, _, _ = read(ambiguous)
    assert [m.date for m in messages] == [JUNE_3]  # today's rule: day first
    assert len(caplog.records) == 1
    warning = caplog.records[0].getMessage()
    assert str(ambiguous) in warning and "day first" in warning and "secret" not in warning


def test_whatsapp_attached_files_are_not_scored_and_their_caption_is(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        "3/6/18, 1:55 p.m. - a: < attached: 00000042-PHOTO-2020-06-07-15-13-20.jpg >\n"
        "3/6/18, 1:55 p.m. - a: IMG-20210428-WA0001.jpg (file attached)\n"
        "3/6/18, 1:55 p.m. - a: 2015-08-04-PHOTO-00004762.jpg <\u200eattached>\n"
        "3/6/18, 1:55 p.m. - a: \u200e4f2680f1db95a8454775cc2eefc95bfc.jpg (Datei angeh\u00e4ngt)\n"
        "Dir auch frohe Ostern.\n"
        "[3/6/18, 13:56:00] b: \u200e<attached: 00000043-PHOTO-2020-06-07.jpg>\n"
        "Look at this\n",
        encoding="utf-8",
    )
    messages, bad, notices = read(path)
    assert bad == []
    assert [(m.sender, m.text) for m in messages] == [("a", "Dir auch frohe Ostern."), ("b", "Look at this")]
    assert [n.kind for n in notices] == ["WhatsApp media omitted"] * 3


def test_a_time_inside_a_whatsapp_message_does_not_start_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        "23/06/2018, 01:55 p.m. - Loris: one\n2016-04-29 10:30:00\n2016-04-29 10:30 see you then\n", encoding="utf-8"
    )
    messages, bad, _ = read(path)
    assert bad == []
    assert [m.text for m in messages] == ["one\n2016-04-29 10:30:00\n2016-04-29 10:30 see you then"]


PUSTUR_DATES = {  # Pustur/whatsapp-chat-parser's expected dates (parser.test.ts)
    "format1.txt": JUNE_3,
    "format2.txt": MARCH_6,  # "03-06-2018, 01.55 PM": nothing settles it; upper-case PM reads month first
    "format3.txt": JUNE_13,
    "format4.txt": JUNE_13,
    "format5.txt": JUNE_13,
    "format6.txt": JUNE_13,
    "format7.txt": JUNE_3,
    "format8.txt": JUNE_3,
    "format9.txt": JUNE_13,
    "format10.txt": JUNE_13,
    "format11.txt": JUNE_3,
    "format12.txt": MARCH_6,  # as format2 (Pustur's parser guesses day first for both)
}


@needs_peers
def test_every_pustur_layout_is_read_with_its_dates() -> None:
    built = PEERS / "pustur-whatsapp" / "built"
    for name, expected in PUSTUR_DATES.items():
        path = built / name
        assert detect_format(path) == "whatsapp", name
        messages, bad, notices = read(path)
        assert (bad, notices) == ([], []), name
        assert [(m.sender, m.text, m.date) for m in messages] == [("a", "m", expected), ("b", "n", expected)], name
    messages, bad, notices = read(built / "attachments.txt")
    assert ([m.text for m in messages], bad, len(notices)) == (["Dir auch frohe Ostern."], [], 3)
    messages, _, _ = read(built / "chatExample.txt")
    assert [m.date for m in messages] == [
        datetime(2017, 3, 6, 0, 45),
        datetime(2017, 5, 8, 1, 48),
        datetime(2017, 4, 9, 1, 50),
    ]
    messages, _, _ = read(built / "issue237.txt")
    assert [m.date for m in messages] == [datetime(2020, 12, 30, 13), datetime(2021, 1, 13, 13)]


@needs_peers
@pytest.mark.parametrize(
    ("name", "count", "first"),
    [
        ("lorem.txt", 500, datetime(2020, 1, 15, 2, 22, 56)),
        ("lorem-2000.txt", 2000, datetime(2019, 4, 16, 2, 9)),
        ("lorem-merge-part1.txt", 300, datetime(2019, 10, 20, 10, 16)),
        ("lorem-merge-part2.txt", 300, datetime(2020, 6, 20, 10, 16)),
        ("pokemon.txt", 18, datetime(2016, 8, 6, 13, 23)),
    ],
)
def test_whatstk_chats_are_read_whole_and_dated(name: str, count: int, first: datetime) -> None:
    messages, bad, _ = read(PEERS / "whatstk" / "chats" / "whatsapp" / name)
    assert bad == []
    assert len(messages) == count
    assert messages[0].date == first
    assert all(m.date is not None for m in messages)


# ----- JSON that is no known export


def test_a_json_object_that_is_no_known_export_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 3, "items": [{"note": "private words"}] * 500}, indent=1), encoding="utf-8")
    with pytest.raises(ValueError, match="no known export") as caught:
        detect_format(path)
    assert str(path) in str(caught.value) and "'version', 'items'" in str(caught.value)
    assert "private" not in str(caught.value)
    with pytest.raises(ValueError, match="no known export"):
        list(read_inbox(path))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{}\n{}", "jsonl"),
        (b'{"text": "hi"}', "jsonl"),
        (b'\xef\xbb\xbf{"text": "hi"}\n{"text": "yo"}\n', "jsonl"),
        (b" [ {}]", "json"),
    ],
)
def test_json_lines_and_arrays_are_still_told_apart(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(data)
    assert detect_format(path) == expected


def test_a_json_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("hello, this is not JSON\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not JSON"):
        detect_format(path)


# ----- Telegram


def telegram_chat(chat_id: int, name: str, kind: str, messages: list[dict[str, object]]) -> dict[str, object]:
    return {"name": name, "type": kind, "id": chat_id, "messages": messages}


TELEGRAM_MESSAGES: list[dict[str, object]] = [
    {"id": 1, "type": "service", "date": "2024-01-02T10:00:00", "actor": "Ana", "action": "create_group"},
    {"id": 2, "type": "message", "date": "2024-01-02T10:01:00", "from": "Ana", "from_id": "user1", "text": "Hi all"},
    {
        "id": 3,
        "type": "message",
        "date": "2024-01-02T10:02:30",
        "from": "Bo",
        "from_id": "user2",
        "text": ["Dinner at ", {"type": "bold", "text": "Luigi's"}, "? ", {"type": "mention", "text": "@ana"}],
    },
    {
        "id": 4,
        "type": "message",
        "date": "2024-01-02T10:03:00",
        "from": "Bo",
        "from_id": "user2",
        "text": "",
        "photo": "photos/photo_1.jpg",
    },
]


def test_telegram_account_export(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    export = {
        "about": "Here is the data you requested.",
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [
                telegram_chat(-100, "Book club", "private_group", TELEGRAM_MESSAGES),
                telegram_chat(
                    77,
                    "Zoë",
                    "personal_chat",
                    [
                        {
                            "id": 9,
                            "type": "message",
                            "date": "2024-02-01T08:00:00",
                            "from": "Me",
                            "from_id": "user0",
                            "text": "Coffee tomorrow?",
                        },
                    ],
                ),
            ],
        },
    }
    path.write_text(json.dumps(export, indent=1, ensure_ascii=False), encoding="utf-8")
    assert detect_format(path) == "telegram"
    messages, bad, notices = read(path)
    assert bad == []
    assert [(m.sender, m.text, m.date, m.thread, m.subject, m.recipients) for m in messages] == [
        ("Ana", "Hi all", datetime(2024, 1, 2, 10, 1), "-100", "Book club", None),
        ("Bo", "Dinner at Luigi's? @ana", datetime(2024, 1, 2, 10, 2, 30), "-100", "Book club", None),
        ("Me", "Coffee tomorrow?", datetime(2024, 2, 1, 8), "77", None, "Zoë"),
    ]
    assert all(m.channel == "text_message" for m in messages)
    assert [n.kind for n in notices] == ["Telegram create_group", "Telegram media without text"]
    assert messages[0].source.endswith("chat 1, message 2")


def test_telegram_single_chat_export(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(telegram_chat(5, "Book club", "private_group", TELEGRAM_MESSAGES), indent=1))
    assert detect_format(path) == "telegram"
    messages, bad, notices = read(path)
    assert ([m.text for m in messages], bad, len(notices)) == (["Hi all", "Dinner at Luigi's? @ana"], [], 2)
    assert {m.thread for m in messages} == {"5"}


def test_telegram_export_is_one_partition_when_scored_in_parallel(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    many = [dict(TELEGRAM_MESSAGES[1], id=i, text=f"message number {i}") for i in range(3000)]
    path.write_text(json.dumps(telegram_chat(5, "Book club", "private_group", many), indent=1))
    options = ReadOptions()
    partitions = plan_partitions([path], options, target_bytes=64 << 10)
    assert [p.fmt for p in partitions] == ["telegram"]
    assert list(read_partition(partitions[0], options)) == list(read_inbox(path))


# ----- Facebook Messenger, Instagram


def mojibake(text: str) -> str:
    """What Facebook writes for ``text``: its UTF-8 bytes, one code point each."""
    return text.encode("utf-8").decode("latin-1")


def test_messenger_conversation_with_facebook_mojibake(tmp_path: Path) -> None:
    path = tmp_path / "inbox" / "zoebrandt_123" / "message_1.json"
    path.parent.mkdir(parents=True)
    conversation = {
        "participants": [{"name": mojibake("Zoë Brandt")}, {"name": "Sam Ortiz"}],
        "messages": [
            {
                "sender_name": mojibake("Zoë Brandt"),
                "timestamp_ms": 1_700_000_060_000,
                "content": mojibake("Grüße! Dinner Friday? 🍝"),
                "type": "Generic",
            },
            {"sender_name": "Sam Ortiz", "timestamp_ms": 1_700_000_000_000, "content": "café at 8", "type": "Generic"},
            {
                "sender_name": "Sam Ortiz",
                "timestamp_ms": 1_699_999_000_000,
                "photos": [{"uri": "p.jpg"}],
                "type": "Generic",
            },
            {
                "sender_name": "Sam Ortiz",
                "timestamp_ms": 1_699_998_000_000,
                "content": "Sam called you.",
                "type": "Call",
                "call_duration": 0,
            },
        ],
        "title": mojibake("Zoë Brandt"),
        "is_still_participant": True,
        "thread_path": "inbox/zoebrandt_123",
    }
    path.write_text(json.dumps(conversation, indent=2), encoding="utf-8")  # json.dumps escapes: as Facebook does
    assert detect_format(path) == "messenger"
    messages, bad, notices = read(path)
    assert bad == []
    assert [(m.sender, m.text, m.recipients, m.thread) for m in messages] == [
        ("Zoë Brandt", "Grüße! Dinner Friday? 🍝", "Sam Ortiz", "inbox/zoebrandt_123"),
        ("Sam Ortiz", "café at 8", "Zoë Brandt", "inbox/zoebrandt_123"),  # real Latin-1 text is kept as it is
    ]
    assert messages[1].date == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert [n.kind for n in notices] == ["Messenger media without text", "Messenger call"]


# ----- Exports delivered as a zip; Outlook's own files


def test_whatsapp_chat_in_its_zip(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat - Ana Lima.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("_chat.txt", "[31/12/2023, 21:04:05] Ana Lima: Happy new year!\n")
        archive.writestr("00000012-PHOTO-2023-12-31.jpg", b"\xff\xd8")
    assert detect_format(path) == "whatsapp"
    messages, bad, _ = read(path)
    assert bad == []
    assert [(m.sender, m.text, m.thread) for m in messages] == [("Ana Lima", "Happy new year!", path.stem)]
    assert messages[0].source == f"{path}:_chat.txt: line 1"


def test_a_zip_with_no_known_export_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.jpg", b"\xff\xd8")
    with pytest.raises(ValueError, match="no Slack export"):
        detect_format(path)


@pytest.mark.parametrize(("name", "tool"), [("backup.pst", "readpst"), ("offline.ost", "readpst")])
def test_outlook_files_are_refused_with_the_tool_to_convert_them(tmp_path: Path, name: str, tool: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"!BDN")
    with pytest.raises(ValueError, match=f"not supported: .*{tool}"):
        detect_format(path)


@needs_peers
def test_slack_export_zip_is_read_as_its_unzipped_folder() -> None:
    viewer = PEERS / "slack-export-viewer"
    zipped = list(read_inbox(viewer / "tests" / "testarchive.zip"))
    unzipped = list(read_inbox(viewer / "unz"))
    assert [type(r) for r in zipped] == [type(r) for r in unzipped]
    assert not any(isinstance(r, BadRecord) for r in zipped)  # an old file comment is its author's message
    assert [(m.sender, m.text, m.date) for m in split(zipped)[0]] == [
        (m.sender, m.text, m.date) for m in split(unzipped)[0]
    ]
    assert all(m.source.startswith(str(viewer / "tests" / "testarchive.zip")) for m in split(zipped)[0])
