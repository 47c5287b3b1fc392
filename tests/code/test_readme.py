"""README's examples run as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def python_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8").split(f"### {section}", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_python_snippet_runs(capsys: pytest.CaptureFixture[str]) -> None:
    snippet, _ = python_blocks("From Python")
    exec(compile(snippet, str(README), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3
    assert printed[0].split()[0] in ("professional", "pestering", "inappropriate_proposition")


def test_the_export_snippet_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, snippet = python_blocks("From Python")
    monkeypatch.chdir(README.parent)  # its paths are the project's; its results go to a temporary folder
    snippet = snippet.replace('"reports/example.results.csv"', repr(str(tmp_path / "example.results.csv")))
    exec(compile(snippet, str(README), "exec"), {})
    last = capsys.readouterr().out.splitlines()[-1].split()
    assert int(last[0]) > 0 and int(last[1]) > 0 and "@" in " ".join(last[2:])
    assert (tmp_path / "example.results.csv").exists() and (tmp_path / "example.results.summary.md").exists()
