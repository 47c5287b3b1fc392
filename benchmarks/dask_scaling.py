"""Partitioned scoring benchmark (``make bench-scaling``, ``python -m benchmarks.dask_scaling``).

On one generated CSV inbox (texts drawn from the corpus), in one run, rounds interleaved so that a load
change on the machine hits every configuration alike:

- ``boundaryline score --jobs 1`` vs ``--jobs 2``, end to end (a fresh process each: start-up, model load,
  reading, scoring, merging, the summary);
- the Dask engine on a LocalCluster of 1 worker vs one of 2 workers (each started and warmed before the
  clock runs: a real cluster outlives one run; and alone, as idle workers take CPU), and the throughput
  per worker.

Every configuration must write the same results file (checked). Each figure is the best of the rounds (the
one least disturbed by other work on a shared machine; medians are recorded too, with the load average);
the ratios are what matter. Results go to ``reports/bench/scaling.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bench import generate_inbox
from boundaryline.data import load_corpus
from boundaryline.files import write_atomic
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.settings import Settings, get_settings


def _cli_seconds(inbox: Path, out: Path, jobs: int) -> float:
    cli = Path(sys.executable).with_name("boundaryline")
    start = time.perf_counter()
    command = [str(cli), "score", str(inbox), "--out", str(out), "--jobs", str(jobs), "-q"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _dask_seconds(
    inbox: Path, out: Path, settings: Settings, scheduler: str, partition_bytes: int | None = None
) -> float:
    options = ScoreOptions(engine="dask", scheduler=scheduler, partition_bytes=partition_bytes)
    start = time.perf_counter()
    score_inbox(inbox, settings=settings, options=options, out=out)
    return time.perf_counter() - start


def _cpu_split(inbox: Path, out: Path, settings: Settings, jobs: int) -> dict[str, float]:
    """CPU seconds of an in-process run: this process's (reading the plan, the history pass, the merge) and
    its worker processes' (joined by the end of the run, so counted as children)."""
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    score_inbox(inbox, settings=settings, options=ScoreOptions(jobs=jobs), out=out)
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)

    def cpu(after: Any, before: Any) -> float:
        return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    return {"parent": cpu(self_after, self_before), "workers": cpu(children_after, children_before)}


def bench_scaling(settings: Settings, n: int, rounds: int, work: Path) -> dict[str, Any]:
    from distributed import LocalCluster

    inbox, warm = work / f"inbox-{n}.csv", work / "warm-inbox.csv"
    texts = load_corpus(settings)["text"].tolist()
    generate_inbox(inbox, texts, n)
    generate_inbox(warm, texts, 200)
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {"jobs 1": [], "jobs 2": [], "dask 1 worker": [], "dask 2 workers": []}
    outputs = {name: work / f"{name.replace(' ', '-')}.csv" for name in times}
    # Each configuration runs alone: an idle Dask cluster's workers still take CPU (heartbeats, monitors),
    # so a cluster lives only for its own run, started and warmed (the model loaded) before the clock runs.
    for round_ in range(rounds):
        for name in times if round_ % 2 == 0 else reversed(times):
            if name.startswith("jobs"):
                times[name].append(_cli_seconds(inbox, outputs[name], int(name.split()[1])))
            else:
                workers = int(name.split()[1])
                with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0") as cluster:
                    # small partitions: every worker gets one, and loads the model
                    _dask_seconds(warm, work / "warm.csv", settings, cluster.scheduler_address, 4096)
                    times[name].append(_dask_seconds(inbox, outputs[name], settings, cluster.scheduler_address))
            print(f"round {round_ + 1}: {name} {times[name][-1]:.2f} s", file=sys.stderr)
    # Load-independent: the CPU each side spends. With 2 free cores, the wall time of --jobs 2 is at least the
    # parent's share plus half the workers', so this bound is what --jobs 2 could reach on an idle machine.
    one = _cpu_split(inbox, work / "cpu-1.csv", settings, 1)
    two = _cpu_split(inbox, work / "cpu-2.csv", settings, 2)
    reference = outputs["jobs 1"].read_bytes()
    same = {name: path.read_bytes() == reference for name, path in outputs.items()}
    seconds = {name: min(values) for name, values in times.items()}
    median = {name: statistics.median(values) for name, values in times.items()}
    rate = {name: n / s for name, s in seconds.items()}
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "messages": n,
        "rounds": rounds,
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "seconds_best": seconds,
        "seconds_median": median,
        "seconds_all": times,
        "messages_per_s": rate,
        "jobs2_vs_jobs1": seconds["jobs 1"] / seconds["jobs 2"],
        "dask2_vs_dask1": seconds["dask 1 worker"] / seconds["dask 2 workers"],
        "jobs2_vs_jobs1_median": median["jobs 1"] / median["jobs 2"],
        "dask2_vs_dask1_median": median["dask 1 worker"] / median["dask 2 workers"],
        "dask_per_worker_messages_per_s": {
            "1 worker": rate["dask 1 worker"],
            "2 workers": rate["dask 2 workers"] / 2,
        },
        "cpu_seconds_in_process": {"jobs 1": one, "jobs 2": two},
        "jobs2_vs_jobs1_bound_from_cpu": one["parent"] / (two["parent"] + two["workers"] / 2),
        "same_results_file": same,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=50_000, help="rows of the generated inbox")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each configuration (the best is kept)")
    args = parser.parse_args(argv)
    settings = get_settings()
    out_dir = settings.reports_dir / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".scaling-") as work:  # the generated inbox and results
        result = bench_scaling(settings, args.messages, args.rounds, Path(work))
    path = out_dir / "scaling.json"
    write_atomic(path, json.dumps(result, indent=2) + "\n")
    keys = (
        "messages_per_s",
        "jobs2_vs_jobs1",
        "dask2_vs_dask1",
        "jobs2_vs_jobs1_bound_from_cpu",
        "cpu_seconds_in_process",
    )
    print(json.dumps({k: result[k] for k in keys}, indent=2))
    print(f"wrote {path}", flush=True)
    if not all(result["same_results_file"].values()):
        print(f"results files differ: {result['same_results_file']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
