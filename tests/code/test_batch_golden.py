"""The results files and summaries of ``score_inbox``, byte for byte, as they were before the batch path
was made faster (``tests/fixtures/golden/``, written by the code of commit 8abf7cf with the tiny model; the
scores written again, and only they changed, when the model gained an intercept and counterfactual copies; the
pattern text, the owner line and the automated sender's run (0, as its rows say) when the rule counted turns)."""

import shutil
from pathlib import Path

import pytest

from boundaryline.predict import Scorer
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.settings import Settings

FIXTURES = Path(__file__).parents[1] / "fixtures"
GOLDEN = FIXTURES / "golden"


@pytest.mark.parametrize(("name", "explain"), [("flagged.csv", "flagged"), ("all.jsonl", "all"), ("none.csv", "none")])
def test_the_output_bytes_are_unchanged(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path, name: str, explain: str
) -> None:
    inbox = shutil.copy(FIXTURES / "golden_inbox.csv", tmp_path / "golden_inbox.csv")
    out = tmp_path / "out" / name
    options = ScoreOptions(explain=explain)
    score_inbox(Path(inbox), settings=tiny_trained, options=options, scorer=tiny_scorer, out=out)
    for written in (out, out.with_name(out.stem + ".summary.json"), out.with_name(out.stem + ".summary.md")):
        found = written.read_bytes().replace(str(tmp_path).encode(), b"ROOT")
        assert found == (GOLDEN / written.name).read_bytes(), f"{written.name} differs from the golden file"
