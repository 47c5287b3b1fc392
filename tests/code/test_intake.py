"""Issue 23, item 2: a retrain's intake (``check_new_examples``) is linear in the new rows. The training set
and the frozen sets are shingled once, however many new rows are checked, and the answers are exactly those
of the check it replaces (kept below as the reference)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pytest

from boundaryline import data
from boundaryline import retrain as retrain_module
from boundaryline.data import EXAMPLE_COLUMNS, Problem, check_row, near_duplicate_pairs, text_key, train_test_frames
from boundaryline.retrain import Checked, check_new_examples, retrain
from boundaryline.settings import LABELS, Settings

GOOD = Path(__file__).parents[1] / "fixtures" / "retrain_good.csv"


def reference_contained_pairs(
    new: Sequence[str], held: Sequence[str], threshold: float = 0.5
) -> list[tuple[int, int, float]]:
    """``data.contained_pairs`` before the intake was indexed, verbatim."""
    held_sets = [data.shingles(t) for t in held]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for j, s in enumerate(held_sets):
        for sh in s:
            index[sh].append(j)
    pairs = []
    for i, text in enumerate(new):
        mine = data.shingles(text)
        shared: Counter[int] = Counter(j for sh in mine for j in index.get(sh, ()))
        for j, n in shared.items():
            score = max(n / len(mine), n / len(held_sets[j]))
            if score >= threshold:
                pairs.append((i, j, score))
    return pairs


def reference_check(
    new: pd.DataFrame, corpus: pd.DataFrame, frozen: Mapping[str, pd.DataFrame], *, accept_conflicts: bool
) -> Checked:
    """``check_new_examples`` before the intake was indexed, verbatim (it re-shingled the training set for
    every new row: about a second a row on the shipped corpus)."""
    checked = Checked(accepted=new.iloc[:0])
    replaced: list[str] = []
    keep: list[int] = []
    known = {text_key(t): (i, lbl) for i, t, lbl in corpus[["id", "text", "label"]].itertuples(index=False)}
    held_out = pd.concat([frame[["id", "text"]] for frame in frozen.values()], ignore_index=True)
    held_texts = held_out["text"].tolist()
    train_rows = train_test_frames(corpus)[0]
    seen: set[str] = set()
    for position, row in enumerate(new.to_dict("records")):
        where = row["row"]
        problems = check_row(row, where, EXAMPLE_COLUMNS)
        if problems:
            checked.problems.append(problems[0])
            continue
        key = text_key(row["text"])
        if key in seen:
            checked.problems.append(Problem("duplicate", where, "same text earlier in the new examples"))
            continue
        seen.add(key)
        copies = reference_contained_pairs([row["text"]], held_texts)
        if copies:
            _, j, share = max(copies, key=lambda pair: pair[2])
            message = f"shares {share:.0%} of its text with held-out row {held_out['id'].iat[j]}; not merged"
            checked.problems.append(Problem("held-out", where, message))
            continue
        if key in known and known[key][1] == row["label"]:
            checked.problems.append(Problem("duplicate", where, f"already in the corpus as {known[key][0]}"))
            continue
        clashing = [
            train_rows["id"].iat[j - 1]
            for i, j, _ in near_duplicate_pairs([row["text"], *train_rows["text"]])
            if i == 0 and train_rows["label"].iat[j - 1] != row["label"]
        ]
        if clashing:
            labels = sorted(set(corpus.set_index("id").loc[clashing, "label"]))
            checked.conflicts.append(
                Problem(
                    "conflict", where, f"labelled {row['label']!r} but corpus row(s) {', '.join(clashing)} say {labels}"
                )
            )
            if not accept_conflicts:
                continue
            replaced.extend(clashing)
        keep.append(position)
    checked.accepted = new.iloc[keep].reset_index(drop=True)
    checked.replaces = {"all": replaced} if replaced else {}
    return checked


WORDS = [f"w{i}" for i in range(400)]
STOCK = "thanks so much for your message and have a lovely day"  # in over 60 rows: proposes no candidates


def corpus_and_frozen(rng: random.Random, rows: int = 600) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """A corpus (train and test splits; long, short and stock-phrase texts) and a challenge set."""

    def text() -> str:
        words = rng.choices(WORDS, k=rng.choice([3, 4, 8, 20, 40, 60]))
        return " ".join(words) + (f" {STOCK}" if rng.random() < 0.25 else "")

    corpus = pd.DataFrame(
        {
            "id": [f"c{i:04d}" for i in range(rows)],
            "text": [text() for _ in range(rows)],
            "label": rng.choices(LABELS, k=rows),
            "split": rng.choices(["train", "test"], weights=[4, 1], k=rows),
        }
    )
    challenge = pd.DataFrame({"id": [f"ch{i:03d}" for i in range(40)], "text": [text() for _ in range(40)]})
    return corpus, {"test": corpus[corpus["split"] == "test"], "challenge": challenge}


def new_rows(rng: random.Random, corpus: pd.DataFrame, challenge: pd.DataFrame, n: int) -> pd.DataFrame:
    """New rows of every kind the intake tells apart: fresh, exact and near copies of training rows (same label
    or another), excerpts of held-out rows, repeats within the new rows, invalid rows."""
    texts = corpus["text"].tolist()
    rows: list[tuple[str, str]] = []
    for k in range(n):
        kind = k % 9
        base = rng.choice(texts).split()
        label = rng.choice(LABELS)
        if kind == 0:
            text = " ".join(rng.choices(WORDS, k=rng.choice([4, 12, 30])))
        elif kind == 1:  # the same words, another case and spacing
            text = "  ".join(base).upper()
        elif kind == 2:  # one word changed near the end: a near-duplicate when the text is long
            base[-2] = f"changed{k}"
            text = " ".join(base)
        elif kind == 3:  # a word added
            text = " ".join([*base, f"extra{k}"])
        elif kind == 4:  # an excerpt of a held-out row
            held = rng.choice(challenge["text"].tolist() + corpus.loc[corpus["split"] == "test", "text"].tolist())
            words = held.split()
            text = " ".join(words[: max(len(words) * 3 // 5, 1)])
        elif kind == 5 and rows:  # a repeat of an earlier new row
            text, label = rows[rng.randrange(len(rows))]
        elif kind == 6:
            text, label = rng.choice(["", "   ", "fine"]), rng.choice(["spam", *LABELS])
        elif kind == 7:  # half the words shuffled: seldom near
            half = len(base) // 2
            text = " ".join(base[:half] + rng.sample(base[half:], len(base) - half))
        else:
            text = " ".join(base[1:])
        rows.append((text, label))
    return pd.DataFrame(
        {
            "text": [t for t, _ in rows],
            "label": [lbl for _, lbl in rows],
            "channel": "",
            "id": [f"f{k}" for k in range(n)],
            "note": "",
            "row": [f"feedback:f{k}" for k in range(n)],
            "source": "feedback",
        }
    )


def summary(checked: Checked) -> tuple[object, ...]:
    return checked.accepted.to_dict("records"), checked.problems, checked.conflicts, checked.replaced_ids


@pytest.mark.parametrize(("seed", "accept_conflicts"), [(0, False), (1, True)])
def test_the_indexed_intake_answers_as_the_old_one(seed: int, accept_conflicts: bool) -> None:
    rng = random.Random(seed)
    corpus, frozen = corpus_and_frozen(rng)
    new = new_rows(rng, corpus, frozen["challenge"], 400)
    old = reference_check(new, corpus, frozen, accept_conflicts=accept_conflicts)
    checked = check_new_examples(new, corpus, frozen, accept_conflicts=accept_conflicts)
    assert summary(checked) == summary(old)
    found = Counter(p.check for p in [*checked.problems, *checked.conflicts])
    # every kind of outcome is exercised, not only the easy ones
    assert {"duplicate", "held-out", "text", "label", "conflict"} <= set(found), found
    assert 0 < len(checked.accepted) < len(new)
    if accept_conflicts:
        assert checked.replaced_ids


@pytest.fixture
def shingled(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every text shingled during the test, with how many times (wherever the call comes from)."""
    calls: Counter[str] = Counter()
    real = data.shingles

    def spy(text: str, size: int = data.SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
        calls[text] += 1
        return real(text, size)

    monkeypatch.setattr(data, "shingles", spy)
    monkeypatch.setattr(retrain_module, "shingles", spy, raising=False)
    return calls


@pytest.mark.parametrize("n", [10, 300])
def test_the_training_set_is_shingled_once_however_many_rows_come(
    n: int, shingled: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(2)
    corpus, frozen = corpus_and_frozen(rng)
    corpus = corpus.drop_duplicates("text")
    frozen["test"] = corpus[corpus["split"] == "test"]
    new = new_rows(rng, corpus, frozen["challenge"], n)
    bars: list[tuple[int, str]] = []

    def counting_bar(items: Sequence[object], *, total: int, desc: str, unit: str = "fit") -> Sequence[object]:
        bars.append((total, desc))
        return items

    monkeypatch.setattr(retrain_module, "bar", counting_bar)
    checked = check_new_examples(new, corpus, frozen, accept_conflicts=False)
    training = set(corpus.loc[corpus["split"] == "train", "text"]) - set(new["text"])
    assert {shingled[t] for t in training} == {1}
    # each training and held-out row once, and each new row that reaches the shingle checks once: linear
    reaching = len(new) - sum(
        p.check in ("text", "label") or "earlier in the new" in p.message for p in checked.problems
    )
    indexed = int((corpus["split"] == "train").sum()) + len(frozen["test"]) + len(frozen["challenge"])
    assert sum(shingled.values()) == indexed + reaching
    assert bars == [(n, "checking new examples")]


def test_a_retrain_says_it_is_checking_the_new_rows(tiny_project: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = retrain(tiny_project, new=GOOD, quick=True, force=True)
    assert outcome.promoted
    assert "retrain: checking 30 new example(s) against the corpus and test, challenge" in capsys.readouterr().err
