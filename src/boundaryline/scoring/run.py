"""Batch-score whole inbox exports: ``score_inbox``, the one entry of a scoring run.

One run path whatever the engine: an export is read and scored partition by partition (``parts``): one
after the other in this process (``--jobs 1``), on this machine's cores (``--jobs N``), or on a Dask cluster
(``--engine dask``). The results file, the summary and the senders ranked by concern are
the same byte for byte (``output``; the sender history is ``history``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from boundaryline.predict import Scorer
from boundaryline.progress import Reporter
from boundaryline.scoring.output import BatchSummary, ScoreOptions
from boundaryline.scoring.parts import score_partitioned
from boundaryline.settings import Settings


def score_inbox(
    inbox: Path | Sequence[Path],
    *,
    settings: Settings,
    options: ScoreOptions | None = None,
    scorer: Scorer | None = None,
    out: Path | None = None,
    reporter: Reporter | None = None,
) -> BatchSummary:
    """Score every message of ``inbox`` (one export, or several); write the results, ``*.summary.json`` and
    ``*.summary.md``; return the summary. Notes, the bar and the summary's Markdown go to ``reporter`` (by
    default the ``boundaryline`` logger's notes only: a library prints nothing)."""
    inputs = [inbox] if isinstance(inbox, Path) else list(inbox)
    return score_partitioned(
        inputs, settings=settings, options=options or ScoreOptions(), scorer=scorer, out=out, reporter=reporter
    )


__all__ = ["BatchSummary", "ScoreOptions", "score_inbox"]
