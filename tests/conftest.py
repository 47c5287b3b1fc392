"""Shared fixtures: a tiny project (corpus, challenge set, a trained model) in a temp folder, and the
settings of the real project for the data and model-behaviour tests. Artefact paths come from here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from boundaryline import registry
from boundaryline.data import CHALLENGE_COLUMNS, write_corpus
from boundaryline.features import char_vectoriser
from boundaryline.predict import Scorer, load_scorer
from boundaryline.settings import Settings
from boundaryline.train import train_and_save

FIXTURES = Path(__file__).parent / "fixtures"
# The tiny model keeps the character n-grams on, so the tests cover both kinds of features (the shipped
# model may use either, as the grid search decides).
TINY_GRID = {"tfidf__char": [char_vectoriser()], "tfidf__word__ngram_range": [(1, 2)], "clf__C": [10.0]}


def make_tiny_project(root: Path) -> Settings:
    """A project folder holding the 45-message fixture corpus and a challenge set made from it."""
    # Arg-max labels, so the tests can compare labels with the bare pipeline's probabilities.
    settings = Settings(root=root, feedback_db=root / "feedback.sqlite3", threshold_target_flag_rate=None)
    settings.corpus_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "tiny_corpus.csv", settings.corpus_path)
    challenge = pd.read_csv(FIXTURES / "tiny_challenge.csv", dtype=str, keep_default_na=False)
    write_corpus(challenge, settings.challenge_path, CHALLENGE_COLUMNS)
    return settings


@pytest.fixture(scope="session")
def tiny_trained(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The tiny project with one quick model trained and promoted (built once per test session)."""
    settings = make_tiny_project(tmp_path_factory.mktemp("tiny"))
    version = train_and_save(settings, grid=TINY_GRID, baselines=False)
    registry.promote(settings.models_dir, version, reason="fixture")
    return settings


@pytest.fixture
def tiny_project(tiny_trained: Settings, tmp_path: Path) -> Settings:
    """A private copy of the trained tiny project, for tests that change the corpus or the registry."""
    shutil.copytree(tiny_trained.root, tmp_path, dirs_exist_ok=True)
    return Settings(root=tmp_path, feedback_db=tmp_path / "feedback.sqlite3", threshold_target_flag_rate=None)


@pytest.fixture(scope="session")
def tiny_scorer(tiny_trained: Settings) -> Scorer:
    return load_scorer(tiny_trained)


@pytest.fixture(scope="session")
def tiny_pipeline(tiny_trained: Settings) -> Pipeline:
    """The tiny model's sklearn pipeline: the truth its scoring table is checked against."""
    return registry.load_pipeline(tiny_trained.models_dir)[0]


@pytest.fixture(scope="session")
def project_settings() -> Settings:
    """The real project's settings: the shipped corpus and the model in service."""
    return Settings()


@pytest.fixture(scope="session")
def shipped_scorer(project_settings: Settings) -> Scorer:
    return load_scorer(project_settings)


@pytest.fixture(scope="session")
def shipped_pipeline(project_settings: Settings) -> Pipeline:
    return registry.load_pipeline(project_settings.models_dir)[0]
