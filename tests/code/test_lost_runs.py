"""Never a lost run (issue 22): a reader that fails part-way, whatever the format, keeps what it read and
reports the failure as one bad record (its type, never a text); the run writes its results."""

from collections.abc import Iterator
from pathlib import Path

import pytest

import boundaryline.inbox.formats as formats
from boundaryline.inbox import FORMATS, BadRecord, Message, read_inbox
from boundaryline.predict import Scorer
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.settings import Settings

READERS = [
    "read_csv", "read_xlsx", "read_jsonl", "read_json_array", "read_mbox", "read_mbox_folder", "read_maildir",
    "read_eml", "read_msg", "read_tnef", "read_linkedin_messages", "read_slack", "read_whatsapp", "read_telegram",
    "read_messenger",
]  # fmt: skip
SECRET = "the words of a private message"


def failing_reader(*args: object, **kwargs: object) -> Iterator[Message]:
    yield Message(id="m1", text="Could we talk next week?", source="x", sender="a@example.com")
    raise RuntimeError(SECRET)  # a bug, a bad byte, a header the parser chokes on: the message may be quoted


@pytest.fixture
def every_reader_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in READERS:
        monkeypatch.setattr(formats, name, failing_reader)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_reader_failing_part_way_is_one_bad_record(every_reader_fails: None, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "export.txt"
    path.write_text("anything\n", encoding="utf-8")
    records = list(read_inbox(path, fmt=fmt))
    assert [type(r) for r in records] == [Message, BadRecord]
    bad = records[1]
    assert isinstance(bad, BadRecord) and bad.location == "after record 1" and "RuntimeError" in bad.reason
    assert SECRET not in str(bad)


def test_the_run_goes_on_and_writes_its_results(
    every_reader_fails: None, tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    path = tmp_path / "inbox.csv"
    path.write_text("id,text\nm1,hello\n", encoding="utf-8")
    out = tmp_path / "out" / "r.csv"
    summary = score_inbox(path, settings=tiny_trained, options=ScoreOptions(), scorer=tiny_scorer,
                          out=out)  # fmt: skip
    assert (summary.scored, summary.skipped) == (1, 1) and out.exists()
    assert SECRET not in (out.parent / "r.summary.json").read_text()


@pytest.mark.parametrize(
    ("name", "broken"),
    [
        ("export.json", b'[{"id": "1", "text": "fine"}, {"id": "2", "text": "my secret address is 12 Elm St" x}]'),
        ("result.json", b'{"name": "c", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "message",'
                        b' "date": "2026-01-01T10:00:00", "from": "A", "text": "my secret address is 12 Elm St" x}]}'),
    ],
)  # fmt: skip
def test_broken_json_is_reported_without_its_text(tmp_path: Path, name: str, broken: bytes) -> None:
    """The JSON parser quotes the input around an error: the reason gives the error's type and place only."""
    path = tmp_path / name
    path.write_bytes(broken)
    bad = [r for r in read_inbox(path) if isinstance(r, BadRecord)]
    assert bad and all("secret" not in str(r) and "Elm" not in str(r) for r in bad)
    assert "not valid JSON" in bad[-1].reason
