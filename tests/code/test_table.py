"""The scoring table (issue 24): the pipeline's analyzers and arithmetic in a plain file, scored without
scikit-learn, exact to 1e-9, and refused when it is not."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from boundaryline import registry
from boundaryline import table as table_module
from boundaryline.features import FUNCTION_WORDS, char_vectoriser, word_vectoriser
from boundaryline.model import build_pipeline
from boundaryline.predict import Scorer, load_scorer
from boundaryline.registry import ModelError
from boundaryline.settings import Settings
from boundaryline.table import TABLE_FILE, BlockSpec, ScoringTable
from boundaryline.text import TOKEN_PATTERN, tokenizer

WORDS = st.sampled_from(["you", "u", "dinner", "just", "us", "the", "call", "me", "back", "😍", "don't", "hi", "of"])
TEXTS = st.one_of(
    st.lists(WORDS, max_size=12).map(" ".join),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
)


def table_with(spec: BlockSpec) -> ScoringTable:
    return ScoringTable((), (spec,), [], np.zeros(0), np.zeros((0, 3)), np.zeros(3), frozenset(FUNCTION_WORDS))


@given(TEXTS)
@settings(max_examples=300, deadline=None)
def test_the_analyzers_are_the_vectorisers_own(text: str) -> None:
    """Each analyzer the table rebuilds gives what the fitted vectoriser's ``build_analyzer()`` gives."""
    cases = [
        (word_vectoriser((1, 3)), BlockSpec("word", (1, 3), TOKEN_PATTERN, True, True, False, "l2", 0)),
        (word_vectoriser((1, 2), contextual=False), BlockSpec("word", (1, 2), TOKEN_PATTERN, False, True, False, "l2", 0)),
        (char_vectoriser((2, 5)), BlockSpec("char_wb", (2, 5), None, True, True, False, "l2", 0)),
        (
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), lowercase=False),
            BlockSpec("char_wb", (1, 4), None, False, False, False, "l2", 0),
        ),
    ]  # fmt: skip
    for vectoriser, spec in cases:
        assert table_with(spec).analyzer(spec)(text) == vectoriser.build_analyzer()(text), spec


@given(
    st.text(alphabet=st.sampled_from(list("ab_1 '’é\u0301-.😍☀\u00a0\t")) | st.characters(codec="utf-8"), max_size=60)
)
@settings(max_examples=500, deadline=None)
def test_the_faster_token_pattern_finds_sklearns_tokens(text: str) -> None:
    assert tokenizer(TOKEN_PATTERN)(text) == re.findall(TOKEN_PATTERN, text)
    assert tokenizer(TOKEN_PATTERN) is not re.compile(TOKEN_PATTERN).findall


@given(st.lists(st.lists(WORDS, max_size=12).map(" ".join), min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_the_columns_of_a_text_are_its_analyzed_terms_looked_up(texts: list[str]) -> None:
    """``ScoringTable.columns`` (n-grams looked up unfiltered; char n-grams kept per word, the cache emptied
    when full) finds the columns that looking up each term of the analyzer finds."""
    specs = [
        BlockSpec("word", (1, 3), TOKEN_PATTERN, True, True, False, "l2", 0),
        BlockSpec("word", (2, 2), TOKEN_PATTERN, False, True, False, "l2", 0),
        BlockSpec("char_wb", (2, 4), None, True, True, False, "l2", 0),
    ]  # fmt: skip
    for spec in specs:
        table = table_with(spec)
        grams = sorted({g for text in texts for g in table.analyzer(spec)(text)})
        vocabulary = {gram: i for i, gram in enumerate(grams) if i % 3}  # some of them unknown
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(table_module, "WORD_CACHE", 2)
            columns = table.columns(spec, vocabulary)
            for text in texts:
                expected = [vocabulary[g] for g in table.analyzer(spec)(text) if g in vocabulary]
                assert sorted(columns(text)) == sorted(expected), spec


def test_a_saved_table_scores_and_explains_as_its_pipeline(
    tiny_trained: Settings, tiny_scorer: Scorer, tiny_pipeline: Pipeline, tmp_path: Path
) -> None:
    manifest = registry.read_manifest(tiny_trained.models_dir, tiny_scorer.version)
    entry = manifest["scoring_table"]
    assert entry["file"] == TABLE_FILE and entry["max_gap"] <= 1e-9 and entry["checked_texts"] > 0
    texts = ["Dinner tonight, just the two of us? 😍", "Following up AGAIN!!", "", "Coffee next week?"]
    assert np.abs(tiny_scorer.predict_proba(texts) - tiny_pipeline.predict_proba(texts)).max() <= 1e-9
    from_memory = Scorer.of_pipeline(tiny_pipeline, manifest)
    assert tiny_scorer.score(texts, explain=True) == from_memory.score(texts, explain=True)
    tiny_scorer.table.save(tmp_path / "again.npz")
    again = ScoringTable.load(tmp_path / "again.npz")
    assert again.terms == tiny_scorer.table.terms and again.blocks == tiny_scorer.table.blocks


def test_a_tampered_table_is_refused(tiny_project: Settings) -> None:
    version = registry.current_version(tiny_project.models_dir)
    assert version is not None
    path = tiny_project.models_dir / version / TABLE_FILE
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match the manifest"):
        load_scorer(tiny_project)


def test_a_table_is_never_unpickled(tmp_path: Path) -> None:
    """``np.load(allow_pickle=False)``: an object array in a table is an error, not code that runs."""
    np.savez(tmp_path / "t.npz", header=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        ScoringTable.load(tmp_path / "t.npz")


def test_a_version_without_a_table_is_scored_from_its_pipeline_and_can_be_given_one(
    tiny_project: Settings, tiny_pipeline: Pipeline
) -> None:
    models = tiny_project.models_dir
    version = registry.current_version(models)
    assert version is not None
    manifest_path = models / version / registry.MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    del manifest["scoring_table"]
    manifest_path.write_text(json.dumps(manifest))
    (models / version / TABLE_FILE).unlink()
    texts = ["Dinner, just us?", "Coffee next week?"]
    assert np.abs(load_scorer(tiny_project).predict_proba(texts) - tiny_pipeline.predict_proba(texts)).max() <= 1e-9
    assert registry.add_table(models, version, texts) <= 1e-9
    assert registry.load_table(models)[0] is not None


def test_scoring_a_file_never_imports_scikit_learn(tiny_trained: Settings, tmp_path: Path) -> None:
    """Nor what a plain-text file never needs (bs4 reads HTML): each is start-up time of every run."""
    inbox = tmp_path / "in.csv"
    inbox.write_text("id,from,text\nm1,a@x.com,Coffee next week?\nm2,b@x.com,Dinner just us? You look great\n")
    code = (
        "import sys; from boundaryline.cli import main;"
        f"code = main(['score', {str(inbox)!r}, '--out', {str(tmp_path / 'r.csv')!r}, '-q']);"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'pandas', 'joblib', 'bs4'}),"
        " int(code))"
    )
    env = {**os.environ, "BOUNDARYLINE_ROOT": str(tiny_trained.root)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[] 0", done.stdout + done.stderr
    assert (tmp_path / "r.csv").exists()


def test_a_version_whose_table_would_differ_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    corpus = pd.read_csv(Path(__file__).parents[1] / "fixtures" / "tiny_corpus.csv", dtype=str, keep_default_na=False)
    features = FeatureUnion([("word", word_vectoriser().set_params(dtype=np.float32))])
    pipeline = build_pipeline(tfidf=features).fit(corpus["text"], corpus["label"])
    with pytest.raises(ModelError, match="refused: its scoring table is not exact"):
        registry.save_model(pipeline, {}, tmp_path, check_texts=["Coffee next week?"])
    assert list(tmp_path.iterdir()) == []


def test_a_term_may_hold_any_character(tmp_path: Path) -> None:
    """A NUL survives the normalisation and a char n-gram may hold one: terms are stored with their lengths."""
    spec = BlockSpec("char_wb", (1, 2), None, False, False, False, "l2", 3)
    table = ScoringTable(("a", "b", "c"), (spec,), ["b\x00", "\x00", "c"], np.ones(3), np.ones((3, 3)), np.zeros(3),
                         frozenset())  # fmt: skip
    table.save(tmp_path / "t.npz")
    assert ScoringTable.load(tmp_path / "t.npz").terms == ["b\x00", "\x00", "c"]


def test_a_long_word_is_scored_but_not_kept() -> None:
    """Only short words' char n-gram columns are kept: a 20,000-character token (a text without spaces) would
    hold ~0.3 MB in the cache and never repeat."""
    spec = BlockSpec("char_wb", (2, 4), None, False, True, False, "l2", 0)
    table = table_with(spec)
    long_word = "ab" * 10_000
    vocabulary = {gram: i for i, gram in enumerate(sorted(set(table.analyzer(spec)(long_word + " ab"))))}
    columns = table.columns(spec, vocabulary)
    expected = sorted(vocabulary[g] for g in table.analyzer(spec)(long_word + " ab"))
    assert sorted(columns(long_word + " ab")) == expected
    cache = next(c.cell_contents for c in columns.__closure__ or () if isinstance(c.cell_contents, dict))
    assert set(cache) == {"ab"}
