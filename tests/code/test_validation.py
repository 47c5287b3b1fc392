"""The corpus validator on small broken fixtures: every check fires, naming the row."""

from pathlib import Path

import pandas as pd
import pytest

from boundaryline.data import (
    CORPUS_COLUMNS,
    near_duplicate_pairs,
    read_table,
    shingles,
    split_for_scenario,
    stable_id,
    validate_challenge,
    validate_corpus,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def corpus() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "tiny_corpus.csv", dtype=str, keep_default_na=False)


def test_the_fixture_corpus_is_clean(corpus: pd.DataFrame) -> None:
    report = validate_corpus(corpus)
    assert report.ok, report.problems
    assert report.counts["label"] == {"inappropriate_proposition": 15, "pestering": 15, "professional": 15}


@pytest.mark.parametrize(
    ("column", "value", "check", "message"),
    [
        ("label", "spam", "label", "unknown label 'spam'"),
        ("text", "   \n ", "text", "empty or whitespace-only"),
        ("channel", "fax", "channel", "unknown channel 'fax'"),
        ("split", "dev", "split", "split must be one of"),
        ("scenario", "", "scenario", "empty scenario"),
    ],
)
def test_row_problems_name_the_row(corpus: pd.DataFrame, column: str, value: str, check: str, message: str) -> None:
    corpus.loc[3, column] = value
    problems = validate_corpus(corpus).problems
    assert [(p.check, p.row_id) for p in problems if p.check == check] == [(check, "t004")]
    assert message in next(p.message for p in problems if p.check == check)


def test_duplicate_ids(corpus: pd.DataFrame) -> None:
    corpus.loc[5, "id"] = "t001"
    assert {p.row_id for p in validate_corpus(corpus).problems if p.check == "id"} == {"t001"}


def test_exact_duplicate_and_conflicting_label(corpus: pd.DataFrame) -> None:
    same = corpus.iloc[[0]].assign(id="dup1", text=corpus.loc[0, "text"].upper() + "  ")
    clash = corpus.iloc[[1]].assign(id="clash1", label="pestering")
    problems = validate_corpus(pd.concat([corpus, same, clash], ignore_index=True)).problems
    assert ("duplicate", "dup1") in {(p.check, p.row_id) for p in problems}
    assert ("conflict", "clash1") in {(p.check, p.row_id) for p in problems}


def test_scenario_on_both_sides_is_leakage(corpus: pd.DataFrame) -> None:
    corpus.loc[4, "scenario"] = corpus.loc[0, "scenario"]  # row 4 is in test, row 0 in train
    assert corpus.loc[4, "split"] != corpus.loc[0, "split"]
    assert any(p.check == "leakage" for p in validate_corpus(corpus).problems)


def test_near_duplicate_across_the_split(corpus: pd.DataFrame) -> None:
    base = "I wanted to check whether you had time next week for a quick call about the analytics role"
    rows = pd.DataFrame(
        [
            dict.fromkeys(CORPUS_COLUMNS, "x")
            | {
                "id": "a1",
                "text": base,
                "label": "professional",
                "channel": "email",
                "split": "train",
                "scenario": "s-a",
            },
            dict.fromkeys(CORPUS_COLUMNS, "x")
            | {
                "id": "b1",
                "text": base + " please",
                "label": "professional",
                "channel": "email",
                "split": "test",
                "scenario": "s-b",
            },
        ]
    )
    report = validate_corpus(pd.concat([corpus, rows], ignore_index=True))
    assert [(p.check, p.row_id) for p in report.problems] == [("near-duplicate", "b1")]
    assert report.near_duplicates["pairs_across_split"] == 1


def test_missing_columns_are_a_schema_problem(corpus: pd.DataFrame) -> None:
    problems = validate_corpus(corpus.drop(columns=["label", "split"])).problems
    assert {p.message for p in problems} == {"missing column 'label'", "missing column 'split'"}


def test_read_table_names_the_file_and_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,text\n1,hello\n")
    with pytest.raises(ValueError, match=r"c\.csv: missing column\(s\) label"):
        read_table(path, ["id", "text", "label"])


def test_challenge_copied_from_the_corpus_is_reported(corpus: pd.DataFrame) -> None:
    challenge = pd.read_csv(FIXTURES / "tiny_challenge.csv", dtype=str, keep_default_na=False)
    assert validate_challenge(challenge, corpus).ok
    challenge.loc[0, "text"] = corpus.loc[0, "text"]
    problems = validate_challenge(challenge, corpus).problems
    assert [(p.check, p.row_id) for p in problems] == [("challenge-leak", "c001")]


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("one two three four five six seven", "one two three four five six seven", True),
        (
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight nine ten eleven",
            True,
        ),
        ("one two three four five six seven", "seven six five four three two one", False),
        ("coffee soon?", "Coffee soon!", True),
    ],
)
def test_near_duplicate_pairs(a: str, b: str, near: bool) -> None:
    assert bool(near_duplicate_pairs([a, b])) is near


def test_shingles_of_short_text_is_the_whole_text() -> None:
    assert shingles("Hi there") == frozenset([("hi", "there")])


def test_ids_and_splits_are_stable() -> None:
    assert stable_id("Hello,  World") == stable_id("hello world")
    assert split_for_scenario("w1-coffee-chat") == split_for_scenario("w1-coffee-chat")
    sides = [split_for_scenario(f"scenario-{i}") for i in range(2000)]
    assert 0.15 < sides.count("test") / len(sides) < 0.25
