"""A scoring run over whole inbox exports, one path whatever the engine.

``run.score_inbox`` is the entry: the export is cut into partitions (``partitions``), each read and scored on
an engine (``parts``: in this process, ``--jobs N`` cores, or ``dask_engine``) into part files
(``part_files``); the parent decides the sender history (``history``) and writes the results and the summary
(``output``).
"""

from boundaryline.scoring.output import BatchSummary, ScoreOptions
from boundaryline.scoring.run import score_inbox

__all__ = ["BatchSummary", "ScoreOptions", "score_inbox"]
