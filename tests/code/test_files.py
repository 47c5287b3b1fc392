"""Every file the project writes is whole or absent, with one mode (issue 22: one AtomicFile)."""

import os
from pathlib import Path

import pytest

from boundaryline.files import AtomicFile, write_atomic
from boundaryline.predict import Scorer
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.settings import Settings


def test_a_failed_close_leaves_no_temp_file(tmp_path: Path) -> None:
    """A full disk (or ``ulimit -f``) fails the write and then the close again: the temp file goes all the same."""
    out = AtomicFile(tmp_path / "r.csv", text=True)
    out.handle.write("half a row")
    real_close = out.handle.close

    def full_disk() -> None:
        real_close()
        raise OSError(28, "No space left on device")

    out.handle.close = full_disk  # type: ignore[method-assign]
    with pytest.raises(OSError, match="No space left"):
        out.commit()
    assert list(tmp_path.iterdir()) == []


def test_results_and_summaries_get_one_mode(tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path) -> None:
    inbox = tmp_path / "i.csv"
    inbox.write_text("id,text\nm1,Coffee next week?\n", encoding="utf-8")
    out = tmp_path / "out" / "r.csv"
    score_inbox(inbox, settings=tiny_trained, options=ScoreOptions(), scorer=tiny_scorer, out=out)
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.parent.iterdir()}
    assert len(set(modes.values())) == 1, modes
    write_atomic(tmp_path / "x.txt", "x")
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == next(iter(modes.values()))
    assert not [p for p in os.listdir(out.parent) if p.endswith(".tmp")]
