"""Every file the project writes is whole or absent, with one mode (issue 22: one AtomicFile)."""

import os
from pathlib import Path

import pytest

from boundaryline.files import AtomicFile, write_atomic


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


def test_a_rewritten_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.txt", "x")
        (tmp_path / "kept.txt").write_text("x")
        (tmp_path / "kept.txt").chmod(0o604)
        write_atomic(tmp_path / "kept.txt", "y")
        write_atomic(tmp_path / "private.txt", "z", private=True)
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"new.txt": 0o640, "kept.txt": 0o604, "private.txt": 0o600}
