"""Benchmarks (``make bench``, ``python -m benchmarks.bench``): every row of issue 12's table, each a ratio of
two figures taken in the same run, since these machines are shared and noisy.

- batch: ``score_inbox`` end to end on a generated 50,000-row CSV against the bare pipeline (``joblib.load``
  + ``pandas.read_csv`` + ``predict_proba`` in chunks of 1,000), with and without evidence; ``--jobs 2`` vs 1.
- one message: ``Scorer.score([text])`` against ``pipeline.predict_proba([text])``, and the folded scorer's
  probabilities against the pipeline's on the whole corpus and challenge set.
- service: the app (1 worker) against a bare FastAPI app whose route takes the same request schema and
  returns a constant answer (``bare_app``, here), same client, same run; and the scoring-thread variant.
- mail: real list mail (``data/external/real-mail/maildir``) read and scored in-process, start-up excluded;
  a generated mbox of the same mail with attachments (~50 MB) scored by ``boundaryline score``, with its
  peak memory beside that of half of it.
- start-up: import + load + first score in a fresh process; ``boundaryline score`` of 10 messages; ``serve``
  to ``/readyz``.
- memory: peak RSS of ``boundaryline score`` on the 50,000-row CSV (one process, ``--jobs 2``) and of a
  service worker.

Results go to ``reports/bench/<part>.json`` and ``reports/bench/summary.json`` (the table), and the paths are
printed; the generated inputs (a 50,000-row CSV, a ~50 MB mbox) live in a temporary folder removed at the end.
``docs/benchmarks.md`` is the written account of a run, edited by hand from those files.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import pandas as pd
from fastapi import FastAPI

from boundaryline.data import load_challenge, load_corpus
from boundaryline.files import write_atomic
from boundaryline.inbox import Message, read_inbox
from boundaryline.predict import load_scorer
from boundaryline.registry import current_version, load_pipeline
from boundaryline.settings import Settings, get_settings

# Module level, not inside bare_app: FastAPI resolves the route annotations from these globals.
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


def _best(runs: dict[str, list[float]], name: str, seconds: float) -> None:
    runs.setdefault(name, []).append(seconds)


def _timed(work: Any) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _cpu_result(work: Any) -> tuple[float, Any]:
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def _cpu_timed(work: Any) -> float:
    """The CPU time this process spent on ``work``: for single-process work on a machine shared with
    other jobs, far steadier than the wall clock (a busy spell of another process does not count)."""
    start = time.process_time()
    work()
    return time.process_time() - start


def bench_batch(settings: Settings, n: int, out_dir: Path, rounds: int = 2) -> dict[str, Any]:
    """``score_inbox`` (model load included) against the bare pipeline on the same CSV, in CPU time of this
    process; ``--jobs 2`` against 1 in wall time. The best of ``rounds`` interleaved runs of each."""
    from boundaryline.scoring import ScoreOptions, score_inbox

    inbox = out_dir / f"inbox-{n}.csv"
    generate_inbox(inbox, load_corpus(settings)["text"].tolist(), n)
    model_file = settings.models_dir / str(current_version(settings.models_dir)) / "model.joblib"

    def bare() -> None:
        pipeline = joblib.load(model_file)
        texts = pd.read_csv(inbox)["text"].tolist()
        for i in range(0, len(texts), 1000):
            pipeline.predict_proba(texts[i : i + 1000])

    def ours(explain: str, jobs: int = 1) -> None:
        score_inbox(
            inbox,
            settings=settings,
            options=ScoreOptions(jobs=jobs, explain=explain),
            scorer=load_scorer(settings),
            out=out_dir / f"results-{jobs}-{explain}.csv",
        )

    runs: dict[str, list[float]] = {}  # CPU seconds, one process
    walls: dict[str, list[float]] = {}  # wall seconds, for --jobs (several processes)
    for _ in range(rounds):
        _best(runs, "bare", _cpu_timed(bare))
        _best(runs, "none", _cpu_timed(lambda: ours("none")))
        _best(runs, "flagged", _cpu_timed(lambda: ours("flagged")))
        _best(walls, "flagged_jobs1", _timed(lambda: ours("flagged")))
        _best(walls, "flagged_jobs2", _timed(lambda: ours("flagged", jobs=2)))
    _best(runs, "all", _cpu_timed(lambda: ours("all")))
    best = {name: min(times) for name, times in runs.items()}
    breakdown = batch_breakdown(settings, inbox, best["none"])
    rate = {name: n / seconds for name, seconds in best.items()}
    wall = {name: min(times) for name, times in walls.items()}
    return {
        "messages": n,
        "rounds": rounds,
        "cpu_seconds_best": best,
        "messages_per_cpu_s": rate,
        "wall_seconds_best": wall,
        "ratio_explain_none_vs_bare": rate["none"] / rate["bare"],
        "ratio_default_vs_bare": rate["flagged"] / rate["bare"],
        "ratio_explain_all_vs_bare": rate["all"] / rate["bare"],
        "speedup_jobs2_vs_jobs1": wall["flagged_jobs1"] / wall["flagged_jobs2"],
        "cpu_us_per_message_explain_none": breakdown,
        "jobs_note": "in-process score_inbox, partitioned --jobs (forked workers read and write their own byte ranges); end-to-end figures in scaling.json",
    }


def batch_breakdown(settings: Settings, inbox: Path, total_seconds: float) -> dict[str, float]:
    """Where ``score --explain none`` spends its CPU per message: reading the records, scoring, the
    history cues, and the rest (history pass, rows, summary), beside the bare reference's two steps."""
    from boundaryline.scoring.history import Cues

    scorer = load_scorer(settings)
    pipeline = load_pipeline(settings.models_dir, scorer.version)[0]
    read, records = _cpu_result(lambda: list(read_inbox(inbox)))
    texts = [r.text for r in records if isinstance(r, Message)]
    score = _cpu_timed(lambda: [scorer.score(texts[i : i + 1000]) for i in range(0, len(texts), 1000)])
    cues = _cpu_timed(lambda: [Cues.of(t) for t in texts])
    pandas_read, frame = _cpu_result(lambda: pd.read_csv(inbox))
    bare_texts = frame["text"].tolist()
    bare = _cpu_timed(
        lambda: [pipeline.predict_proba(bare_texts[i : i + 1000]) for i in range(0, len(bare_texts), 1000)]
    )
    n = len(texts)
    parts = {"read_records": read, "score": score, "history_cues": cues}
    parts["history_rows_summary"] = total_seconds - sum(parts.values())
    parts |= {"total": total_seconds, "bare_pandas_read_csv": pandas_read, "bare_predict_proba": bare}
    return {name: seconds / n * 1e6 for name, seconds in parts.items()}


def bench_one_message(settings: Settings, samples: int = 500) -> dict[str, Any]:
    """One message in-process: ``Scorer.score([text])`` against the pipeline's ``predict_proba([text])``,
    interleaved; and the folded probabilities against the pipeline's on every corpus and challenge text."""
    scorer = load_scorer(settings)
    pipeline = load_pipeline(settings.models_dir, scorer.version)[0]
    corpus, challenge = load_corpus(settings)["text"].tolist(), load_challenge(settings)["text"].tolist()
    texts = random.Random(1).sample(corpus, samples)
    for text in texts[:50]:  # warm-up
        scorer.score([text])
        pipeline.predict_proba([text])
    ours, bare = [], []
    for text in texts:
        ours.append(_timed(lambda: scorer.score([text])) * 1000)  # noqa: B023 (called at once)
        bare.append(_timed(lambda: pipeline.predict_proba([text])) * 1000)  # noqa: B023
    everything = corpus + challenge
    gap = float(np.abs(scorer.predict_proba(everything) - pipeline.predict_proba(everything)).max())
    return {
        "score_p50_ms": statistics.median(ours),
        "predict_proba_p50_ms": statistics.median(bare),
        "speedup": statistics.median(bare) / statistics.median(ours),
        "max_probability_gap_corpus_and_challenge": gap,
        "texts_checked": len(everything),
    }


def bare_app() -> FastAPI:
    """The reference for the service: nothing but a route that takes the same request schema and returns a
    constant answer of the same response model."""
    app = FastAPI()
    answer = ScoreResponse(
        label="professional",
        scores={"professional": 0.8, "pestering": 0.1, "inappropriate_proposition": 0.1},
        flagged=False,
        fired="",
        text_label="professional",
        model_version="bare",
        thresholds={},
    )

    @app.post("/v1/score", response_model=ScoreResponse, response_model_exclude_none=True)
    async def score(request: ScoreRequest) -> ScoreResponse:
        return answer

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


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


def _start_server(
    factory: str, settings: Settings, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--workers", "1"],
        cwd=settings.root,  # so that `benchmarks` is importable in the server process
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"{factory} did not become ready in 60 s")


def bench_service(settings: Settings, seconds: float, rounds: int = 4) -> dict[str, Any]:
    """Single-message requests through uvicorn (1 worker) on loopback at 1 and 8 clients: the service as
    shipped, the same with every call on the scoring thread (``BOUNDARYLINE_INLINE_SCORE_CHARS=0``), and the
    bare app, driven in turn within each level by the same httpx client."""
    texts = load_corpus(settings)["text"].sample(500, random_state=1).tolist()
    bodies = [{"text": t} for t in texts]
    variants = {
        "bare_fastapi": ("benchmarks.bench:bare_app", {}),
        "service": ("service.app:create_app", {}),
        "service_scoring_thread": ("service.app:create_app", {"BOUNDARYLINE_INLINE_SCORE_CHARS": "0"}),
    }
    servers = {name: _start_server(factory, settings, env) for name, (factory, env) in variants.items()}
    results: dict[str, Any] = {"seconds_per_variant_and_level": seconds, "rounds": rounds}
    try:
        for _, url in servers.values():
            asyncio.run(_drive(url, "/v1/score", bodies, 4, 1.0))  # warm-up
        for clients in (1, 8):
            level = f"clients_{clients}"
            # Short slices in turn, several rounds: a busy spell of the machine falls on every variant alike.
            slices: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            for _ in range(rounds):
                for name, (_, url) in servers.items():
                    slices[name].append(asyncio.run(_drive(url, "/v1/score", bodies, clients, seconds / rounds)))
            for name, runs in slices.items():
                results.setdefault(name, {})[level] = {
                    "requests": sum(r["requests"] for r in runs),
                    "requests_per_s": statistics.mean(r["requests_per_s"] for r in runs),
                    "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                    "p99_ms": max(r["p99_ms"] for r in runs),
                }
            rate = {name: results[name][level]["requests_per_s"] for name in servers}
            results[f"ratio_{level}"] = rate["service"] / rate["bare_fastapi"]
            # The same ratio round by round (each pair driven back to back): how far the machine moved it.
            results[f"ratio_by_round_{level}"] = [
                s["requests_per_s"] / b["requests_per_s"]
                for s, b in zip(slices["service"], slices["bare_fastapi"], strict=True)
            ]
            results[f"inline_vs_thread_{level}"] = rate["service"] / rate["service_scoring_thread"]
        return results
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=30)


def _run_measured(command: list[str]) -> tuple[float, float]:
    """Run ``command`` in a child process under ``/usr/bin/time``-like accounting: wall time (s) and the
    child's peak resident memory (MB), read from its own rusage through a tiny wrapper."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True,"
        " stdout=subprocess.DEVNULL); print(time.perf_counter() - t,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *command], check=True, capture_output=True, text=True)
    seconds, peak = out.stdout.split()
    return float(seconds), float(peak)


def generate_mbox_with_attachments(path: Path, mails: list[bytes], copies: int, seed: int = 7) -> None:
    """An mbox of ``mails`` repeated ``copies`` times, two messages in three carrying a binary attachment of
    10-110 KB (a PDF, an image, a spreadsheet), as real mailboxes do."""
    from email import message_from_bytes, policy
    from email.generator import BytesGenerator
    from email.message import EmailMessage

    rng = random.Random(seed)
    kinds = [("application", "pdf", "cv.pdf"), ("image", "jpeg", "photo.jpg"), ("application", "vnd.ms-excel", "a.xls")]
    with path.open("wb") as handle:
        for copy in range(copies):
            for i, raw in enumerate(mails):
                mail = message_from_bytes(raw, policy=policy.default)
                assert isinstance(mail, EmailMessage)
                if (i + copy) % 3:
                    maintype, subtype, name = rng.choice(kinds)
                    with contextlib.suppress(TypeError, ValueError):  # a shape that takes none: left as it is
                        data = rng.randbytes(rng.randrange(10_000, 110_000))
                        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
                handle.write(b"From bench@example.com Thu Jan  1 00:00:00 2026\n")
                buffer = io.BytesIO()
                BytesGenerator(buffer, mangle_from_=True, policy=policy.compat32).flatten(mail)
                handle.write(buffer.getvalue().replace(b"\r\n", b"\n").rstrip(b"\n") + b"\n\n")


def bench_mail(settings: Settings, out_dir: Path) -> dict[str, Any]:
    """Real list mail read and scored in-process (start-up excluded; CPU time of the process); mail with
    attachments end to end (wall time of ``boundaryline score``, start-up included, one job and two), and
    the full mbox with attachments read and scored in this process too (issue 24's raw-mail row: start-up
    excluded, CPU and wall time, the best of three)."""
    from boundaryline.scoring import ScoreOptions, score_inbox

    maildir = settings.real_mail_dir / "maildir"
    results: dict[str, Any] = {}
    if not maildir.is_dir():
        return {"skipped": f"no real mail at {maildir}"}
    files = [p for p in maildir.rglob("*") if p.is_file()]
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    scorer = load_scorer(settings)
    list(read_inbox(maildir))  # warm the file cache

    def read_and_score() -> None:
        out = out_dir / "maildir.results.csv"
        options = ScoreOptions()
        score_inbox(maildir, settings=settings, options=options, scorer=scorer, out=out)

    runs: dict[str, list[float]] = {}
    for _ in range(3):
        _best(runs, "read", _cpu_timed(lambda: list(read_inbox(maildir))))
        _best(runs, "read_and_score", _cpu_timed(read_and_score))
    read, both = min(runs["read"]), min(runs["read_and_score"])
    results["maildir"] = {
        "messages": len(files),
        "megabytes": size_mb,
        "read_messages_per_s": len(files) / read,
        "read_and_score_messages_per_s": len(files) / both,
        "read_and_score_megabytes_per_s": size_mb / both,
    }
    mails = [p.read_bytes() for p in sorted(files)]
    full, half = out_dir / "mail-with-attachments.mbox", out_dir / "mail-with-attachments-half.mbox"
    generate_mbox_with_attachments(full, mails, copies=3)
    generate_mbox_with_attachments(half, mails[: len(mails) // 2], copies=3)
    for name, path in (("mbox_with_attachments", full), ("mbox_with_attachments_half", half)):
        messages = sum(1 for r in read_inbox(path) if isinstance(r, Message))
        seconds, peak = _run_measured(
            [sys.executable, "-m", "boundaryline.cli", "score", str(path), "--out", str(out_dir / f"{name}.csv"), "-q"]
        )
        megabytes = path.stat().st_size / 1e6
        results[name] = {
            "messages": messages,
            "megabytes": megabytes,
            "seconds_end_to_end": seconds,
            "messages_per_s": messages / seconds,
            "megabytes_per_s": megabytes / seconds,
            "peak_rss_mb": peak,
        }
    full_messages = results["mbox_with_attachments"]["messages"]
    seconds, _ = _run_measured(
        [sys.executable, "-m", "boundaryline.cli", "score", str(full), "--out", str(out_dir / "jobs2.csv"), "-q",
         "--jobs", "2"]
    )  # fmt: skip
    results["mbox_with_attachments"]["messages_per_s_jobs2"] = full_messages / seconds

    def score_mbox() -> None:
        score_inbox(full, settings=settings, options=ScoreOptions(), scorer=scorer, out=out_dir / "mbox.results.csv")

    for _ in range(3):
        _best(runs, "mbox_read", _cpu_timed(lambda: list(read_inbox(full))))
        wall, cpu = time.perf_counter(), time.process_time()
        score_mbox()
        _best(runs, "mbox_cpu", time.process_time() - cpu)
        _best(runs, "mbox_wall", time.perf_counter() - wall)
    results["mbox_with_attachments"]["in_process"] = {
        "read_messages_per_s": full_messages / min(runs["mbox_read"]),
        "read_and_score_cpu_messages_per_s": full_messages / min(runs["mbox_cpu"]),
        "read_and_score_wall_messages_per_s": full_messages / min(runs["mbox_wall"]),
    }
    return results


def bench_startup(settings: Settings, out_dir: Path, runs: int = 5) -> dict[str, Any]:
    """Fresh processes, wall time: import + load + first score; ``boundaryline score`` of a 10-message CSV
    end to end; and ``boundaryline serve`` answering ``/readyz`` after its start (issue 24's targets)."""
    code = "from boundaryline.predict import load_scorer; load_scorer().score(['Coffee next week?'])"
    first = [
        _timed(lambda: subprocess.run([sys.executable, "-c", code], check=True, cwd=settings.root)) for _ in range(runs)
    ]
    inbox = out_dir / "ten.csv"
    generate_inbox(inbox, load_corpus(settings)["text"].tolist(), 10)
    cli = [str(Path(sys.executable).with_name("boundaryline")), "score", str(inbox), "--out", str(out_dir / "r.csv")]
    score = [_timed(lambda: subprocess.run([*cli, "-q"], check=True, cwd=out_dir, stdout=subprocess.DEVNULL))
             for _ in range(runs)]  # fmt: skip
    ready = []
    for _ in range(3):
        port = _free_port()
        start = time.perf_counter()
        server = subprocess.Popen(
            [cli[0], "serve", "--port", str(port)], cwd=settings.root, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                time.sleep(0.02)
            ready.append(time.perf_counter() - start)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {
        "seconds_median": statistics.median(first),
        "runs": first,
        "cli_score_10_messages_seconds_median": statistics.median(score),
        "cli_score_runs": score,
        "serve_readyz_seconds_median": statistics.median(ready),
        "serve_readyz_runs": ready,
    }


def bench_memory(settings: Settings, out_dir: Path, n: int) -> dict[str, Any]:
    """Peak resident memory (MB) of ``boundaryline score`` on an ``n``-message CSV (one process, then
    ``--jobs 2``: the largest of the processes), and of one service worker after it has scored a while."""
    inbox = out_dir / f"inbox-{n}.csv"
    generate_inbox(inbox, load_corpus(settings)["text"].tolist(), n)
    cli = [str(Path(sys.executable).with_name("boundaryline")), "score", str(inbox), "-q"]
    _, one = _run_measured([*cli, "--out", str(out_dir / "one.csv")])
    _, two = _run_measured([*cli, "--out", str(out_dir / "two.csv"), "--jobs", "2"])
    server, url = _start_server("service.app:create_app", settings, {})
    try:
        bodies = [{"text": t} for t in load_corpus(settings)["text"].sample(500, random_state=1).tolist()]
        asyncio.run(_drive(url, "/v1/score", bodies, 8, 3.0))
        status = Path(f"/proc/{server.pid}/status").read_text()
        worker = next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "messages": n,
        "score_peak_rss_mb": one,
        "score_jobs2_peak_rss_mb": two,
        "service_worker_peak_rss_mb": worker,
    }


def summary_table(parts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 12's table: each row's figure, its target, and whether it is met."""
    rows: list[dict[str, Any]] = []

    part = ""

    def row(what: str, value: float | None, target: str, met: bool | None) -> None:
        rows.append({"part": part, "what": what, "value": value, "target": target, "met": met})

    if batch := parts.get("batch"):
        part = "batch"
        row("score --explain none vs bare predict_proba", batch["ratio_explain_none_vs_bare"], ">= 0.85",
            batch["ratio_explain_none_vs_bare"] >= 0.85)  # fmt: skip
        row("score (evidence for flagged) vs bare", batch["ratio_default_vs_bare"], ">= 0.75",
            batch["ratio_default_vs_bare"] >= 0.75)  # fmt: skip
        row("--jobs 2 vs --jobs 1 (in-process; end to end in scaling.json)", batch["speedup_jobs2_vs_jobs1"], ">= 1.6",
            batch["speedup_jobs2_vs_jobs1"] >= 1.6)  # fmt: skip
    if one := parts.get("one_message"):
        part = "one_message"
        row("Scorer.score([text]) speed-up vs predict_proba([text])", one["speedup"], ">= 3, gap <= 1e-9",
            one["speedup"] >= 3 and one["max_probability_gap_corpus_and_challenge"] <= 1e-9)  # fmt: skip
    if service := parts.get("service"):
        part = "service"
        for clients in (1, 8):
            ratio = service[f"ratio_clients_{clients}"]
            row(f"service vs bare FastAPI, {clients} client(s)", ratio, ">= 0.80", ratio >= 0.80)
    if mail := parts.get("mail"):
        part = "mail"
        if "maildir" in mail:
            rate = mail["maildir"]["read_and_score_messages_per_s"]
            row("real-mail maildir read + score, msg/s", rate, "(reported)", None)
        if "mbox_with_attachments" in mail:
            full, half = mail["mbox_with_attachments"], mail["mbox_with_attachments_half"]
            rate = full["in_process"]["read_and_score_cpu_messages_per_s"]
            row("raw mail, 60 MB mbox with attachments, read + score in-process, msg/s", rate, ">= 1000", rate >= 1000)
            row("mail with attachments end to end, msg/s", full["messages_per_s"], "(was 176)", None)
            row("peak RSS full / half size", full["peak_rss_mb"] / half["peak_rss_mb"], "memory flat (~1)", None)
    if startup := parts.get("startup"):
        part = "startup"
        row("import + load + first score, s", startup["seconds_median"], "<= 0.25", startup["seconds_median"] <= 0.25)
        if "cli_score_10_messages_seconds_median" in startup:
            cli = startup["cli_score_10_messages_seconds_median"]
            row("boundaryline score of 10 messages, s", cli, "<= 0.5", cli <= 0.5)
            ready = startup["serve_readyz_seconds_median"]
            row("boundaryline serve to /readyz, s", ready, "<= 1.5", ready <= 1.5)
    if memory := parts.get("memory"):
        part = "memory"
        row(f"peak RSS, score of {memory['messages']:,} messages, MB", memory["score_peak_rss_mb"], "(reported)", None)
        row("peak RSS, a --jobs 2 process, MB", memory["score_jobs2_peak_rss_mb"], "(reported)", None)
        row("peak RSS, one service worker, MB", memory["service_worker_peak_rss_mb"], "(reported)", None)
    return rows


PARTS = ("batch", "one_message", "service", "mail", "startup", "memory")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="boundaryline benchmarks (issue 12's table)")
    parser.add_argument("--messages", type=int, default=50_000, help="size of the generated CSV inbox")
    parser.add_argument("--seconds", type=float, default=8.0, help="load time per service variant and level")
    parser.add_argument("--only", choices=PARTS, action="append", help="run only these parts (repeatable)")
    args = parser.parse_args(argv)
    settings = get_settings()
    out_dir = settings.reports_dir / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "model": current_version(settings.models_dir),
        "load_average_at_start": os.getloadavg()[0],
    }
    runners: dict[str, Callable[[Path], dict[str, Any]]] = {  # each given a scratch folder for its inputs
        "batch": lambda work: bench_batch(settings, args.messages, work),
        "one_message": lambda work: bench_one_message(settings),
        "service": lambda work: bench_service(settings, args.seconds),
        "mail": lambda work: bench_mail(settings, work),
        "startup": lambda work: bench_startup(settings, work),
        "memory": lambda work: bench_memory(settings, work, args.messages),
    }
    parts: dict[str, dict[str, Any]] = {}
    for name in args.only or PARTS:
        print(f"bench: {name}…", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=f".{name}-") as work:  # inputs of up to ~50 MB
            parts[name] = meta | runners[name](Path(work))
        path = out_dir / f"{name}.json"
        write_atomic(path, json.dumps(parts[name], indent=2) + "\n")
        print(f"wrote {path}", flush=True)
    for name in PARTS:  # parts not run this time: their latest results, so that the table stays whole
        earlier = out_dir / f"{name}.json"
        if name not in parts and earlier.exists():
            parts[name] = json.loads(earlier.read_text(encoding="utf-8"))
    rows = summary_table(parts)
    for r in rows:
        r["measured"] = next((parts[n]["when"] for n in PARTS if n in parts and r["part"] == n), None)
    path = out_dir / "summary.json"
    write_atomic(path, json.dumps(meta | {"rows": rows}, indent=2) + "\n")
    for r in rows:
        verdict = {True: "met", False: "NOT met", None: ""}[r["met"]]
        print(f"  {r['what']}: {r['value']:.3g} (target {r['target']}) {verdict}")
    print(f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
