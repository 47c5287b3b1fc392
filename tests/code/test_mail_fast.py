"""The fast mail reading (issue 24) reads what the standard library's reading read: the mbox split with
``bytes.find`` gives the messages the line-by-line split gave, ``rawmail.message_from_bytes`` the tree of
parts ``email.message_from_bytes`` gives, and ``headers.plain_value`` / ``plain_date`` the values the header
registry gives. The records are compared with those of the reader as it was, which is the same reader with
its fast paths switched off (every message to the email package, every header to the registry, the mbox
line by line), on the real Maildir (when ../shared's real mail is linked in), on an mbox of it with
attachments, and on crafted shapes that always run."""

from __future__ import annotations

import email
import random
import time
from collections.abc import Callable, Iterable, Iterator
from email.message import EmailMessage
from email.message import Message as Mail
from email.policy import compat32, default
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from boundaryline.inbox import mail as mail_module
from boundaryline.inbox import rawmail
from boundaryline.inbox.headers import plain_date, plain_value
from boundaryline.inbox.mail import read_eml, read_maildir, read_mbox
from boundaryline.settings import Settings
from tests.records import Record

REAL_MAILDIR = Settings().real_mail_source / "maildir"  # read where it is shared: CI links no data/external
needs_real_mail = pytest.mark.skipif(
    not REAL_MAILDIR.is_dir(), reason=f"{REAL_MAILDIR} is absent: the real-mail comparison is NOT run"
)


# ----- the reader as it was: the same code with its fast paths off


class LineByLine:
    """The mbox split as it was before issue 24: ``for line in handle``, the interface of
    ``rawmail.MboxMessages``."""

    def __init__(self, handle: BinaryIO, *, max_bytes: int, start: int = 0, end: int | None = None) -> None:
        self.handle, self.max_bytes, self.start, self.end = handle, max_bytes, start, end
        self.preamble = False

    def __iter__(self) -> Iterator[tuple[bytes, int, bool]]:
        self.handle.seek(self.start)
        offset, started, chunk, size = self.start, False, list[bytes](), 0
        for line in self.handle:
            offset += len(line)
            if line.startswith(b"From "):
                if self.end is not None and offset - len(line) >= self.end:
                    if started:
                        yield b"".join(chunk), size, False
                    return
                if started:
                    yield b"".join(chunk), size, False
                started, chunk, size = True, [], 0
                continue
            if not started:
                self.preamble = self.preamble or bool(line.strip())
                continue
            size += len(line)
            if size <= self.max_bytes:
                chunk.append(line[1:] if line.startswith(b">From ") else line)
        if started:
            yield b"".join(chunk), size, True


def read_as_before(read: Callable[[], Iterable[Record]]) -> list[Record]:
    """What ``read`` reads with every fast path off: the reader before issue 24."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rawmail, "message_from_bytes", lambda raw: email.message_from_bytes(raw, policy=compat32))
        patch.setattr(rawmail, "MboxMessages", LineByLine)
        patch.setattr(mail_module, "plain_value", lambda name, raw: None)
        patch.setattr(mail_module, "plain_date", lambda raw: None)
        return list(read())


def tree(part: Mail) -> tuple[dict[str, Any], Any]:
    """Everything a parsed message holds: headers, Unix From, preamble, epilogue, defects, default type,
    and the payload (each subpart's tree, or the payload string)."""
    state = dict(vars(part))
    payload = state.pop("_payload")
    state["defects"] = [type(defect) for defect in state["defects"]]
    return state, [tree(sub) for sub in payload] if isinstance(payload, list) else payload


def assert_same_tree(raw: bytes) -> None:
    assert tree(rawmail.message_from_bytes(raw)) == tree(email.message_from_bytes(raw, policy=compat32)), raw[:300]


# ----- crafted shapes


def _with_parts() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = '"Lima, Ana" <ana@example.com>', "Priya <priya@example.org>"
    message["Subject"], message["Message-ID"] = "Coffee?", "<m1@example.com>"
    message["Date"] = "Mon, 02 Mar 2026 09:00:00 +0100"
    message.set_content("Coffee next week?\n>From the archive: a line mboxrd escapes\n")
    message.add_alternative("<p>Coffee <b>next</b> week?</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4" + bytes(range(256)) * 60, maintype="application", subtype="pdf",
                           filename="cv.pdf")  # fmt: skip
    message.add_attachment("notes, not the body", filename="notes.txt")  # a text attachment named .txt
    message.add_attachment(b"plain bytes", maintype="application", subtype="octet-stream", filename="a.txt")
    inline = EmailMessage()
    inline.set_content("an inline text part")
    inline.add_header("Content-Disposition", "inline")
    message.attach(inline)
    return message


def _nested() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "ana@example.com"
    message.set_content("Plain.\n")
    message.add_alternative("<p>Only <i>HTML</i></p>", subtype="html")
    html = message.get_payload()[1]
    html.make_related()
    html.add_related(b"\x89PNG" + bytes(300), maintype="image", subtype="png", cid="<img1>")
    message.make_mixed()
    message.add_attachment(bytes(range(256)) * 10, maintype="image", subtype="jpeg", filename="photo.jpg")
    return message


def _html_only() -> bytes:
    message = EmailMessage()
    message["From"] = "ana@example.com"
    message.set_content("<p>Only HTML, in an alternative</p>", subtype="html")
    message.make_alternative()
    return message.as_bytes()


def _forwarded() -> bytes:
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "ben@example.org", "the forwarded one"
    inner.set_content("Forwarded text.")
    outer = EmailMessage()
    outer["From"] = "ana@example.com"
    outer.set_content("")
    outer.add_attachment(inner)
    return outer.as_bytes()


# "|" marks where a line ends in blanks
MIXED = b"""From: ana@example.com
Subject: caf\xe9 8-bit
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

preamble text
--b1
Content-Type: text/plain; charset=utf-8

caf\xc3\xa9 ok
From the body, a line the mbox splits at
--b1 \t
Content-Type: application/pdf; name="x.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b1--  |
epilogue
--b1
still epilogue
""".replace(b"|\n", b"\n")


def _variants() -> list[bytes]:
    """The same multipart written in the ways the parser has to tell apart."""
    base = MIXED
    return [
        base,
        base.replace(b"\n", b"\r\n"),  # CRLF
        base.replace(b"\n", b"\r"),  # bare CR
        base.replace(b"--b1--  \n", b""),  # no closing boundary
        base.replace(b"--b1 \t\n", b"--b1\n--b1\n"),  # boundary lines back to back
        base.replace(b"--b1--  \n", b"--b1--"),  # closing line without its line end
        base.replace(b"preamble text\n", b""),  # no preamble
        base.replace(b"epilogue\n--b1\nstill epilogue\n", b""),  # no epilogue
        base.replace(b'boundary="b1"', b"boundary=b1"),
        base.replace(b'boundary="b1"', b'boundary="b1 "'),  # a trailing blank is not part of it
        base.replace(b'boundary="b1"', b"boundary*=us-ascii''b1"),  # RFC 2231
        base.replace(b'; boundary="b1"', b""),  # multipart without a boundary
        base.replace(b'boundary="b1"', b'boundary=""'),
        base.replace(b"MIME-Version: 1.0\n", b"Content-Transfer-Encoding: base64\n"),  # a multipart's bad CTE
        base.replace(b"--b1 \t\n", b"--b1x\n"),  # not a boundary line: part of the text part
        base.replace(b"--b1 \t\n", b"--b1 x\n"),
        base.replace(b"Content-Type: text/plain; charset=utf-8\n\n", b"\n"),  # a part without headers
        base.replace(b"Content-Type: text/plain; charset=utf-8\n\n", b"Content-Type: text/plain\n"),  # no blank
        base.replace(b"Subject: caf", b"  continued\nSubject: caf"),  # a continuation line first
        base.replace(b"Subject: caf", b"No colon here\nSubject: caf"),  # a body line among the headers
        base.replace(b"Subject: caf", b": no name\nSubject: caf"),
        base.replace(b"Subject: caf", b"From misplaced envelope\nSubject: caf"),
        b"From ana@example.com Mon Mar  2 09:00:00 2026\n" + base,  # a Unix From line first
        base.replace(b"multipart/mixed", b"multipart/digest"),
        base.replace(b"application/pdf", b"message/rfc822"),
        base.replace(b"application/pdf", b"message/delivery-status"),
        base.replace(b"MIME-Version: 1.0\n", b"MIME-Version: 1.0\nContent-Type: text/plain\n"),  # two types
        base.replace(b"Subject: caf\xe9 8-bit\n", b"Subject: =?utf-8?q?caf=C3=A9?=\n\t folded\n"),
    ]


def _deep(levels: int) -> bytes:
    """Multiparts nested ``levels`` deep."""
    raw = b"Content-Type: text/plain\n\ninnermost\n"
    for level in range(levels):
        raw = (
            f'Content-Type: multipart/mixed; boundary="d{level}"\n\n--d{level}\n'.encode()
            + raw
            + f"\n--d{level}--\n".encode()
        )
    return b"From: ana@example.com\n" + raw


def crafted() -> list[bytes]:
    """Every crafted message: the shapes above, nested multiparts, boundaries one the prefix of another, an
    outer boundary inside an inner part, messages with no body at all."""
    with_parts, nested = _with_parts().as_bytes(), _nested().as_bytes()
    inner_prefix = (
        b'From: a@example.com\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        b'Content-Type: multipart/alternative; boundary="b-inner"\n\n--b-inner\n\ninner\n--b\n\nouter\n'
        b"--b-inner--\n--b--\n"
    )
    return [
        b"From: ana@example.com\nSubject: Hello\n\nCoffee on Friday?\n",
        with_parts,
        with_parts.replace(b"\n", b"\r\n"),
        nested,
        nested.replace(b"\n", b"\r\n"),
        _html_only(),
        _forwarded(),
        *_variants(),
        _deep(3),
        _deep(12),  # deeper than the fast reading goes: the email package's
        inner_prefix,
        b"From: a@example.com\nSubject: no body",
        b"From: a@example.com\n",
        b"\n",
        b"",
        b"just text, no headers\n",
        b"Subject: 8-bit name \xc3\xa9\nFrom: \xc3\x81na <ana@example.com>\n\n\xe9t\xe9\n",
    ]


@pytest.mark.parametrize("raw", crafted())
def test_the_tree_is_the_email_packages(raw: bytes) -> None:
    assert_same_tree(raw)


def test_the_tree_is_the_email_packages_on_mutated_messages() -> None:
    """Lines dropped, doubled, cut, turned into boundary lines, line ends changed: 600 random variants."""
    rng = random.Random(24)
    seeds = [MIXED, _with_parts().as_bytes(), _nested().as_bytes(), _deep(3)]
    for _ in range(600):
        lines = rng.choice(seeds).splitlines(keepends=True)
        for _ in range(rng.randint(1, 3)):
            if not lines:
                break
            at = rng.randrange(len(lines))
            change = rng.randrange(7)
            if change == 0:
                del lines[at]
            elif change == 1:
                lines.insert(at, lines[at])
            elif change == 2:
                lines[at] = lines[at][: rng.randrange(len(lines[at]) + 1)]
            elif change == 3:
                boundary = rng.choice([b"--b1", b"--b1--", b"--d0", b"--d1--", b"--" + lines[0][:6]])
                lines.insert(at, boundary + rng.choice([b"\n", b"\r\n", b" \n", b""]))
            elif change == 4:
                lines[at] = lines[at].replace(b"\n", rng.choice([b"\r\n", b"\r", b""]))
            elif change == 5:
                lines.insert(at, rng.choice([b"\n", b"From x\n", b"X-Added: 1\n", b" folded\n", b"no colon\n"]))
            else:
                lines = lines[:at]
        assert_same_tree(b"".join(lines))


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@example.com\nX-Long:" + b" " * 200_000,  # blanks and no line end: no pattern tries them twice
        b"From: a@example.com\nX-Long: x" + b" " * 200_000,
        b"From: a@example.com\nX:\n" + b" \n" * 100_000 + b"\nbody",
    ],
    ids=["blanks-after-the-colon", "blanks-after-a-word", "100000-continuation-lines"],
)
def test_long_runs_take_no_time(raw: bytes) -> None:
    start = time.perf_counter()
    assert_same_tree(raw)
    assert time.perf_counter() - start < 2


def test_common_shapes_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain mail, alternatives, attachments and nested multiparts never reach the email package's parser."""

    def no_parser(raw: bytes, policy: Any = None) -> Mail:
        raise AssertionError("parsed by the email package")

    monkeypatch.setattr(rawmail.email, "message_from_bytes", no_parser)
    for raw in [crafted()[0], _with_parts().as_bytes(), _nested().as_bytes(), _html_only(), MIXED]:
        rawmail.message_from_bytes(raw)


# ----- the mbox split


def write_box(path: Path, mails: list[bytes], *, preamble: bytes = b"", tail: bytes = b"") -> Path:
    separator = b"From MAILER-DAEMON Thu Oct  1 09:30:00 2026\n"
    path.write_bytes(preamble + b"".join(separator + raw.replace(b"\nFrom ", b"\n>From ") + b"\n" for raw in mails))
    with path.open("ab") as handle:
        handle.write(tail)
    return path


def from_lines(path: Path) -> list[int]:
    data = path.read_bytes()
    return [i for i in range(len(data)) if data.startswith(b"From ", i) and (i == 0 or data[i - 1] == 10)]


MBOX_MAILS = [*crafted()[:8], MIXED.replace(b"\n", b"\r\n"), b"From: x@example.com\n\nFrom the start\n>From\n"]


@pytest.mark.parametrize(
    ("preamble", "tail"),
    [
        (b"", b""),
        (b"not mail\n", b""),
        (b"\n\n", b""),
        (b"", b"From y@example.com Mon\nSubject: cut off"),
        (b"", b"From y@example.com Mon\nSubject: x\n\nbody\nFrom a line nobody escaped\nmore\n"),
    ],
    ids=["plain", "preamble", "blank-lines-first", "cut-off-at-the-end", "unescaped-from-line"],
)
@pytest.mark.parametrize("block", [rawmail._BLOCK, 7, 64, 1000])
def test_the_mbox_split_is_the_line_by_line_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preamble: bytes, tail: bytes, block: int
) -> None:
    """Every message, size and truncation, whatever the block size (a From line across two blocks), a cap
    smaller than some messages, and each byte range the partitioner may cut at a From line."""
    monkeypatch.setattr(rawmail, "_BLOCK", block)
    box = write_box(tmp_path / "inbox.mbox", MBOX_MAILS, preamble=preamble, tail=tail)
    for cap in (5_000_000, 300):

        def whole(cap: int = cap) -> Iterable[Record]:
            return read_mbox(box, max_bytes=cap)

        assert list(whole()) == read_as_before(whole)
    starts = from_lines(box)
    with box.open("rb") as handle:
        assert list(rawmail.separator_offsets(handle)) == starts  # where the partitioner may cut
    for before, (start, end) in enumerate(zip(starts, [*starts[1:], None], strict=True)):
        if preamble.strip() and before == 0:
            continue

        def one_range(start: int = start, end: int | None = end, before: int = before) -> Iterable[Record]:
            return read_mbox(box, start=start, end=end, records_before=before)

        assert list(one_range()) == read_as_before(one_range)


# ----- the records, against the reader as it was


def test_crafted_mail_is_read_as_before(tmp_path: Path) -> None:
    folder = tmp_path / "eml"
    folder.mkdir()
    for i, raw in enumerate(crafted()):
        (folder / f"{i:03}.eml").write_bytes(raw)
    assert list(read_eml(folder)) == read_as_before(lambda: read_eml(folder))


def with_attachments(mails: list[bytes]) -> list[bytes]:
    """Two messages in three with a binary attachment of 10-60 KB, as ``benchmarks.bench`` makes its mbox."""
    rng, out = random.Random(7), []
    for i, raw in enumerate(mails):
        message = email.message_from_bytes(raw, policy=default)
        assert isinstance(message, EmailMessage)
        data = rng.randbytes(rng.randrange(10_000, 60_000))
        try:
            if i % 3:
                message.add_attachment(data, maintype="application", subtype="pdf", filename="cv.pdf")
            out.append(message.as_bytes(policy=compat32))
        except (TypeError, ValueError):  # a shape that takes none, or 8-bit text the generator cannot write
            out.append(raw)
    return out


def test_an_mbox_with_attachments_is_read_as_before(tmp_path: Path) -> None:
    box = write_box(tmp_path / "attachments.mbox", with_attachments([raw for raw in crafted() if raw.strip()]))
    assert list(read_mbox(box)) == read_as_before(lambda: read_mbox(box))


@needs_real_mail
def test_the_real_maildir_is_read_as_before() -> None:
    """Every message of the shared Maildir: the same records (texts, headers, ids, skips)."""
    records = list(read_maildir(REAL_MAILDIR))
    before = read_as_before(lambda: read_maildir(REAL_MAILDIR))
    assert [getattr(r, "text", None) for r in records] == [getattr(r, "text", None) for r in before]
    assert records == before


@needs_real_mail
def test_the_real_mail_with_attachments_is_read_as_before(tmp_path: Path) -> None:
    """An mbox of the shared Maildir's first 60 messages, most with an attachment (the benchmark's shape)."""
    files = sorted(p for p in REAL_MAILDIR.rglob("*") if p.is_file())[:60]
    box = write_box(tmp_path / "real.mbox", with_attachments([p.read_bytes() for p in files]))
    assert list(read_mbox(box)) == read_as_before(lambda: read_mbox(box))


@needs_real_mail
def test_the_real_maildir_parses_to_the_email_packages_tree() -> None:
    for file in sorted(p for p in REAL_MAILDIR.rglob("*") if p.is_file()):
        assert_same_tree(file.read_bytes())


# ----- headers


def registry(name: str, raw: str) -> str | None:
    value = default.header_fetch_parse(name, raw)
    return " ".join(str(value).split()) if value else None


PLAIN = [
    ("From", "Ana Lima <ana@example.com>"),
    ("From", "Ana   Lima\t<ana@example.com>  "),
    ("From", "ana@example.com"),
    ("From", "<ana@example.com>"),
    ("From", "Ana<ana@example.com>"),
    ("From", '"Lima, Ana" <ana@example.com>'),
    ("From", '"Ana" <ana@example.com>'),
    ("From", '" Ana B. Lima " <ana@example.com>'),
    ("From", "'Ana Lima' via dev-list <dev@lists.example.org>"),
    ("To", "a@example.com, Ben <b@example.org>,c@example.net"),
    ("To", 'a@example.com, "Lima, Ana" <a.lima@example.com>'),
    ("Reply-To", "ana.lima+news@mail.example.co.uk"),
    ("Sender", "list-bounces@example.org"),
    ("Message-ID", "<abc.123@example.com>"),
    ("Message-ID", "<abc.123@example.com>  "),
    ("Subject", "  Coffee\tnext   week?  "),
    ("Subject", "a\x01control"),
    ("Subject", ""),
    ("Subject", "   "),
    ("List-Id", "Dev list <dev.lists.example.org>"),
    ("X-Gmail-Labels", "Inbox,Sent,Important"),
    ("References", "<a@example.com>\n <b@example.com>"),
]
NOT_PLAIN = [
    ("From", "=?utf-8?q?=C3=81na?= <ana@example.com>"),
    ("From", "Ána <ana@example.com>"),
    ("From", "Ana B. Lima <ana@example.com>"),  # a dot outside quotes: an obsolete phrase
    ("From", '"Ana \\"x\\"" <ana@example.com>'),
    ("From", '"" <ana@example.com>'),
    ("From", "ana@example.com (Ana)"),
    ("To", "undisclosed-recipients:;"),
    ("To", "a@example.com,"),
    ("To", "a@[192.0.2.1]"),
    ("From", "ana.@example.com"),
    ("Message-ID", "<a@b> junk"),
    ("Message-ID", "<a..b@example.com>"),
    ("Subject", "=?utf-8?q?caf=C3=A9?="),
    ("Date", "Mon, 02 Mar 2026 09:00:00 +0100"),
]


@pytest.mark.parametrize(("name", "raw"), PLAIN)
def test_a_plain_header_reads_as_the_registry_reads_it(name: str, raw: str) -> None:
    plain = plain_value(name, raw)
    assert plain is not None
    assert (" ".join(plain.split()) if plain else None) == registry(name, raw)


@pytest.mark.parametrize(("name", "raw"), NOT_PLAIN)
def test_any_other_header_is_left_to_the_registry(name: str, raw: str) -> None:
    assert plain_value(name, raw) is None


def test_random_address_lists_read_as_the_registry_reads_them() -> None:
    rng = random.Random(5)
    pieces = ["ana@x.org", "<ana@x.org>", "Ana Lima", '"Lima, Ana"', '" Ana "', '""', '"a\\"b"', ",", ", ", " ",
              "\t", "(c)", "'Ana' via list", "A.B", "@", "<", ">", ".", "x", "a..b@x", ":", ";", "\n ", "Ana<b@c.d>"]  # fmt: skip
    checked = 0
    for _ in range(4000):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        for name in ("From", "To", "Subject", "Message-ID"):
            plain = plain_value(name, raw)
            if plain is not None:
                checked += 1
                assert (" ".join(plain.split()) if plain else None) == registry(name, raw), (name, raw)
    assert checked > 3000


def registry_date(raw: str) -> Any:
    """The Date as the reader read it before: the registry's value, read by ``parsedate_to_datetime``."""
    value = registry("Date", raw)
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def test_dates_read_as_through_the_registry() -> None:
    rng = random.Random(3)
    zones = ["+0000", "-0000", "+0530", "-0130", "GMT", "UT", "EST", "PDT", "+9999", "XYZ", "", "(UTC)"]
    for _ in range(3000):
        year = rng.choice([rng.randint(0, 99), rng.randint(1900, 2100), rng.randint(100, 9999)])
        raw = (
            f"{rng.choice(['Mon, ', '', 'Tue,'])}{rng.randint(0, 32)} {rng.choice(['Jan', 'Feb', 'Dec', 'xyz'])} "
            f"{year} {rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}:{rng.randint(0, 61):02d} {rng.choice(zones)}"
        )
        date = plain_date(raw)
        if date is not None:
            expected = registry_date(raw)
            assert (date, date.tzinfo) == (expected, expected.tzinfo), raw
