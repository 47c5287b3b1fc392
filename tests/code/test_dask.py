"""The Dask engine on a 2-worker LocalCluster (processes): the results and summary of the local engine, and a
worker killed mid-run costs a retry, never a duplicated or lost message."""

from __future__ import annotations

import csv
import io
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from boundaryline.inbox import Message
from boundaryline.predict import Scorer
from boundaryline.progress import TerminalReporter
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.scoring.history import Cues, rank_senders, run_history
from boundaryline.scoring.output import BatchSummary, TextSide
from boundaryline.scoring.part_files import (
    PART_SUFFIX,
    PartResult,
    PieceJob,
    decode_kept,
    decode_row,
    encode_part_line,
    part_lines,
    write_piece,
)
from boundaryline.settings import LABELS, Settings
from tests.archive import make_archive

distributed = pytest.importorskip(
    "distributed", reason="dask is not installed: pip install -e '.[dask]' (the dev extra has it) to run the Dask tests"
)

SMALL = 700  # bytes per partition: many partitions, so both workers and every split path are used


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as local:
        yield local


def run(archive: list[Path], settings: Settings, scorer: Scorer | None, out: Path, **options: Any) -> dict[str, Any]:
    summary = score_inbox(
        archive,
        settings=settings,
        options=ScoreOptions(partition_bytes=SMALL, **options),
        scorer=scorer,
        out=out,
        reporter=TerminalReporter(quiet=True),  # notes on stderr, as the command line shows them
    )
    return summary.to_dict() | {"results_file": None}


def test_the_dask_engine_gives_the_local_engines_results(
    archive: list[Path],
    tiny_trained: Settings,
    tiny_scorer: Scorer,
    cluster: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = run(archive, tiny_trained, tiny_scorer, tmp_path / "local.csv")

    def never(*args: object) -> None:
        raise AssertionError("the client read the messages' history fields: the history pass belongs on the cluster")

    monkeypatch.setattr("boundaryline.scoring.parts._read_kept", never)  # the client process only; workers are others
    dask = run(archive, tiny_trained, None, tmp_path / "dask.csv", engine="dask", scheduler=cluster.scheduler_address)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert dask == local  # label counts, flagged messages, senders ranked (runs, gaps), skipped records
    assert local["scored"] > 200 and local["skipped"] > 0 and local["senders_by_concern"]
    # the history pass ran on the cluster over something to follow: the owner's replies, patterns that fired
    rows = list(csv.DictReader(io.StringIO((tmp_path / "local.csv").read_text(encoding="utf-8-sig"))))
    assert local["history_applied"] and local["outgoing"] > 0
    assert any(row["fired"] in ("pattern", "both") for row in rows), "no pattern fired: the test follows nothing"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no part files left behind"


def test_a_worker_killed_mid_run_is_retried_and_nothing_is_lost_or_doubled(
    archive: list[Path], tiny_trained: Settings, tiny_scorer: Scorer, cluster: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"

    class KillOnce(distributed.WorkerPlugin):  # defined here: pickled by value to the workers
        def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
            if finish == "executing" and str(key).endswith("partition-000005") and not marker.exists():
                marker.touch()
                os._exit(1)  # the worker process dies in the middle of the run, its task unfinished

    with distributed.Client(cluster) as client:
        client.register_plugin(KillOnce(), name="kill-once")
        try:
            dask = run(
                archive, tiny_trained, None, tmp_path / "dask.jsonl", engine="dask", scheduler=cluster.scheduler_address
            )
        finally:
            client.unregister_worker_plugin("kill-once")
    assert marker.exists(), "a worker was killed"
    local = run(archive, tiny_trained, tiny_scorer, tmp_path / "local.jsonl")
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert dask == local


def test_the_engine_starts_its_own_local_cluster(
    archive: list[Path], tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = run(archive[:2], tiny_trained, tiny_scorer, tmp_path / "local.csv")
    dask = run(archive[:2], tiny_trained, None, tmp_path / "dask.csv", engine="dask", jobs=2)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert dask == local
    # Its scheduler and dashboard on loopback (issue 23): the link printed is where it listens, never 0.0.0.0.
    assert "Dask: a LocalCluster on this machine, dashboard http://127.0.0.1:" in capsys.readouterr().err


class SynchronousClient:
    """Stands in for a ``distributed.Client``: the same graphs, run in this process one task at a time."""

    def compute(self, collections: Any, sync: bool = True) -> Any:
        import dask

        if isinstance(collections, list):
            return list(dask.compute(*collections, scheduler="sync"))
        return dask.compute(collections, scheduler="sync")[0]


PEOPLE = ["o@x.com", "a@x.com", "b@x.com", "noreply@x.com", "Owner <O@x.com>", "", "c@x.com", "LinkedIn Member"]


def _random_parts(rng: random.Random, folder: Path) -> list[PartResult]:
    """Part files as the first pass writes them, of messages with what makes the history hard: the owner in
    two spellings, outgoing mail from others, no sender, automated senders, several recipients, self-addressed
    mail, undated and equal times, empty parts, placeholder senders in several conversations, list mail."""
    results, number = [], 0
    for index in range(rng.randint(1, 4)):
        lines = []
        for _ in range(rng.randint(0, 9)):
            recipients = ", ".join(rng.sample([p for p in PEOPLE if p], rng.randint(0, 3))) or None
            hours = rng.choice([0, 1, 2, 5, 30, 200])
            date = None if rng.random() < 0.2 else datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours)
            message = Message(f"m{number}", "", "", rng.choice(PEOPLE), recipients, date,
                              direction=rng.choice([None, None, "incoming", "outgoing"]),
                              thread=rng.choice([None, "t1", "t2"]),
                              channel=rng.choice([None, "email", "text_message", "chat"]),
                              mailing_list=rng.choice([None, None, None, "list@x.com"]))  # fmt: skip
            label = rng.choice(LABELS)
            cues = Cues(refusal=rng.random() < 0.3, request=rng.random() < 0.7)
            lines.append(encode_part_line(message, label, cues, TextSide(label, (0.3, 0.3, 0.4), "")))
            number += 1
        path = folder / f"part-{index:06d}{PART_SUFFIX}"
        path.write_bytes(b"".join(lines))
        results.append(PartResult(index, path, len(lines), (), None))
    return results


@pytest.mark.parametrize("owner", [None, "o@x.com", "Owner <O@x.com>"])
def test_the_history_on_the_cluster_is_the_history_of_one_process(owner: str | None, tmp_path: Path) -> None:
    """``DaskEngine.finish`` (the group-by on counterparties) against the one-process history pass, on 80
    random exports each: the same pieces of the results file, byte for byte, and the same sender ranking."""
    from boundaryline.scoring.dask_engine import DaskEngine

    engine = DaskEngine.__new__(DaskEngine)  # no cluster: the graphs run here
    engine.client = SynchronousClient()
    settings = Settings(root=tmp_path, pattern_min_unanswered=2)
    options = ScoreOptions(owner=owner)
    for seed in range(80):
        folder = tmp_path / str(seed)
        folder.mkdir()
        results = _random_parts(random.Random(seed), folder)
        kept = [decode_kept(fields) for r in results for fields in part_lines(r.rows)]
        owner, verdicts, applied = run_history(kept, options.owner_names, settings)
        expected, start = [], 0
        for r in results:
            job = PieceJob(
                r.index, r.rows, tuple(verdicts[start : start + r.scored]), "jsonl", folder / f"one-{r.index}"
            )
            expected.append(write_piece(job).path.read_bytes())
            start += r.scored
        on_cluster = BatchSummary(inbox="", results_file="", model_version="")
        pieces, senders = engine.finish(results, on_cluster, options, settings, "jsonl")
        assert [piece.path.read_bytes() for piece in pieces] == expected, f"seed {seed}"
        assert [s.to_dict() for s in senders] == [s.to_dict() for s in rank_senders(kept, verdicts, settings)], seed
        assert (on_cluster.owner, on_cluster.history_applied) == (owner, applied), f"seed {seed}"


def test_a_blank_owner_is_refused() -> None:
    with pytest.raises(ValueError, match="holds no address"):
        ScoreOptions(owner=" ")


def test_a_local_cluster_listens_on_loopback_unless_settings_open_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its scheduler and dashboard bind 127.0.0.1 (was the dashboard on 0.0.0.0 behind a 127.0.0.1 link);
    ``dask_dashboard`` opens it, or turns it off."""
    import distributed

    from boundaryline.progress import Reporter
    from boundaryline.scoring.dask_engine import DaskEngine

    seen: list[dict[str, object]] = []

    class Refused(Exception):
        pass

    def local_cluster(**kwargs: object) -> None:
        seen.append(kwargs)
        raise Refused

    monkeypatch.setattr(distributed, "LocalCluster", local_cluster)
    for dashboard, expected in (("127.0.0.1:0", "127.0.0.1:0"), ("0.0.0.0:8787", "0.0.0.0:8787"), ("", None)):
        with pytest.raises(Refused), DaskEngine(None, 2, dashboard, Reporter()):
            pass
        assert seen[-1]["host"] == "127.0.0.1" and seen[-1]["dashboard_address"] == expected
    assert Settings().dask_dashboard == "127.0.0.1:0"


def test_part_records_read_back_as_written(tmp_path: Path) -> None:
    """Records that repeat values (the empty strings, a sender) read back as written, record by record, and a
    part file that names a class is refused rather than run."""
    import pickle

    messages = [Message(f"m{i}", "", "", "ana@x.com", "o@x.com", None, subject="" if i % 2 else "hi") for i in range(5)]
    sides = [TextSide("professional", (0.9, 0.05, 0.05), "" if i % 2 else "coffee (+0.10)") for i in range(5)]
    path = tmp_path / f"part-000000{PART_SUFFIX}"
    path.write_bytes(
        b"".join(
            encode_part_line(m, "professional", Cues(False, True), s) for m, s in zip(messages, sides, strict=True)
        )
    )
    for fields, message, side in zip(part_lines(path), messages, sides, strict=True):
        found, found_side = decode_row(fields)
        assert (found.id, found.subject, found_side) == (message.id, message.subject, side)
    path.write_bytes(pickle.dumps(Path("x")))
    with pytest.raises(pickle.UnpicklingError, match="plain values only"):
        list(part_lines(path))
