"""Reader limits (issue 23, second round): a mail header, a JSON value or a spreadsheet cell built to exhaust
memory is cut, skipped or refused, with a reason that names the place and the limit, never the text. The
memory probes run in a child process under an address-space cap (``tests.records.run_capped``): a regression
fails with MemoryError there instead of taking the machine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from boundaryline.files import MAX_JSON_DEPTH, nested_deeper
from boundaryline.inbox import Message, read_inbox
from boundaryline.inbox.mail import MAX_ENCODED_WORDS, MAX_HEADER_CHARS, capped_header, parse_mail
from boundaryline.inbox.spreadsheet import MAX_CELL_CHARS, MAX_XLSX_PART_BYTES
from tests.records import run_capped, split, write_zip

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the probes read /proc/self/statm")
SECRET = "my home address is 12 Elm St"
DEEP = 100_000  # the nesting: a 200 KB file

# The child tells an export's format and reads it, reporting each record as [type, location, reason, the start
# of its text, its subject]; nothing about the fixture is read in the test's own process, which has no cap.
READ = """
from pathlib import Path
from boundaryline.inbox import detect_format, read_inbox
"""
RECORDS = """
path = Path({path!r})
result = {{"format": detect_format(path), "records": [
    [type(r).__name__, getattr(r, "location", ""), getattr(r, "reason", ""), getattr(r, "text", "")[:40],
     getattr(r, "subject", None)] for r in read_inbox(path)]}}
"""


def probe(path: Path) -> tuple[str, list[list[str]], float]:
    """The format, records and reading time of ``path``, read in a child under the address-space cap."""
    run = run_capped(READ, RECORDS.format(path=str(path)))
    return run["result"]["format"], run["result"]["records"], run["seconds"]


# ----- 1. mail headers


def mail_with_subject(subject: str) -> bytes:
    return (
        b"From: Ana <ana@example.com>\r\nTo: me@example.com\r\nMessage-ID: <m1@example.com>\r\n"
        + f"Subject: {subject}\r\n".encode()
        + b"Content-Type: text/plain; charset=utf-8\r\n\r\nCould we talk next week?\r\n"
    )


@linux_only
def test_a_subject_of_200000_encoded_words_is_read_within_the_cap(tmp_path: Path) -> None:
    """2.8 MB of "=?utf-8?q?a?= " took 22 GB in policy.default's parser: cut to its first encoded words."""
    path = tmp_path / "words.eml"
    path.write_bytes(mail_with_subject("=?utf-8?q?a?= " * 200_000))
    assert path.stat().st_size > 2_800_000
    fmt, [[kind, _, _, text, subject]], seconds = probe(path)
    assert (fmt, kind, text) == ("eml", "Message", "Could we talk next week?")
    assert subject == "a" * MAX_ENCODED_WORDS  # the words before the cap, decoded
    assert seconds < 20


def test_a_long_header_is_cut_at_an_address_and_still_read() -> None:
    to = ", ".join(f"person{i}@example.com" for i in range(2_000))  # 48 KB of recipients
    cut = capped_header(to)
    assert len(cut) <= MAX_HEADER_CHARS and cut == to[: len(cut)] and to[len(cut)] == ","
    message = parse_mail(mail_with_subject("Hello").replace(b"To: me@example.com", f"To: {to}".encode()), "x", "1")
    assert isinstance(message, Message) and message.recipients is not None
    assert message.recipients.startswith("person0@example.com, ") and len(message.recipients) <= MAX_HEADER_CHARS
    assert capped_header("=?utf-8?q?caf=C3=A9?=") == "=?utf-8?q?caf=C3=A9?="  # short headers untouched


# ----- 2. deep JSON


def deep(secret: str = SECRET) -> str:
    return "[" * DEEP + json.dumps(secret) + "]" * DEEP


def write_json_array(folder: Path) -> Path:
    path = folder / "inbox.json"
    path.write_text(f'[{{"text": "before"}}, {deep()}, {{"text": "after"}}]')
    return path


def write_jsonl(folder: Path) -> Path:
    path = folder / "inbox.jsonl"
    path.write_text(f'{{"text": "before"}}\n{{"text": {deep()}}}\n{{"text": "after"}}\n')
    return path


def write_slack(folder: Path) -> Path:
    root = folder / "slack"
    (root / "general").mkdir(parents=True)
    (root / "users.json").write_text(json.dumps([{"id": "U1", "name": "ana"}]))
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general", "members": ["U1"]}]))
    day = '[{{"type": "message", "user": "U1", "text": "before", "ts": "1700000000.0"}}, {}, ' + (
        '{{"type": "message", "user": "U1", "text": "after", "ts": "1700000060.0"}}]'
    )
    (root / "general" / "2026-01-05.json").write_text(day.format('{"blocks": ' + deep() + "}"))
    return root


def write_telegram(folder: Path) -> Path:
    path = folder / "result.json"
    message = '{{"id": {0}, "type": "message", "date": "2026-01-05T10:00:00", "from": "Ana", "text": {1}}}'
    messages = ", ".join([message.format(1, '"before"'), message.format(2, deep()), message.format(3, '"after"')])
    path.write_text(f'{{"name": "Ana", "type": "personal_chat", "id": 7, "messages": [{messages}]}}')
    return path


def write_messenger(folder: Path) -> Path:
    path = folder / "inbox" / "ana_1" / "message_1.json"
    path.parent.mkdir(parents=True)
    message = '{{"sender_name": "Ana", "timestamp_ms": {0}, "content": {1}, "type": "Generic"}}'
    messages = ", ".join([message.format(3, '"before"'), message.format(2, deep()), message.format(1, '"after"')])
    path.write_text(f'{{"participants": [{{"name": "Ana"}}, {{"name": "Me"}}], "messages": [{messages}], '
                    '"title": "Ana", "thread_path": "inbox/ana_1"}')  # fmt: skip
    return path


DEEP_EXPORTS = {
    "json": (write_json_array, "record 2"),
    "jsonl": (write_jsonl, "line 2"),
    "slack": (write_slack, "general/2026-01-05.json, record 2"),
    "telegram": (write_telegram, "chat 1, message 2"),
    "messenger": (write_messenger, "message 2"),
}


@linux_only
@pytest.mark.parametrize("fmt", DEEP_EXPORTS)
def test_a_record_nested_100000_deep_is_one_skip_within_the_cap(tmp_path: Path, fmt: str) -> None:
    """ijson's paths took 5.7 GB (a JSON array) and 21.8 GB (a Slack day) on 200 KB; json.loads stopped a
    JSON Lines file at the deep line: now that record is skipped, the limit named, and the next one read."""
    write, location = DEEP_EXPORTS[fmt]
    found, records, seconds = probe(write(tmp_path))
    assert found == fmt
    assert [(kind, text) for kind, _, _, text, _ in records] == [("Message", "before"), ("BadRecord", ""),
                                                                  ("Message", "after")]  # fmt: skip
    _, where, reason, _, _ = records[1]
    assert where == location and reason == f"JSON nested deeper than {MAX_JSON_DEPTH} levels; not read"
    assert seconds < 20


@linux_only
def test_a_deep_json_object_is_told_and_read_as_one_bad_json_line(tmp_path: Path) -> None:
    """Sniffing a .json file that is one deep object: ijson.parse's paths and json.loads both failed."""
    path = tmp_path / "export.json"
    path.write_text('{"text": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}\n" + '{"text": "after"}\n')
    fmt, records, _ = probe(path)
    assert fmt == "jsonl"
    assert [(kind, where, text) for kind, where, _, text, _ in records] == [("BadRecord", "line 1", ""),
                                                                            ("Message", "", "after")]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        (b"[" * 65 + b"]" * 65, True),
        (b"[" * 64 + b"]" * 64, False),
        (b'{"a": "' + b"[" * 200 + b'"}', False),  # brackets inside a string do not nest
        (b'{"a": "\\"' + b"{" * 200 + b'"}', False),  # nor after an escaped quote
        (b"[" + b'{"a": [1, 2, {"b": [[3]]}]}, ' * 100 + b"0]", False),  # many brackets, shallow
        (b'"' + b'\\"' * 20_000 + b"[" * 70, False),  # a string never closed, measured in linear time
    ],
)
def test_nesting_is_measured_outside_strings(text: bytes, deeper: bool) -> None:
    assert nested_deeper(text) is deeper


def test_a_deep_line_in_json_lines_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    lines = [json.dumps({"text": f"message {i}"}) for i in range(5)]
    lines[2] = '{"text": ' + "[" * 70 + "]" * 70 + "}"
    path.write_text("\n".join(lines) + "\n")
    messages, bad, _ = split(list(read_inbox(path)))
    assert [m.text for m in messages] == ["message 0", "message 1", "message 3", "message 4"]
    assert [(b.location, b.reason) for b in bad] == [
        ("line 3", f"JSON nested deeper than {MAX_JSON_DEPTH} levels; not read")
    ]


# ----- 3. xlsx parts and cells

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml"'
    b' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml"'
    b' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml"'
    b' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def cell(ref: str, text: bytes | None = None, shared: int | None = None) -> bytes:
    if shared is not None:
        return f'<c r="{ref}" t="s"><v>{shared}</v></c>'.encode()
    return f'<c r="{ref}" t="inlineStr"><is><t>'.encode() + (text or b"") + b"</t></is></c>"


def write_xlsx(path: Path, sheet: list[tuple[bytes, int]], strings: list[tuple[bytes, int]] | None = None) -> Path:
    """An .xlsx with one sheet ``Inbox`` whose XML is ``sheet`` (pieces, as ``write_zip`` takes them)."""
    start = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">'.encode() + cell("A1", b"id") + cell("B1", b"text")
    members = {
        "[Content_Types].xml": [(CONTENT_TYPES, 1)],
        "_rels/.rels": [(f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument"'
                         ' Target="xl/workbook.xml"/></Relationships>'.encode(), 1)],
        "xl/workbook.xml": [(f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets><sheet name="Inbox" sheetId="1"'
                             ' r:id="rId1"/></sheets></workbook>'.encode(), 1)],
        "xl/_rels/workbook.xml.rels": [(f'<Relationships xmlns="{RELS}"><Relationship Id="rId1"'
                                        f' Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
                                        "</Relationships>".encode(), 1)],
        "xl/worksheets/sheet1.xml": [(start + b"</row>", 1), *sheet, (b"</sheetData></worksheet>", 1)],
        "xl/sharedStrings.xml": [(f'<sst xmlns="{MAIN}">'.encode(), 1), *(strings or []), (b"</sst>", 1)],
    }  # fmt: skip
    return write_zip(path, members)


GIB_OF_A = [(b"a" * (1 << 20), 1 << 10)]  # 1 GiB unpacked, about 1 MB zipped


@linux_only
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_an_xlsx_part_of_1_gib_is_refused_within_the_cap(tmp_path: Path, part: str) -> None:
    """One 1 GiB cell (1 MB zipped) took 2.35 GB in openpyxl: the zip's own sizes refuse it unread."""
    path = tmp_path / "big.xlsx"
    if part == "xl/sharedStrings.xml":
        row = b'<row r="2">' + cell("A2", b"1") + cell("B2", shared=0) + b"</row>"
        write_xlsx(path, [(row, 1)], [(b"<si><t>", 1), *GIB_OF_A, (b"</t></si>", 1)])
    else:
        write_xlsx(path, [(b'<row r="2">' + cell("A2", b"1") + cell("B2", b""), 1), *GIB_OF_A, (b"</row>", 1)])
    assert path.stat().st_size < 2 << 20
    code = f"""
    try:
        list(read_inbox(Path({str(path)!r})))
        result = None
    except ValueError as error:
        result = str(error)
    """
    reason = str(run_capped(READ, code)["result"])
    assert str(path) in reason and repr(part) in reason and f"{MAX_XLSX_PART_BYTES:,}-byte cap" in reason
    assert "aaaa" not in reason


def test_a_cell_over_the_excel_limit_is_one_skipped_row(tmp_path: Path) -> None:
    path = tmp_path / "inbox.xlsx"
    rows = [
        b'<row r="2">' + cell("A2", b"1") + cell("B2", b"Could we talk?") + b"</row>",
        b'<row r="3">' + cell("A3", b"2") + cell("B3", b"x" * (MAX_CELL_CHARS + 1)) + b"</row>",
        b'<row r="4">' + cell("A4", b"3") + cell("B4", b"Thanks!") + b"</row>",
    ]
    write_xlsx(path, [(row, 1) for row in rows])
    messages, bad, _ = split(list(read_inbox(path)))
    assert [m.text for m in messages] == ["Could we talk?", "Thanks!"]
    assert [(b.location, b.field) for b in bad] == [("sheet 'Inbox', row 3", "text")]
    assert f"{MAX_CELL_CHARS + 1:,} characters" in bad[0].reason and "xxx" not in bad[0].reason


def test_a_small_crafted_workbook_reads(tmp_path: Path) -> None:
    """The crafted workbook of these tests is one openpyxl reads (so the refusals above are the caps')."""
    path = write_xlsx(tmp_path / "ok.xlsx", [(b'<row r="2">' + cell("A2", b"1") + cell("B2", shared=0) + b"</row>", 1)],
                      [(b"<si><t>Hello there</t></si>", 1)])  # fmt: skip
    [message] = list(read_inbox(path))
    assert isinstance(message, Message) and message.text == "Hello there"
