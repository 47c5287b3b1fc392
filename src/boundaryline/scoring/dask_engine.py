"""The Dask engine: partitions scored as tasks on a Dask cluster (``score --engine dask``).

Without a scheduler address, a ``LocalCluster`` of worker processes on this machine; with one, that cluster
(``dask scheduler`` and ``dask worker ADDRESS`` on other machines, Kubernetes, dask-jobqueue…). Each task
reads its partition from the files, scores it with the worker's model (loaded and verified once per
worker) and writes its part files beside the results file: workers and this process must see the same
paths (the project's models and the archive too), as on a shared file system. Only the partition's
description goes to a worker and only a small ``PartResult`` comes back; no message passes through here.

The second pass runs on the cluster too (``DaskEngine.finish``): the inbox's owner and whether the export
holds any of the owner's messages are reductions over the parts; the history verdicts and the sender
ranking come from a group-by on the counterparty (a message's pattern depends only on its sender's messages
and the owner's messages to that sender, in time order), each group followed exactly as one process follows
the whole export (``history.history_verdicts``, ``senders.summarise_senders``); the verdicts then go back to
their partitions, which the workers finish into pieces of the results file. This process receives the pieces'
tallies (label counts and the flagged list) and one summary per sender: never a message's text, nor the
history fields of every message.

A worker that dies mid-task is replaced and its task run again by Dask; the part files are renamed into
place whole, so a rerun replaces, never duplicates. Dask is an optional dependency (``pip install
'boundaryline[dask]'``); the default engine needs none of it.
"""

from __future__ import annotations

import importlib.util
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from functools import partial
from typing import Any

from boundaryline.owner import Owner, OwnerEvidence
from boundaryline.progress import Reporter
from boundaryline.scoring.history import OUTGOING, history_verdicts, owner_of, rank_senders
from boundaryline.scoring.output import BatchSummary, ScoreOptions
from boundaryline.scoring.part_files import (
    HISTORY_FIELDS,
    PartResult,
    Piece,
    decode_kept,
    finish_piece,
    part_lines,
    piece_path,
)
from boundaryline.scoring.partitions import Partition
from boundaryline.senders import SenderSummary, by_concern, people, person
from boundaryline.settings import Settings

CONNECT_SECONDS = 10  # a scheduler on the network answers in well under a second; Dask's own default is 30

HistoryEvent = tuple[str, tuple[int, int, tuple[Any, ...]]]  # a counterparty, and a message's place and history fields


class DaskEngine:
    """An engine (``parts.Engine``) on the cluster at ``scheduler``, or on a new ``LocalCluster`` of ``workers``
    single-threaded worker processes, for the length of a run."""

    def __init__(self, scheduler: str | None, workers: int, dashboard: str, reporter: Reporter) -> None:
        try:
            import distributed
        except ImportError as error:
            raise ValueError(
                "--engine dask needs Dask: pip install 'boundaryline[dask]' (dask and distributed)"
            ) from error
        self.distributed = distributed
        self.scheduler, self.workers = scheduler, workers
        self.dashboard, self.reporter = dashboard, reporter
        self.run_id = uuid.uuid4().hex[:12]  # keys of this run only: a shared scheduler may hold another run's
        self.stack = ExitStack()

    def __enter__(self) -> DaskEngine:
        if not logging.getLogger().isEnabledFor(logging.INFO):  # Dask logs at INFO by its own config; -v shows it
            logging.getLogger("distributed").setLevel(logging.WARNING)
        with ExitStack() as stack:
            if self.scheduler is None:
                cluster = stack.enter_context(
                    self.distributed.LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,  # scoring holds the GIL: one process per core
                        processes=True,
                        host="127.0.0.1",  # the scheduler on loopback: a LocalCluster serves this machine only
                        dashboard_address=self.dashboard or None,  # loopback and a free port unless settings open it
                        silence_logs=logging.ERROR,
                    )
                )
                self.client = stack.enter_context(self.distributed.Client(cluster))
            else:
                self.client = stack.enter_context(self._connect(self.scheduler))
            self.stack = stack.pop_all()
        self.reporter.note(f"Dask: {_where(self.client, self.scheduler)}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def _connect(self, scheduler: str) -> Any:
        """A client of the scheduler at ``scheduler``, or one sentence saying it could not be reached (whatever
        answers there: nothing, a timeout, or a server that is not Dask, whose bytes Dask may read as a length
        of exabytes)."""
        try:
            return self.distributed.Client(scheduler, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, MemoryError, ValueError, TypeError) as error:
            raise ValueError(
                f"--scheduler {scheduler}: no Dask scheduler answered there within {CONNECT_SECONDS} s"
                f" ({type(error).__name__}); check the address, or drop --scheduler for a cluster on this machine"
            ) from None

    def map(self, items: Sequence[Any], task: Callable[[Any], Any]) -> Iterator[Any]:
        """Each item as one task; results as the tasks complete. A task whose worker dies is run again by Dask
        elsewhere; an exception in a task is raised here."""
        kind = "partition" if items and isinstance(items[0], Partition) else "piece"
        futures = [
            self.client.submit(task, item, key=f"boundaryline-{self.run_id}-{kind}-{item.index:06d}") for item in items
        ]
        for future in self.distributed.as_completed(futures):
            yield future.result()
            future.release()

    def finish(
        self,
        results: Sequence[PartResult],
        summary: BatchSummary,
        options: ScoreOptions,
        settings: Settings,
        output_format: str,
    ) -> tuple[list[Piece], list[SenderSummary]]:
        """The second pass on the cluster (see the module's docstring): the pieces of the results file, in
        partition order, and the senders ranked; ``summary.history_applied`` set. ``settings`` go to the
        workers: give them without secrets."""
        import dask.bag as db

        parts = db.from_sequence(results, npartitions=max(1, len(results)))
        tally = parts.map(_tally).fold(_add_tallies, initial=(OwnerEvidence(), set(), False))
        evidence, senders, outgoing = self.client.compute(tally, sync=True)
        summary.owner = owner = owner_of(evidence, options.owner_names, settings)
        summary.history_applied = applied = owner.decided and (outgoing or bool(owner.aliases & senders))
        judged = (
            parts.map(partial(_events, owner=owner))
            .flatten()
            .groupby(_counterparty, shuffle="tasks")
            .map(partial(_judge, owner=owner, applied=applied, settings=settings))
            .flatten()
        )
        # Back to their partitions, one group each (a placeholder per partition: every one gets its piece,
        # also one whose messages were all judged where they are), finished in parallel.
        placeholders = db.from_sequence([("verdict", r.index, None, None) for r in results], npartitions=1)
        pieces = (
            db.concat([judged.filter(_is_verdict), placeholders])
            .groupby(_part_of, shuffle="tasks", npartitions=max(1, len(results)))
            .map(partial(_finish, by_index={r.index: r for r in results}, owner=owner, applied=applied,
                         settings=settings, output_format=output_format))
        )  # fmt: skip
        ranking = judged.filter(_is_sender).map(_second)
        finished, ranked = self.client.compute([pieces, ranking], sync=True)
        return sorted(finished, key=_index), sorted(ranked, key=by_concern)


# The tasks of ``DaskEngine.finish``, run on the workers (module-level functions, so that they pickle by name).


Tally = tuple[OwnerEvidence, set[str], bool]


def _tally(result: PartResult) -> Tally:
    """A part's evidence of the owner (``owner.OwnerEvidence``), its senders, and whether it holds a message
    marked outgoing: what the owner, and whether the export holds the owner's messages, come from."""
    messages = [decode_kept(fields)[0] for fields in part_lines(result.rows)]
    outgoing = any(m.direction == "outgoing" for m in messages)
    return OwnerEvidence.of(messages), {person(m.sender, m.thread) for m in messages}, outgoing


def _add_tallies(a: Tally, b: Tally) -> Tally:
    return a[0] + b[0], a[1] | b[1], a[2] or b[2]


def _events(result: PartResult, owner: Owner) -> list[HistoryEvent]:
    """Each message under every counterparty whose history it belongs to: its sender's (unless the owner
    wrote it), and, for the owner's messages, each recipient's (the reply ends their run)."""
    events: list[HistoryEvent] = []
    for line, fields in enumerate(part_lines(result.rows)):
        message = decode_kept(fields)[0]
        if owner.wrote(message):
            keys = set(people(message.recipients, message.thread))
        else:
            keys = {person(message.sender, message.thread)} - {""}
        history = fields[:HISTORY_FIELDS]  # what the group-by ships: not the probabilities and evidence
        events += [(key, (result.index, line, history)) for key in sorted(keys)]
    return events


def _counterparty(event: HistoryEvent) -> str:
    return event[0]


def _judge(
    group: tuple[str, list[HistoryEvent]], owner: Owner, applied: bool, settings: Settings
) -> list[tuple[Any, ...]]:
    """One counterparty's messages in the order of the whole export: the verdicts of the messages it sent and
    its summary, as one process computes them over everything (a tracker follows each sender on its own)."""
    key, events = group
    places = sorted(place for _, place in events)  # partition, then line: the export's order
    kept = [decode_kept(fields) for _, _, fields in places]
    verdicts, _ = history_verdicts(kept, owner, settings, applied=applied)
    judged: list[tuple[Any, ...]] = [
        ("verdict", part, line, verdict)
        for (part, line, _), (message, _, _), verdict in zip(places, kept, verdicts, strict=True)
        if not owner.wrote(message) and person(message.sender, message.thread) == key
    ]
    # The group holds the counterparty's messages and the owner's to it: its summary is theirs.
    summaries = rank_senders(kept, verdicts, settings)
    return judged + [("sender", summary) for summary in summaries if summary.sender == key]


def _is_verdict(item: tuple[Any, ...]) -> bool:
    return item[0] == "verdict"


def _is_sender(item: tuple[Any, ...]) -> bool:
    return item[0] == "sender"


def _second(item: tuple[Any, ...]) -> Any:
    return item[1]


def _part_of(item: tuple[Any, ...]) -> int:
    return int(item[1])


def _index(piece: Piece) -> int:
    return piece.index


def _finish(
    part: tuple[int, list[tuple[Any, ...]]],
    by_index: dict[int, PartResult],
    owner: Owner,
    applied: bool,
    settings: Settings,
    output_format: str,
) -> Piece:
    """A partition's piece of the results file: each message with its verdict, from its sender's group or,
    for the owner's messages and those without a sender (no history to follow), judged here."""
    index, items = part
    grouped = {line: verdict for _, _, line, verdict in items if line is not None}
    result = by_index[index]
    lines = list(part_lines(result.rows))  # one partition, read once for its verdicts and its rows
    verdicts = []
    for line, fields in enumerate(lines):
        kept = decode_kept(fields)
        if owner.wrote(kept[0]):
            verdicts.append(OUTGOING)
        elif line in grouped:
            verdicts.append(grouped[line])
        else:
            verdicts.append(history_verdicts([kept], owner, settings, applied=applied)[0][0])
    return finish_piece(index, lines, verdicts, output_format, piece_path(result, output_format))


def _where(client: Any, scheduler: str | None) -> str:
    place = f"scheduler {scheduler}" if scheduler else "a LocalCluster on this machine"
    if importlib.util.find_spec("bokeh") is None and scheduler is None:
        return f"{place} (no dashboard: install bokeh>=3.1 for one)"
    return f"{place}, dashboard {client.dashboard_link}"
