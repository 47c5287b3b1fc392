"""Batch-score whole inbox exports: ``score_inbox``, the one entry of a scoring run.

One run path whatever the engine: an export is read and scored partition by partition (``parts.py``): one
after the other in this process (``--jobs 1``), on this machine's cores (``--jobs N``), or on a Dask cluster
(``--engine dask``). The results file, the summary and the senders ranked by concern are
the same byte for byte (``output.py``; the sender history is ``history.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from boundaryline.output import BatchSummary, ScoreOptions
from boundaryline.parts import score_partitioned
from boundaryline.predict import Scorer
from boundaryline.settings import Settings


def score_inbox(
    inbox: Path | Sequence[Path],
    *,
    settings: Settings,
    options: ScoreOptions | None = None,
    scorer: Scorer | None = None,
    out: Path | None = None,
    report: TextIO = sys.stdout,
) -> BatchSummary:
    """Score every message of ``inbox`` (one export, or several); write the results, ``*.summary.json`` and
    ``*.summary.md``; return the summary."""
    inputs = [inbox] if isinstance(inbox, Path) else list(inbox)
    return score_partitioned(
        inputs, settings=settings, options=options or ScoreOptions(), scorer=scorer, out=out, report=report
    )


__all__ = ["BatchSummary", "ScoreOptions", "score_inbox"]
