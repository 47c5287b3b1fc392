"""Batch scoring of an inbox: results file, summary, skip-and-count, single vs multi-core."""

import csv
import io
import json
from pathlib import Path

import pytest

from boundaryline.batch import RESULT_COLUMNS, ScoreOptions, score_inbox
from boundaryline.cli import main as cli
from boundaryline.predict import Scorer
from boundaryline.settings import Settings

EXAMPLES = Path(__file__).parents[2] / "data" / "examples"
QUIET = ScoreOptions(quiet=True)


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
    summary = score_inbox(inbox, settings=tiny_trained, options=QUIET, scorer=tiny_scorer, out=out, report=report)
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
        options = ScoreOptions(output_format="jsonl", jobs=jobs, quiet=True, chunk_size=8)
        score_inbox(inbox, settings=tiny_trained, options=options, scorer=tiny_scorer, out=out, report=io.StringIO())
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 45


def test_a_failed_run_leaves_no_results_file(tiny_trained: Settings, tmp_path: Path) -> None:
    class Broken(Scorer):
        def __init__(self) -> None:
            self.manifest = {"version": "broken"}

        def score(self, *args: object, **kwargs: object) -> list:  # type: ignore[override]
            raise RuntimeError("model exploded")

    out = tmp_path / "results.csv"
    with pytest.raises(RuntimeError, match="exploded"):
        score_inbox(write_inbox(tmp_path / "i.csv", 5), settings=tiny_trained, options=QUIET, scorer=Broken(), out=out)
    assert list(tmp_path.iterdir()) == [tmp_path / "i.csv"]


def test_score_command_exit_codes(tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)
    assert cli(["score", str(EXAMPLES / "inbox.mbox"), "--out", str(tmp_path / "a.csv"), "-q"]) == 0
    assert cli(["score", str(EXAMPLES / "inbox.csv"), "--out", str(tmp_path / "b.csv"), "-q"]) == 1  # one skipped
    assert cli(["score", str(tmp_path / "missing.mbox"), "-q"]) == 2


def test_owner_messages_are_not_in_the_flagged_list(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    summary = score_inbox(EXAMPLES / "inbox.mbox", settings=tiny_trained, options=QUIET, scorer=tiny_scorer,
                          out=tmp_path / "r.csv", report=io.StringIO())  # fmt: skip
    assert summary.scored == 26
    assert all("priya.raman" not in (entry["sender"] or "") for entry in summary.flagged)
    assert all(s["sender"] != "priya.raman@example.com" for s in summary.senders)


@pytest.mark.parametrize(("explain", "rows_with_terms"), [("none", "none"), ("flagged", "flagged"), ("all", "all")])
def test_which_rows_get_their_evidence(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path, explain: str, rows_with_terms: str
) -> None:
    out = tmp_path / "r.csv"
    score_inbox(write_inbox(tmp_path / "i.csv", 12), settings=tiny_trained, options=ScoreOptions(explain=explain, quiet=True),
                scorer=tiny_scorer, out=out, report=io.StringIO())  # fmt: skip
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        expected = {"none": False, "all": True, "flagged": row["flagged"] == "True"}[rows_with_terms]
        assert bool(row["top_terms"]) == expected, row


def test_unknown_explain_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="explain must be one of flagged, all, none"):
        ScoreOptions(explain="some")
