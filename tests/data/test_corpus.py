"""The shipped corpus and challenge set: valid, big and balanced enough, documented truthfully."""

import pandas as pd
import pytest

from boundaryline.cli import main as cli
from boundaryline.data import (
    DATASHEET_BEGIN,
    DATASHEET_END,
    datasheet_block,
    datasheet_counts,
    external_counts,
    load_challenge,
    load_corpus,
    load_threads,
    near_duplicate_pairs,
    real_dm_counts,
    text_key,
    train_test_frames,
    validate_challenge,
    validate_corpus,
)
from boundaryline.external import load_real_dms, load_real_mail
from boundaryline.settings import LABELS, Settings
from tests.model import checklist_cases


@pytest.fixture(scope="module")
def corpus(project_settings: Settings) -> pd.DataFrame:
    return load_corpus(project_settings)


@pytest.fixture(scope="module")
def challenge(project_settings: Settings) -> pd.DataFrame:
    return load_challenge(project_settings)


def test_corpus_passes_every_check(corpus: pd.DataFrame) -> None:
    report = validate_corpus(corpus)
    assert report.problems == []
    assert report.near_duplicates["rate_across_split"] < 0.02


def test_challenge_passes_every_check_and_is_unseen(corpus: pd.DataFrame, challenge: pd.DataFrame) -> None:
    assert validate_challenge(challenge, corpus).problems == []
    assert not set(challenge["id"]) & set(corpus["id"])


def test_size_and_balance(corpus: pd.DataFrame) -> None:
    assert corpus["text"].nunique() >= 3000
    shares = corpus["label"].value_counts(normalize=True)
    assert set(shares.index) == set(LABELS)
    assert shares.min() >= 0.25, shares.to_dict()


@pytest.mark.parametrize("label", LABELS)
def test_hard_cases_are_at_least_a_fifth_of_each_class(corpus: pd.DataFrame, label: str) -> None:
    rows = corpus[corpus["label"] == label]
    assert (rows["hard"] == "true").mean() >= 0.20


def test_held_out_split_has_every_class_and_whole_scenarios(corpus: pd.DataFrame) -> None:
    test = corpus[corpus["split"] == "test"]
    assert 0.12 <= len(test) / len(corpus) <= 0.30
    assert set(test["label"]) == set(LABELS)
    train_scenarios = set(corpus.loc[corpus["split"] == "train", "scenario"])
    assert not train_scenarios & set(test["scenario"])


def test_variety(corpus: pd.DataFrame) -> None:
    assert corpus["scenario"].nunique() >= 150
    assert {"email", "linkedin_dm", "text_message", "event_app", "chat"} <= set(corpus["channel"])
    words = corpus["text"].str.split().str.len()
    assert words.min() <= 5 and words.max() >= 150
    for label in LABELS:  # short and long messages in every class, so length alone cannot give it away
        lengths = words[corpus["label"] == label]
        assert (lengths <= 12).sum() >= 30 and (lengths >= 80).sum() >= 30, label


def test_challenge_covers_each_class(challenge: pd.DataFrame) -> None:
    assert len(challenge) >= 200
    counts = challenge["label"].value_counts()
    assert set(counts.index) == set(LABELS) and counts.min() >= 50
    assert challenge["edge"].nunique() >= 12


def test_datasheet_counts_agree_with_the_data(
    project_settings: Settings, corpus: pd.DataFrame, challenge: pd.DataFrame
) -> None:
    sheet = (project_settings.data_dir / "README.md").read_text(encoding="utf-8")
    block = sheet.split(DATASHEET_BEGIN, 1)[1].split(DATASHEET_END, 1)[0]
    assert block.strip() == datasheet_counts(corpus, challenge).strip(), (
        "run `boundaryline validate-data --write-datasheet`"
    )


def test_datasheet_names_the_external_data(project_settings: Settings) -> None:
    real = load_real_mail(project_settings)
    if real is None:
        pytest.skip("no ../shared/real-mail on this machine")
    sheet = (project_settings.data_dir / "README.md").read_text(encoding="utf-8")
    begin, end = datasheet_block("external")
    block = sheet.split(begin, 1)[1].split(end, 1)[0]
    assert block.strip() == external_counts(real.provenance()).strip(), (
        "run `boundaryline validate-data --write-datasheet`"
    )


def test_datasheet_names_the_real_dms(project_settings: Settings) -> None:
    dms = load_real_dms(project_settings)
    if dms is None:
        pytest.skip("no ../shared/real-dm on this machine")
    sheet = (project_settings.data_dir / "README.md").read_text(encoding="utf-8")
    begin, end = datasheet_block("real_dm")
    block = sheet.split(begin, 1)[1].split(end, 1)[0]
    assert block.strip() == real_dm_counts(dms.provenance()).strip(), (
        "run `boundaryline validate-data --write-datasheet`"
    )


def test_real_dms_are_split_by_export(project_settings: Settings) -> None:
    """A whole export on one side; the pool holds only training exports and no copy of a labelled text."""
    dms = load_real_dms(project_settings)
    if dms is None:
        pytest.skip("no ../shared/real-dm on this machine")
    sides = dms.frame.groupby("export")["split"].nunique()
    assert (sides == 1).all()
    test_exports = set(dms.split("test")["export"])
    assert test_exports and not test_exports & set(dms.pool["export"])
    assert not set(dms.pool["text"].map(text_key)) & set(dms.frame["text"].map(text_key))


def test_labelling_guide_defines_every_label(project_settings: Settings) -> None:
    guide = (project_settings.data_dir / "LABELLING.md").read_text(encoding="utf-8")
    for label in LABELS:
        assert f"### `{label}`" in guide
    assert "Mixed messages" in guide and "inappropriate_proposition > pestering > professional" in guide


def test_validate_data_command_reports_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["validate-data"]) == 0
    out = capsys.readouterr().out
    for needle in ("by label:", "by channel:", "by source:", "by split:", "near-duplicates"):
        assert needle in out


def test_no_training_text_copies_a_behaviour_case(corpus: pd.DataFrame) -> None:
    """The CheckList cases judge the model only if it never saw them: no corpus row is the same message or a
    near-copy of one (a case of one to three words, "Hello" or "ok", is every inbox's, and may coincide)."""
    cases = [
        *checklist_cases.BLAND,
        *checklist_cases.PESTERING_CLEAR,
        *checklist_cases.PROPOSITION_CLEAR,
        *(text for _, text in checklist_cases.INVARIANCE_BASES),
        *checklist_cases.DIRECTION_BASES,
    ]
    cases = [text for text in cases if len(text.split()) >= 4]
    keys = set(corpus["text"].map(text_key))
    assert not [text for text in cases if text_key(text) in keys]
    texts = corpus["text"].tolist() + cases
    near = [(texts[i], texts[j]) for i, j, _ in near_duplicate_pairs(texts) if i < len(corpus) <= j]
    assert not near


def test_the_thread_set_only_grows_and_every_base_has_every_kind(project_settings: Settings) -> None:
    """The frozen thread set (``data/corpus/threads.jsonl``): unique ids, bases from the test split, and each
    base in all eleven kinds of conversation (issue 20 added five; the first six are as issue 15 froze them)."""
    threads = load_threads(project_settings)
    assert len({t["id"] for t in threads}) == len(threads)
    kinds: dict[str, set[str]] = {}
    for thread in threads:
        kinds.setdefault(thread["base"], set()).add(thread["kind"])
    assert {len(found) for found in kinds.values()} == {11}
    _, test = train_test_frames(load_corpus(project_settings))
    assert set(kinds) <= set(test["id"])
