"""Benchmarks (``make bench``, ``python -m benchmarks.bench``): batch scoring against the bare pipeline, and the HTTP service under load.

Machines here are noisy, so every figure that matters is a ratio measured in the same run: our batch
scorer against ``pipeline.predict_proba`` on the same texts, the service against in-process scoring.
Results go to ``reports/bench/*.json``; the figures are summarised in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from boundaryline.data import load_corpus
from boundaryline.files import write_atomic
from boundaryline.predict import load_scorer
from boundaryline.settings import Settings, get_settings

# Module level, not inside comparison_app: FastAPI resolves the route annotations from these globals.
from service.app import create_app
from service.deps import ScorerDep
from service.schemas import ScoreRequest, ScoreResponse

SENDERS = [
    f"{name}@example.{tld}"
    for name in ("ana", "ben", "chen", "dara", "eli", "femi", "gus", "hana")
    for tld in ("com", "org")
]


def generate_inbox(path: Path, texts: list[str], n: int, seed: int = 42) -> None:
    """A CSV inbox of ``n`` messages drawn from ``texts`` with generated senders, dates and subjects."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "from", "to", "date", "subject", "text"])
        for i in range(n):
            when = start + timedelta(minutes=7 * i + rng.randrange(7))
            writer.writerow(
                [
                    f"g{i}",
                    rng.choice(SENDERS),
                    "owner@example.com",
                    when.isoformat(),
                    f"re: {i % 97}",
                    rng.choice(texts),
                ]
            )


def _peak_rss_mb_of(command: list[str]) -> tuple[float, float]:
    """Run ``command`` in a child process; its wall time (s) and peak resident memory (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def bench_batch(settings: Settings, n: int, out_dir: Path) -> dict[str, Any]:
    """messages/s of ``boundaryline score`` vs ``predict_proba`` on the same texts; peak memory."""
    from boundaryline.batch import ScoreOptions, score_inbox

    texts = load_corpus(settings)["text"].tolist()
    inbox = out_dir / f"inbox-{n}.csv"
    generate_inbox(inbox, texts, n)
    scorer = load_scorer(settings)
    with inbox.open(encoding="utf-8") as handle:
        same_texts = [row["text"] for row in csv.DictReader(handle)]

    start = time.perf_counter()
    for i in range(0, len(same_texts), 1000):  # the same chunking the batch scorer uses
        scorer.pipeline.predict_proba(same_texts[i : i + 1000])
    bare = n / (time.perf_counter() - start)

    results: dict[str, Any] = {"messages": n, "bare_predict_proba_per_s": bare}
    for jobs, explain in ((1, "none"), (1, "flagged"), (2, "flagged"), (1, "all")):
        start = time.perf_counter()
        summary = score_inbox(
            inbox,
            settings=settings,
            options=ScoreOptions(jobs=jobs, explain=explain, quiet=True),
            scorer=scorer,
            out=out_dir / f"results-{jobs}-{explain}.csv",
            report=io.StringIO(),
        )
        rate = summary.scored / (time.perf_counter() - start)
        results[f"score_jobs{jobs}_explain_{explain}_per_s"] = rate
        results[f"ratio_jobs{jobs}_explain_{explain}_vs_bare"] = rate / bare
        results[f"flagged_share_{explain}"] = len(summary.flagged) / summary.scored
    half = out_dir / f"inbox-{n // 4}.csv"
    generate_inbox(half, texts, n // 4)
    for size, path in ((n // 4, half), (n, inbox)):
        _, peak = _peak_rss_mb_of(
            [sys.executable, "-m", "boundaryline.cli", "score", str(path), "--out", str(out_dir / "rss.csv"), "-q"]
        )
        results[f"peak_rss_mb_{size}"] = peak
    return results


async def _drive(url: str, path: str, bodies: list[dict[str, Any]], clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:

        async def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.post(path, json=bodies[i % len(bodies)])
                latencies.append(time.perf_counter() - start)
                response.raise_for_status()
                i += clients

        start = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(clients)))
        elapsed = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {
        "requests": len(ms),
        "requests_per_s": len(ms) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def comparison_app() -> Any:
    """The service as shipped plus ``/v1/score-threadpool``: the same request, dependencies and response
    as ``/v1/score``, but a plain ``def`` route that FastAPI runs in its threadpool, where the shipped
    route is ``async`` and hands scoring to a dedicated executor thread. Both run in one server."""
    app = create_app()

    @app.post("/v1/score-threadpool", response_model=ScoreResponse, response_model_exclude_none=True)
    def score_in_threadpool(request: ScoreRequest, scorer: ScorerDep) -> ScoreResponse:
        [result] = scorer.score([item.text for item in request.items()])
        return ScoreResponse(model_version=scorer.version, **result.to_dict())

    return app


def bench_service(settings: Settings, seconds: float) -> dict[str, Any]:
    """Single-message latency and throughput through uvicorn on loopback, at 1 and 32 clients, for the
    service as shipped (async route, dedicated executor) and for a threadpool variant of the route."""
    texts = load_corpus(settings)["text"].sample(500, random_state=1).tolist()
    bodies = [{"text": t} for t in texts]
    scorer = load_scorer(settings)
    in_process = []
    for text in texts:
        start = time.perf_counter()
        scorer.score([text])
        in_process.append((time.perf_counter() - start) * 1000)
    results: dict[str, Any] = {
        "in_process_p50_ms": statistics.median(in_process),
        "in_process_p99_ms": float(np.percentile(in_process, 99)),
        "seconds_per_level": seconds,
    }
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.bench:comparison_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=settings.root,  # so that `benchmarks` is importable in the server process
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("the service did not become ready in 30 s")
        for path in ("/v1/score", "/v1/score-threadpool"):
            asyncio.run(_drive(url, path, bodies, 4, 1.0))  # warm-up
        # Interleaved, so that drift in the machine's load hits both variants alike.
        for clients in (1, 32):
            for variant, path in (("shipped_executor", "/v1/score"), ("threadpool", "/v1/score-threadpool")):
                results.setdefault(variant, {})[f"clients_{clients}"] = asyncio.run(
                    _drive(url, path, bodies, clients, seconds)
                )
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="boundaryline benchmarks")
    parser.add_argument("--messages", type=int, default=100_000, help="size of the generated inbox")
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per concurrency level")
    parser.add_argument("--only", choices=["batch", "service"])
    args = parser.parse_args(argv)
    settings = get_settings()
    out_dir = settings.reports_dir / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    if args.only in (None, "batch"):
        batch = meta | bench_batch(settings, args.messages, out_dir)
        write_atomic(out_dir / "batch.json", json.dumps(batch, indent=2) + "\n")
        print(json.dumps(batch, indent=2))
    if args.only in (None, "service"):
        service = meta | bench_service(settings, args.seconds)
        write_atomic(out_dir / "service.json", json.dumps(service, indent=2) + "\n")
        print(json.dumps(service, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
