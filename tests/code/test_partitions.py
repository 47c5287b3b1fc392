"""Partitioned scoring: the planner's pieces read exactly what the whole file gives, and `--jobs 2` (or several
inputs) writes the same bytes as one process."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from boundaryline.cli import main as cli
from boundaryline.inbox import BadRecord, read_inbox
from boundaryline.predict import Scorer
from boundaryline.progress import TerminalReporter
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.scoring.partitions import ReadOptions, expand_inputs, plan_partitions, read_partition
from boundaryline.settings import Settings
from tests.archive import make_archive, write_csv, write_jsonl, write_mbox

SMALL = 700  # bytes per partition: a few records each, so every split path is taken


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_archive(tmp_path_factory.mktemp("archive"))


@pytest.mark.parametrize("which", range(5), ids=["csv", "jsonl", "mbox", "maildir", "takeout"])
def test_the_partitions_read_what_the_whole_file_gives(archive: list[Path], which: int) -> None:
    path = archive[which]
    partitions = plan_partitions([path], ReadOptions(), SMALL)
    assert [p.index for p in partitions] == list(range(len(partitions)))
    assert len(partitions) > 1
    records = [record for p in partitions for record in read_partition(p, ReadOptions())]
    assert records == list(read_inbox(path))


def test_a_split_mbox_cut_off_or_with_a_preamble_reads_as_whole(tmp_path: Path) -> None:
    cut = write_mbox(tmp_path / "cut.mbox", 9)
    cut.write_bytes(cut.read_bytes()[:-60])  # the export ends inside the last message
    preamble = tmp_path / "preamble.mbox"
    preamble.write_bytes(b"a note before the first separator\n" + write_mbox(tmp_path / "x.mbox", 9).read_bytes())
    for path, split in ((cut, True), (preamble, False)):
        partitions = plan_partitions([path], ReadOptions(), SMALL)
        assert (len(partitions) > 1) == split
        records = [record for p in partitions for record in read_partition(p, ReadOptions())]
        assert records == list(read_inbox(path))
        assert isinstance(records[-1], BadRecord)


def run(inbox: Path | list[Path], settings: Settings, scorer: Scorer | None, out: Path, **options: object) -> dict:
    defaults: dict = {"partition_bytes": SMALL}
    summary = score_inbox(
        inbox,
        settings=settings,
        options=ScoreOptions(**(defaults | options)),
        scorer=scorer,
        out=out,
        reporter=TerminalReporter(quiet=True),  # notes on stderr, as the command line shows them
    )
    return summary.to_dict() | {"results_file": None}


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_two_jobs_write_the_bytes_of_one(
    archive: list[Path], tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path, suffix: str
) -> None:
    inbox = archive[0]
    one = run(
        inbox, tiny_trained, tiny_scorer, tmp_path / f"one{suffix}"
    )  # one process, the partitions one after the other
    two = run(inbox, tiny_trained, tiny_scorer, tmp_path / f"two{suffix}", jobs=2)
    assert (tmp_path / f"one{suffix}").read_bytes() == (tmp_path / f"two{suffix}").read_bytes()
    assert one == two
    assert one["scored"] == 150 and one["skipped"] == 2 and one["history_applied"]


def test_several_inputs_on_one_core_and_on_two(
    archive: list[Path], tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    one = run(archive, tiny_trained, tiny_scorer, tmp_path / "one.csv")
    two = run(archive, tiny_trained, None, tmp_path / "two.csv", jobs=2)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    assert one == two
    each = [run(path, tiny_trained, tiny_scorer, tmp_path / f"{i}.csv") for i, path in enumerate(archive)]
    assert one["scored"] == sum(s["scored"] for s in each)
    assert one["skipped_records"] == [r for s in each for r in s["skipped_records"]]
    every = [row["id"] for i in range(len(archive)) for row in results(tmp_path / f"{i}.csv")]
    assert [row["id"] for row in results(tmp_path / "two.csv")] == every  # each message once, in input order


def results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_stray_quote_that_misleads_the_planner_makes_the_file_read_whole(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An unquoted field holding a quote (legal for Python's csv reader) flips the planner's count, so it cuts
    # inside the quoted, multi-line fields that follow; the range before a cut then does not end at it.
    inbox = tmp_path / "stray.csv"
    lines = ["id,from,to,text", 'q0,a@example.com,me@example.com,Fourth email about the 5" screen']
    for i in range(79):
        lines.append(f'r{i},b{i % 3}@example.com,me@example.com,"Coffee next week?\n' + "line two\n" * 8 + '"')
    inbox.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partitions = plan_partitions([inbox], ReadOptions(), SMALL)
    assert len(partitions) > 1
    one = run(inbox, tiny_trained, tiny_scorer, tmp_path / "one.jsonl")
    two = run(inbox, tiny_trained, tiny_scorer, tmp_path / "two.jsonl", jobs=2)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert one == two and one["scored"] == 80
    assert "did not split at record boundaries" in capsys.readouterr().err


def test_globs_and_folders_of_exports(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_csv(folder / "b.csv", 10)
    write_jsonl(folder / "a.jsonl", 5)
    (folder / "notes.png").write_bytes(b"\x89PNG")
    assert expand_inputs([folder / "*.csv"]) == [folder / "b.csv"]
    with pytest.raises(FileNotFoundError):
        expand_inputs([folder / "*.xlsx"])
    partitions = plan_partitions([folder], ReadOptions(), 1 << 20)
    assert [(p.path.name, p.fmt) for p in partitions] == [("a.jsonl", "jsonl"), ("b.csv", "csv")]


def test_the_score_command_takes_several_paths_and_globs(
    archive: list[Path], tiny_trained: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: tiny_trained)
    folder = archive[0].parent
    out = tmp_path / "all.csv"
    assert cli(["score", str(folder / "inbox.*"), str(archive[3]), "--jobs", "2", "--out", str(out), "-q"]) == 0
    saved = json.loads((tmp_path / "all.summary.json").read_text())
    assert saved["inbox"] == f"{folder / 'inbox.*'} {archive[3]}"
    assert saved["scored"] == len(results(out)) > 200
    assert cli(["score", str(folder / "inbox.c*"), "--out", str(tmp_path / "one.csv"), "-q"]) == 0  # one glob, one job
    assert len(results(tmp_path / "one.csv")) == 150
    assert cli(["score", str(archive[0]), "--scheduler", "tcp://127.0.0.1:1", "-q"]) == 2  # needs --engine dask
    assert cli(["score", str(folder / "*.xlsx"), "-q"]) == 2  # a pattern that matches nothing


def test_a_tsv_in_a_windows_code_page_with_naive_dates_and_a_named_text_column(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox.tsv"
    rows = ["ref\tauthor\trecipient\twhen\tcontenu"]
    for i in range(90):
        text = ["Café next week? Ça me ferait plaisir", "Fourth email, why no reply?? Déjà vu", "Dîner, just us?"][
            i % 3
        ]
        rows.append(
            f"t{i}\ts{i % 4}@example.com\tme@example.com\t2026-10-{1 + i % 28:02d} 09:{i % 60:02d}:00\t{text} #{i}"
        )
    inbox.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    options = {"fmt": "tsv", "text_column": "contenu"}
    one = run(inbox, tiny_trained, tiny_scorer, tmp_path / "one.csv", **options)
    two = run(inbox, tiny_trained, tiny_scorer, tmp_path / "two.csv", jobs=2, **options)
    assert len(plan_partitions([inbox], ReadOptions(fmt="tsv", text_column="contenu"), SMALL)) > 1
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    assert one == two and one["scored"] == 90 and one["skipped"] == 0
    assert "Café" not in (tmp_path / "one.csv").read_text(encoding="utf-8-sig")  # no text in the results
