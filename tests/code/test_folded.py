"""The scoring table against the sklearn pipeline it is derived from: the same probabilities and the same
explanations, and a pipeline whose table would differ is refused."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import FeatureUnion, Pipeline

from boundaryline.data import load_challenge, load_corpus
from boundaryline.features import word_vectoriser
from boundaryline.model import build_pipeline
from boundaryline.predict import Scorer
from boundaryline.registry import ModelError
from boundaryline.settings import Settings
from boundaryline.table import ScoringTable

FIXTURES = Path(__file__).parents[1] / "fixtures"
ODD_TEXTS = [
    "",
    "   ",
    "😍😍😍",
    "don't DON'T don't",
    "Call me on +44 20 7946 0958 or ana@example.org, see https://example.com/x?y=1",
    "dinner dinner dinner dinner tonight tonight just us",
    "Ça va? Wir sehen uns übermorgen. 日本語のメッセージ",
]


def _corpus_and_challenge(settings: Settings) -> list[str]:
    return [*load_corpus(settings)["text"], *load_challenge(settings)["text"], *ODD_TEXTS]


def test_the_shipped_model_is_folded_and_gives_the_pipelines_probabilities(
    shipped_scorer: Scorer, shipped_pipeline: Pipeline, project_settings: Settings
) -> None:
    """The whole corpus and the challenge set (about a second each way)."""
    texts = _corpus_and_challenge(project_settings)
    assert shipped_scorer.folded is not None
    found = shipped_scorer.predict_proba(texts)
    expected = shipped_pipeline.predict_proba(texts)
    assert np.abs(found - expected).max() <= 1e-9


def test_char_ngrams_are_folded_too(tiny_scorer: Scorer, tiny_pipeline: Pipeline, project_settings: Settings) -> None:
    """The tiny model has word and character n-grams (function words only in context, both kinds)."""
    texts = load_corpus(project_settings)["text"].sample(400, random_state=3).tolist() + ODD_TEXTS
    assert tiny_scorer.folded is not None and len(tiny_scorer.folded.blocks) == 2
    found = tiny_scorer.predict_proba(texts)
    assert np.abs(found - tiny_pipeline.predict_proba(texts)).max() <= 1e-9


@pytest.mark.parametrize("which", ["tiny_scorer", "shipped_scorer"])
def test_one_message_at_a_time_scores_as_a_batch(request: pytest.FixtureRequest, which: str) -> None:
    scorer: Scorer = request.getfixturevalue(which)
    batch = scorer.predict_proba(ODD_TEXTS)
    for text, row in zip(ODD_TEXTS, batch, strict=True):
        assert np.abs(scorer.predict_proba([text])[0] - row).max() <= 1e-12


def _fitted(features: FeatureUnion) -> Pipeline:
    corpus = pd.read_csv(FIXTURES / "tiny_corpus.csv", dtype=str, keep_default_na=False)
    pipeline = build_pipeline(tfidf=features)
    return pipeline.fit(corpus["text"], corpus["label"])


def test_a_shape_the_table_does_not_reproduce_is_refused() -> None:
    vectoriser = word_vectoriser().set_params(dtype=np.float32)  # float32 arithmetic: not reproduced exactly
    pipeline = _fitted(FeatureUnion([("word", vectoriser)]))
    with pytest.raises(ModelError, match=r"cannot be scored from a table: .*a setting the table does not reproduce"):
        Scorer.of_pipeline(pipeline, {"version": "test"})


def test_a_table_that_disagrees_with_the_pipeline_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = ScoringTable.of_pipeline

    def off_by_a_little(pipeline: Pipeline) -> ScoringTable:
        table = real(pipeline)
        return replace(table, weights=table.weights * (1 + 1e-6))

    monkeypatch.setattr(ScoringTable, "of_pipeline", staticmethod(off_by_a_little))
    pipeline = _fitted(FeatureUnion([("word", word_vectoriser())]))
    with pytest.raises(ModelError, match="differ from the pipeline's"):
        Scorer.of_pipeline(pipeline, {"version": "test"})


def test_transformer_weights_and_l1_norm_are_folded() -> None:
    features = FeatureUnion(
        [
            ("word", word_vectoriser().set_params(norm="l1", sublinear_tf=False)),
            ("bin", word_vectoriser().set_params(binary=True)),
        ],
        transformer_weights={"word": 0.5, "bin": 2.0},
    )
    pipeline = _fitted(features)
    scorer = Scorer.of_pipeline(pipeline, {"version": "test"})
    assert scorer.folded is not None
    assert np.abs(scorer.predict_proba(ODD_TEXTS) - pipeline.predict_proba(ODD_TEXTS)).max() <= 1e-9


@pytest.mark.parametrize("which", ["tiny_scorer", "shipped_scorer"])
def test_the_top_terms_are_those_of_the_full_explanation(
    request: pytest.FixtureRequest, which: str, project_settings: Settings
) -> None:
    scorer: Scorer = request.getfixturevalue(which)
    texts = load_corpus(project_settings)["text"].sample(300, random_state=5).tolist() + ODD_TEXTS
    for text, score in zip(texts, scorer.score(texts, explain=True, top_k=5), strict=True):
        expected = scorer.explain(text, score.label).supporting(5)  # one message: the plain-Python row
        assert score.explanation is not None
        assert [c.term for c in score.explanation] == [c.term for c in expected]
        assert [c.weight for c in score.explanation] == pytest.approx([c.weight for c in expected], abs=1e-12)
