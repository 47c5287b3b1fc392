"""Batch scoring of an inbox: results file, summary, skip-and-count, single vs multi-core."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from boundaryline.cli import main as cli
from boundaryline.inbox import BadRecord, read_inbox
from boundaryline.predict import Scorer
from boundaryline.progress import TerminalReporter
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.scoring.output import RESULT_COLUMNS
from boundaryline.settings import Settings

EXAMPLES = Path(__file__).parents[2] / "data" / "examples"
QUIET = ScoreOptions()


def write_inbox(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "from", "to", "date", "text"])
        for i in range(rows):
            writer.writerow([f"m{i}", f"s{i % 7}@example.com", "me@example.com", f"2026-10-01T{i % 24:02d}:00:00+00:00",
                             ["Coffee next week?", "Fourth email, why no reply??", "Dinner, just us? You look great"][i % 3] + f" #{i}"])  # fmt: skip
        writer.writerow(["bad", "x@example.com", "me@example.com", "", "  "])
        writer.writerow(["bad2", "too", "many", "fields", "here", "!"])
    return path


def test_results_summary_and_skips(tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path) -> None:
    inbox = write_inbox(tmp_path / "inbox.csv", 30)
    out = tmp_path / "out" / "results.csv"
    report = io.StringIO()
    summary = score_inbox(inbox, settings=tiny_trained, options=QUIET, scorer=tiny_scorer, out=out,
                          reporter=TerminalReporter(out=report, err=io.StringIO()))  # fmt: skip
    assert (summary.scored, summary.skipped) == (30, 2)
    assert [r["location"] for r in summary.skipped_records] == ["line 32", "line 33"]
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == RESULT_COLUMNS
    assert [r["id"] for r in rows] == [f"m{i}" for i in range(30)]
    for row in rows:
        p = [float(row[f"p_{label}"]) for label in ("professional", "pestering", "inappropriate_proposition")]
        assert sum(p) == pytest.approx(1.0, abs=1e-3)
        assert row["flagged"] == str(row["label"] != "professional")
    saved = json.loads((out.parent / "results.summary.json").read_text())
    assert saved["scored"] == 30 and saved["skipped"] == 2
    assert sum(saved["labels"].values()) == 30
    assert {s["sender"] for s in saved["senders_by_concern"]} == {f"s{i}@example.com" for i in range(7)}
    assert "Senders ranked by concern" in (out.parent / "results.summary.md").read_text()
    assert "Skipped records (2)" in report.getvalue()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "no temp files left behind"


def test_one_core_and_two_give_the_same_output(tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path) -> None:
    inbox = write_inbox(tmp_path / "inbox.csv", 45)
    outputs = []
    for jobs in (1, 2):
        out = tmp_path / f"r{jobs}.jsonl"
        options = ScoreOptions(output_format="jsonl", jobs=jobs, chunk_size=8)
        score_inbox(inbox, settings=tiny_trained, options=options, scorer=tiny_scorer, out=out)
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 45


def test_a_failed_run_leaves_no_results_file(tiny_trained: Settings, tmp_path: Path) -> None:
    class Broken(Scorer):
        def __init__(self) -> None:
            self.manifest = {"version": "broken"}
            self.thresholds = {}

        def score(self, *args: object, **kwargs: object) -> list:  # type: ignore[override]
            raise RuntimeError("model exploded")

    out = tmp_path / "results.csv"
    with pytest.raises(RuntimeError, match="exploded"):
        score_inbox(write_inbox(tmp_path / "i.csv", 5), settings=tiny_trained, options=QUIET, scorer=Broken(), out=out)
    assert list(tmp_path.iterdir()) == [tmp_path / "i.csv"]


def test_score_command_exit_codes(tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)
    assert cli(["score", str(EXAMPLES / "inbox.mbox"), "--out", str(tmp_path / "a.csv"), "-q"]) == 0
    # one record skipped: the results are written, so 0; --strict makes any skip an error
    assert cli(["score", str(EXAMPLES / "inbox.csv"), "--out", str(tmp_path / "b.csv"), "-q"]) == 0
    assert cli(["score", str(EXAMPLES / "inbox.csv"), "--out", str(tmp_path / "c.csv"), "-q", "--strict"]) == 1
    assert cli(["score", str(tmp_path / "missing.mbox"), "-q"]) == 2


def test_owner_messages_are_not_in_the_flagged_list(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    summary = score_inbox(EXAMPLES / "inbox.mbox", settings=tiny_trained, options=QUIET, scorer=tiny_scorer,
                          out=tmp_path / "r.csv")  # fmt: skip
    assert summary.scored == 26
    assert all("priya.raman" not in (entry["sender"] or "") for entry in summary.flagged)
    assert all(s["sender"] != "priya.raman@example.com" for s in summary.senders)


@pytest.mark.parametrize(("explain", "rows_with_terms"), [("none", "none"), ("flagged", "flagged"), ("all", "all")])
def test_which_rows_get_their_evidence(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path, explain: str, rows_with_terms: str
) -> None:
    out = tmp_path / "r.csv"
    score_inbox(write_inbox(tmp_path / "i.csv", 12), settings=tiny_trained, options=ScoreOptions(explain=explain),
                scorer=tiny_scorer, out=out)  # fmt: skip
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        expected = {"none": False, "all": True, "flagged": row["flagged"] == "True"}[rows_with_terms]
        assert bool(row["top_terms"]) == expected, row


def test_unknown_explain_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="explain must be one of flagged, all, none"):
        ScoreOptions(explain="some")


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("{tmp}", "is a folder; name a file in it"),
        ("{inbox}", "would write over (or into) the inbox"),
        ("{tmp}/r.json", "cannot tell the format from '.json'"),
        ("{tmp}/r", "cannot tell the format from 'no extension'"),
    ],
)
def test_bad_output_paths_are_refused_before_anything_is_written(
    tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    out: str, message: str,
) -> None:  # fmt: skip
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)
    inbox = write_inbox(tmp_path / "inbox.csv", 3)
    before = inbox.read_bytes()
    assert cli(["score", str(inbox), "--out", out.format(tmp=tmp_path, inbox=inbox), "-q"]) == 2
    assert message in capsys.readouterr().err
    assert inbox.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inbox.csv"]


def test_the_format_follows_the_extension(tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    score_inbox(write_inbox(tmp_path / "i.csv", 3), settings=tiny_trained, options=QUIET, scorer=tiny_scorer, out=out)
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["m0", "m1", "m2"]


def test_unreadable_files_are_bad_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "eml"
    folder.mkdir()
    (folder / "a.eml").write_bytes(b"From: a@example.com\nSubject: hi\n\nHello there\n")
    locked = folder / "b.eml"
    locked.write_bytes(b"From: b@example.com\n\nSecret\n")
    locked.chmod(0)  # unreadable for a normal user; root reads anything, so the refusal is also simulated
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", refuse)
    records = list(read_inbox(folder))
    bad = [r for r in records if isinstance(r, BadRecord)]
    assert [(b.location, b.reason) for b in bad] == [("b.eml", "cannot read the file (Permission denied)")]


def test_an_mbox_cut_off_inside_a_message_reports_it(tmp_path: Path) -> None:
    box = tmp_path / "cut.mbox"
    box.write_bytes(b"From a@x Mon Oct  5 09:00:00 2026\nFrom: a@x\nSubject: one\n\nFirst.\n\n"
                    b"From b@x Mon Oct  5 10:00:00 2026\nFrom: b@x\nSubject: tw")  # fmt: skip
    records = list(read_inbox(box))
    assert [r.text for r in records if not isinstance(r, BadRecord)] == ["First."]
    assert [(r.location, r.reason) for r in records if isinstance(r, BadRecord)] == [
        ("record 2", "the file ends inside this message (truncated export?)")
    ]


def test_a_csv_header_is_never_echoed(tmp_path: Path) -> None:
    path = tmp_path / "no-header.csv"
    path.write_text("Dinner tonight just the two of us?,ana@example.com\nsecond,row\n")
    with pytest.raises(ValueError) as error:
        list(read_inbox(path))
    assert "Dinner" not in str(error.value) and "header" in str(error.value)


def test_undecodable_or_headerless_input_is_never_echoed(
    tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)
    binary = tmp_path / "program"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8 + b"\nSECRET,\xff\xfe\n")
    assert cli(["-v", "score", str(binary), "--format", "csv", "--out", str(tmp_path / "a.csv")]) == 2
    captured = capsys.readouterr()
    assert "ELF" not in captured.err + captured.out and "SECRET" not in captured.err + captured.out
    assert str(binary) in captured.err and "not a CSV file" in captured.err
    headerless = tmp_path / "no-header.csv"
    headerless.write_text("Dinner tonight just the two of us?,ana@example.com\nsecond,row\n")
    assert cli(["-v", "score", str(headerless), "--out", str(tmp_path / "b.csv")]) == 2
    captured = capsys.readouterr()
    assert "Dinner" not in captured.err + captured.out and str(headerless) in captured.err


SIGNAL_SCRIPT = """
import sys, time
import boundaryline.scoring.parts as parts
original = parts.score_chunk
def slow(*args, **kwargs):
    print("scoring", flush=True)
    time.sleep(30)
    return original(*args, **kwargs)
parts.score_chunk = slow
from boundaryline.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_leaves_no_temp_file_and_says_what_was_finished(
    tiny_trained: Settings, tmp_path: Path, signum: int
) -> None:
    script = tmp_path / "run.py"
    script.write_text(SIGNAL_SCRIPT)
    out = tmp_path / "out" / "results.csv"
    env = {**os.environ, "BOUNDARYLINE_ROOT": str(tiny_trained.root)}
    run = subprocess.Popen([sys.executable, str(script), "score", str(write_inbox(tmp_path / "i.csv", 5)), "--out", str(out), "-q"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert run.stdout is not None and run.stdout.readline() == "scoring\n"
    run.send_signal(signum)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130
    assert "0 message(s) had been scored; no results file was written" in err
    assert "Traceback" not in err
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_snippets_only_when_asked(tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path, jobs: int) -> None:
    """Results hold no message text unless ``--snippets`` asks for each text's first 200 characters."""
    inbox = write_inbox(tmp_path / "inbox.csv", 12)
    long_text = "Could we talk about the role next week? " * 10
    with inbox.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(["long", "z@example.com", "me@example.com", "2026-10-02T10:00:00+00:00", long_text])
    plain, with_snippets = tmp_path / "a" / "r.csv", tmp_path / "b" / "r.csv"
    for out, snippets in ((plain, False), (with_snippets, True)):
        options = ScoreOptions(jobs=jobs, snippets=snippets)
        score_inbox(inbox, settings=tiny_trained, options=options, scorer=tiny_scorer, out=out)
    assert "Coffee next week" not in plain.read_text(encoding="utf-8-sig")
    with plain.open(encoding="utf-8-sig") as handle:
        assert {row["snippet"] for row in csv.DictReader(handle)} == {""}
    with with_snippets.open(encoding="utf-8-sig") as handle:
        rows = {row["id"]: row["snippet"] for row in csv.DictReader(handle)}
    assert rows["m0"] == "Coffee next week? #0"
    assert rows["long"] == " ".join(long_text.split())[:200].rstrip() and len(rows["long"]) <= 200
