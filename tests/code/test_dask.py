"""The Dask engine on a 2-worker LocalCluster (processes): the results and summary of the local engine, and a
worker killed mid-run costs a retry, never a duplicated or lost message."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from boundaryline.batch import ScoreOptions, score_inbox
from boundaryline.predict import Scorer
from boundaryline.settings import Settings
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
        options=ScoreOptions(quiet=True, partition_bytes=SMALL, **options),
        scorer=scorer,
        out=out,
        report=io.StringIO(),
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

    monkeypatch.setattr("boundaryline.parts._read_kept", never)  # the client process only; workers are others
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
    assert "Dask: a LocalCluster on this machine" in capsys.readouterr().err
