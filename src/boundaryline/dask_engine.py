"""The Dask engine: partitions scored as tasks on a Dask cluster (``score --engine dask``).

Without a scheduler address, a ``LocalCluster`` of worker processes on this machine; with one, that cluster
(``dask scheduler`` and ``dask worker ADDRESS`` on other machines, Kubernetes, dask-jobqueue…). Each task
reads its partition from the files, scores it with the worker's model (loaded and verified once per
worker) and writes its part files beside the results file: workers and this process must see the same
paths (the project's models and the archive too), as on a shared file system. Only the partition's
description goes to a worker and only a small ``PartResult`` comes back; no message passes through here.

A worker that dies mid-task is replaced and its task run again by Dask; the part files are renamed into
place whole, so a rerun replaces, never duplicates. Dask is an optional dependency (``pip install
'boundaryline[dask]'``); the default engine needs none of it.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any

from boundaryline.partitions import Partition


class DaskEngine:
    """An engine (``parts.Engine``) on the cluster at ``scheduler``, or on a new ``LocalCluster`` of ``workers``
    single-threaded worker processes, for the length of a run."""

    def __init__(self, scheduler: str | None, workers: int) -> None:
        try:
            import distributed
        except ImportError as error:
            raise ValueError(
                "--engine dask needs Dask: pip install 'boundaryline[dask]' (dask and distributed)"
            ) from error
        self.distributed = distributed
        self.scheduler, self.workers = scheduler, workers
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
                        dashboard_address=":0",  # a free port: another cluster may hold 8787
                        silence_logs=logging.ERROR,
                    )
                )
                self.client = stack.enter_context(self.distributed.Client(cluster))
            else:
                self.client = stack.enter_context(self.distributed.Client(self.scheduler))
            self.stack = stack.pop_all()
        print(f"Dask: {_where(self.client, self.scheduler)}", file=sys.stderr)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

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


def _where(client: Any, scheduler: str | None) -> str:
    place = f"scheduler {scheduler}" if scheduler else "a LocalCluster on this machine"
    if importlib.util.find_spec("bokeh") is None and scheduler is None:
        return f"{place} (no dashboard: install bokeh>=3.1 for one)"
    return f"{place}, dashboard {client.dashboard_link}"
