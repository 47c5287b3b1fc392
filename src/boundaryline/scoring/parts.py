"""Partitioned scoring: every partition of the archive (``partitions.py``) is read, scored and written to its
own part files by a worker, on this machine's cores (``--jobs N``) or on a Dask cluster (``--engine dask``);
the parent only merges, in partition order, into the one results file.

Batch scoring has two passes, and so has this:

1. a worker reads and scores a partition and writes one record per message into ``part-N.scored.pickle``: the
   message without its text (the fields the sender history needs first) and its text side
   (``output.TextSide``: text label, probabilities, evidence);
2. on this machine's cores the parent reads the history fields of every part, in partition order, and
   computes the history verdicts as one process does (they depend on every earlier message of a sender);
   on a Dask cluster the workers do it, grouped by counterparty (``dask_engine.DaskEngine.finish``); each
   partition's lines are then joined to their verdicts and written by a worker as a piece of the results
   file (``output.write_rows``); the parent appends the pieces under the header.

The results file is byte for byte the same on every engine and for any number of partitions, and the
summary the same. Every part
and piece is written to a temp file and renamed into place, so a worker killed mid-partition leaves none
and a rerun replaces it whole. The parent never holds a message's text.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from boundaryline.files import AtomicFile
from boundaryline.inbox import BadRecord, SystemNotice
from boundaryline.inbox.tabular import RangeCursor
from boundaryline.predict import Scorer, load_scorer
from boundaryline.processes import forked_pool
from boundaryline.progress import Reporter
from boundaryline.scoring.history import Cues, Kept, rank_senders, run_history
from boundaryline.scoring.output import (
    BatchSummary,
    ResultsWriter,
    ScoreOptions,
    TextSide,
    check_outputs,
    chunks,
    results_path,
    score_chunk,
    write_summary,
)
from boundaryline.scoring.part_files import (
    PART_SUFFIX,
    PartResult,
    Piece,
    PieceJob,
    decode_kept,
    encode_part_line,
    part_lines,
    piece_path,
    write_piece,
)
from boundaryline.scoring.partitions import (
    DEFAULT_TARGET_BYTES,
    MIN_TARGET_BYTES,
    Partition,
    ReadOptions,
    expand_inputs,
    plan_partitions,
    read_partition,
    whole_file,
)
from boundaryline.senders import SenderSummary
from boundaryline.settings import Settings

PARTITIONS_PER_WORKER = 4  # enough pieces that a slow one does not leave the other workers idle at the end


_WORKER_SCORER: dict[tuple[str, str], Scorer] = {}


def worker_scorer(settings: Settings, version: str) -> Scorer:
    """The model, loaded and verified (sha256) once per worker process, then reused for every partition."""
    key = (str(settings.models_dir), version)
    if key not in _WORKER_SCORER:
        _WORKER_SCORER[key] = load_scorer(settings, version)
    return _WORKER_SCORER[key]


def score_partition(
    partition: Partition,
    *,
    settings: Settings,
    version: str,
    options: ScoreOptions,
    parts_dir: Path,
    scorer: Scorer | None = None,
) -> PartResult:
    """Read, score and write one partition (in a worker: the model is the worker's, loaded once)."""
    scorer = scorer or worker_scorer(settings, version)
    cursor = RangeCursor() if partition.ranged else None
    records = read_partition(partition, read_options(options, settings), cursor)
    stem = f"part-{partition.index:06d}"
    path = parts_dir / f"{stem}{PART_SUFFIX}"
    rows = AtomicFile(path, durable=False, private=True)  # it lives only until the end of the run
    not_scored: list[BadRecord | SystemNotice] = []
    scored = 0
    try:
        for messages, bad in chunks(records, options.chunk_size):
            not_scored += bad
            for message, score in zip(messages, score_chunk(messages, scorer, options.explain), strict=True):
                side = TextSide.of(score, message.text if options.snippets else None)
                rows.handle.write(encode_part_line(message, score.label, Cues.of(message.text), side))
            scored += len(messages)
        rows.commit()
    except BaseException:
        rows.abort()
        raise
    return PartResult(
        partition.index,
        path,
        scored,
        tuple(not_scored),
        cursor.offset if cursor is not None else None,
    )


def read_options(options: ScoreOptions, settings: Settings) -> ReadOptions:
    return ReadOptions(
        fmt=options.fmt,
        text_column=options.text_column,
        delimiter=options.delimiter,
        sheet=options.sheet,
        max_chars=settings.max_text_chars,
    )


class Engine(Protocol):
    """Where partitions run: ``map`` runs ``task`` on each item (anything with an ``index``) and yields the
    results as they complete; entered once for both passes of a run."""

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc: object) -> None: ...

    def map(self, items: Sequence[Any], task: Callable[[Any], Any]) -> Iterator[Any]: ...


class InProcess:
    """One item after the other, in this process (``--jobs 1`` over several inputs)."""

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, items: Sequence[Any], task: Callable[[Any], Any]) -> Iterator[Any]:
        for item in items:
            yield task(item)


class ForkedCores:
    """``jobs`` worker processes forked from this one once ``scorer`` is loaded and verified here: they
    inherit it instead of loading it again (``processes.forked_pool``)."""

    def __init__(self, jobs: int, scorer: Scorer, settings: Settings) -> None:
        self.jobs, self.scorer, self.settings = jobs, scorer, settings

    def __enter__(self) -> ForkedCores:
        _WORKER_SCORER[(str(self.settings.models_dir), self.scorer.version)] = self.scorer  # what workers find
        self.pool = forked_pool(self.jobs)
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(cancel_futures=True)

    def map(self, items: Sequence[Any], task: Callable[[Any], Any]) -> Iterator[Any]:
        futures = [self.pool.submit(task, item) for item in items]
        for future in as_completed(futures):
            yield future.result()


def _unmet_files(partitions: Sequence[Partition], results: dict[int, PartResult]) -> list[Path]:
    """Files whose byte ranges did not meet: a range's reader stopped elsewhere than where the next began."""
    unmet = []
    for partition in partitions:
        result = results[partition.index]
        if partition.ranged and partition.end is not None and result.stopped_at != partition.end:
            unmet.append(partition.path)
    return unmet


def score_parts(
    partitions: Sequence[Partition],
    task: Callable[[Partition], PartResult],
    engine: Engine,
    progress: tqdm,
    reporter: Reporter,
    *,
    read_kept: bool = True,
) -> list[tuple[PartResult, list[Kept]]]:
    """The first pass: every partition's result and kept fields (none unless ``read_kept``), in partition
    order; a file whose ranges did not meet is read again whole. A part's kept fields are read as soon as it
    completes, while the workers score the rest (the parent would otherwise wait idle, then read them all)."""
    done: dict[int, tuple[PartResult, list[Kept]]] = {}
    for result in engine.map(partitions, task):
        done[result.index] = (result, _read_kept(result) if read_kept else [])
        progress.update(1)
    unmet = _unmet_files(partitions, {index: result for index, (result, _) in done.items()})
    if unmet:
        again = [whole_file(p) for p in partitions if p.path in unmet and p.index == _first_of(partitions, p.path)]
        reporter.note(f"{len(again)} file(s) did not split at record boundaries; reading each whole")
        progress.total = (progress.total or 0) + len(again)
        for p in partitions:
            if p.path in unmet:
                del done[p.index]
        for result in engine.map(again, task):
            done[result.index] = (result, _read_kept(result) if read_kept else [])
            progress.update(1)
    return [done[index] for index in sorted(done)]


def _read_kept(result: PartResult) -> list[Kept]:
    return [decode_kept(fields) for fields in part_lines(result.rows)]


def _first_of(partitions: Sequence[Partition], path: Path) -> int:
    return min(p.index for p in partitions if p.path == path)


def count_parts(results: Sequence[PartResult], summary: BatchSummary, reporter: Reporter) -> None:
    """What the first pass could not score (reported and counted) and what it scored, into ``summary``."""
    for result in results:
        for record in result.not_scored:
            if isinstance(record, SystemNotice):
                summary.count_notice(record)
                continue
            summary.skip(record)
            reporter.note(f"skipped {record}")
        summary.scored += result.scored


def merge_parts(
    parts: Sequence[tuple[PartResult, list[Kept]]],
    summary: BatchSummary,
    options: ScoreOptions,
    settings: Settings,
    output_format: str,
    engine: Engine,
) -> tuple[list[Piece], list[SenderSummary]]:
    """The second pass (see the module's docstring): the history verdicts here, over the kept fields of every
    part in partition order; each partition's rows finished by the workers. Returns the pieces, in partition
    order, and the senders ranked."""
    kept = [k for _, part_kept in parts for k in part_kept]
    summary.owner, verdicts, summary.history_applied = run_history(kept, options.owner_names, settings)
    jobs, start = [], 0
    for result, _ in parts:
        job_verdicts = tuple(verdicts[start : start + result.scored])
        jobs.append(PieceJob(result.index, result.rows, job_verdicts, output_format, piece_path(result, output_format)))
        start += result.scored
    pieces = sorted(engine.map(jobs, write_piece), key=lambda piece: piece.index)
    return pieces, rank_senders(kept, verdicts, settings)


def append_pieces(pieces: Sequence[Piece], summary: BatchSummary, out: Path, output_format: str) -> None:
    """The pieces appended in partition order to the results file under its header; their tallies counted."""
    writer = ResultsWriter(out, output_format)
    try:
        for piece in pieces:
            writer.append_piece(piece.path)
            summary.outgoing += piece.outgoing
            summary.labels.update(piece.labels)
            summary.flagged += piece.flagged
        writer.commit()
    except BaseException:
        writer.abort()
        raise


def score_partitioned(
    inputs: Sequence[Path],
    *,
    settings: Settings,
    options: ScoreOptions,
    scorer: Scorer | None = None,
    out: Path | None = None,
    reporter: Reporter | None = None,
) -> BatchSummary:
    """Score an archive partition by partition on the engine ``options`` names (``run.score_inbox`` is this):
    the same results file, summary and report on every engine."""
    reporter = reporter or Reporter()
    paths = expand_inputs(inputs)
    out, output_format = results_path(paths[0], out, options.output_format, settings.reports_dir)
    check_outputs(out, [*inputs, *paths])
    scorer = scorer or load_scorer(settings)  # verified here first: a bad model stops the run before any work
    workers = jobs_of(options)
    partitions = plan_partitions(paths, read_options(options, settings), target_bytes(paths, workers, options))
    summary = BatchSummary(
        inbox=" ".join(str(path) for path in inputs),
        results_file=str(out),
        model_version=scorer.version,
        thresholds=scorer.thresholds,
    )
    parts_dir = out.with_name(f".{out.name}.parts-{uuid.uuid4().hex[:12]}")  # made once the engine is ready
    in_process = options.engine == "local" and workers == 1
    worker_settings = settings.model_copy(update={"api_key": None})  # workers need no secret; a cluster may be shared
    task = partial(
        score_partition,
        settings=worker_settings,
        version=scorer.version,
        options=options,
        parts_dir=parts_dir,
        scorer=scorer if in_process else None,
    )
    progress = reporter.bar(
        total=len(partitions), unit="partition", desc=f"scoring ({options.engine}, {len(partitions)} partitions)"
    )
    engine: Engine
    cluster = None
    if options.engine == "dask":
        from boundaryline.scoring.dask_engine import DaskEngine

        engine = cluster = DaskEngine(options.scheduler, workers, settings.dask_dashboard, reporter)
    else:
        engine = InProcess() if in_process else ForkedCores(workers, scorer, settings)
    try:
        with engine:
            # Private: with --snippets the part files hold the start of each message.
            parts_dir.mkdir(parents=True, mode=0o700)
            # On a cluster the history pass runs there too (``DaskEngine.finish``): this process then
            # never holds the messages' history fields.
            parts = score_parts(partitions, task, engine, progress, reporter, read_kept=cluster is None)
            progress.close()
            count_parts([result for result, _ in parts], summary, reporter)
            if cluster is not None:
                results = [result for result, _ in parts]
                pieces, senders = cluster.finish(results, summary, options, worker_settings, output_format)
            else:
                pieces, senders = merge_parts(parts, summary, options, settings, output_format, engine)
            append_pieces(pieces, summary, out, output_format)
    except BaseException as error:
        error.add_note(f"{summary.scored} message(s) had been scored; no results file was written")
        raise
    finally:
        progress.close()
        shutil.rmtree(parts_dir, ignore_errors=True)
    write_summary(summary, senders, out, reporter)
    return summary


def jobs_of(options: ScoreOptions) -> int:
    """Worker processes: ``--jobs``, -1 meaning every core."""
    return max(1, os.cpu_count() or 1) if options.jobs < 0 else max(1, options.jobs)


def target_bytes(paths: Sequence[Path], workers: int, options: ScoreOptions) -> int:
    """About ``PARTITIONS_PER_WORKER`` partitions per worker over the archive's bytes, from 64 KiB to 16 MiB
    each (``options.partition_bytes`` sets it)."""
    if options.partition_bytes is not None:
        return options.partition_bytes
    total = sum(_size(path) for path in paths)
    return min(DEFAULT_TARGET_BYTES, max(MIN_TARGET_BYTES, total // (workers * PARTITIONS_PER_WORKER)))


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


__all__ = ["Engine", "PartResult", "Piece", "merge_parts", "score_partition", "score_partitioned"]
