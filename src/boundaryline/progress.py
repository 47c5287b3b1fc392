"""Long runs say what they are doing: each stage as it starts, with a rough estimate, and a bar over loops;
a scoring run says it through the ``Reporter`` its caller passes in.

The estimate is how long the stage took the last time it ran here (``reports/timings.json``, git-ignored),
else what it took on a 2-core machine when this was written. Lines go to standard error, so that a report on
standard output stays clean; bars are tqdm's, shown on a terminal only.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO, TypeVar

from tqdm import tqdm

from boundaryline.files import write_atomic
from boundaryline.safe_text import printable

T = TypeVar("T")

log = logging.getLogger("boundaryline")

# Seconds each stage took on a 2-core machine (`boundaryline train` beside ../shared, 2026-12-06, the machine busy
# with tests part of the time): the first estimate, until this machine has its own.
FIRST_ESTIMATES = {
    "train:data": 15, "train:grid:20": 230, "train:grid:5": 60, "train:thresholds": 100, "train:evaluate": 15,
    "train:baselines": 30, "train:baselines+embedding": 600, "train:threads": 5, "train:save": 10,
    "retrain:data": 15, "retrain:fit:5": 60, "retrain:fit:20": 230, "retrain:fit:prior": 15, "retrain:evaluate": 15,
    "retrain:save": 10,
}  # fmt: skip


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


class Stages:
    """``with stages.stage("grid", "grid search: 4 candidates × 5 folds"): …`` prints the line with its
    estimate, times the stage, and ``save`` keeps the timings for the next run's estimates."""

    def __init__(self, run: str, timings: Path, *, out: TextIO | None = None) -> None:
        self.run, self.timings, self.out = run, timings, out or sys.stderr
        self.measured: dict[str, float] = {}
        try:
            self.last = {k: float(v) for k, v in json.loads(timings.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, AttributeError):
            self.last = {}

    @contextmanager
    def stage(self, key: str, what: str) -> Iterator[None]:
        name = f"{self.run}:{key}"
        seconds = self.last.get(name, FIRST_ESTIMATES.get(name))
        when = "last time here" if name in self.last else "on 2 cores"
        estimate = f" (about {_duration(seconds)} {when})" if seconds else ""
        print(f"{self.run}: {what}{estimate}…", file=self.out, flush=True)
        start = time.monotonic()
        yield
        self.measured[name] = time.monotonic() - start

    def note(self, line: str) -> None:
        """A line between stages (what the run decided), where the stage lines go."""
        print(f"{self.run}: {line}", file=self.out, flush=True)

    def save(self) -> None:
        """Keep the stages' timings (beside the others') for the next estimates; never fails a run."""
        with suppress(OSError):
            write_atomic(self.timings, json.dumps({**self.last, **self.measured}, indent=2, sort_keys=True) + "\n")


def bar(items: Iterable[T], *, total: int, desc: str, unit: str = "fit") -> Iterator[T]:
    """A progress bar over ``items`` on standard error (shown on a terminal only)."""
    yield from tqdm(items, total=total, desc=desc, unit=unit, file=sys.stderr, disable=None, leave=False)


class Reporter:
    """Where a scoring run's notes, summary and progress go. This default is a library's manners: notes go to
    the ``boundaryline`` logger (silent unless the program configures logging), the summary nowhere (it is
    returned and written beside the results), no bar. The command line passes a ``TerminalReporter``."""

    def note(self, line: str) -> None:
        """A line for the person running it: a skipped record, a file read whole, where the cluster is."""
        log.info(line)

    def summary(self, text: str) -> None:
        """The run's summary, as Markdown."""

    def bar(self, *, total: int, desc: str, unit: str) -> tqdm:
        return tqdm(total=total, desc=desc, unit=unit, disable=True)


class TerminalReporter(Reporter):
    """Notes and the bar on standard error (the bar on a terminal only, never with ``quiet``), the summary on
    standard output: a report piped to a file stays clean."""

    def __init__(self, *, quiet: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.quiet, self._out, self._err = quiet, out, err

    @property
    def out(self) -> TextIO:  # looked up when used: a caller (or a test) may have replaced sys.stdout since
        return self._out or sys.stdout

    @property
    def err(self) -> TextIO:
        return self._err or sys.stderr

    def note(self, line: str) -> None:
        print(printable(line), file=self.err, flush=True)  # a file name or a reason may hold an ESC

    def summary(self, text: str) -> None:
        print(text, file=self.out)

    def bar(self, *, total: int, desc: str, unit: str) -> tqdm:
        return tqdm(total=total, desc=desc, unit=unit, file=self.err, disable=self.quiet or not self.err.isatty())
