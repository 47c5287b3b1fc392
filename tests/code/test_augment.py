"""Counterfactual copies: the same messages and labels, with neutral words spread evenly over the classes."""

import pandas as pd

from boundaryline.augment import COPY_SUFFIX, tokens_of, with_counterfactuals


def corpus() -> pd.DataFrame:
    """ "Hello" and "sir" only in pestering, "thanks" and 😊 only in professional: what a model would learn from."""
    rows = [(f"Hello sir, this is message {i} without a reply", "pestering") for i in range(40)]
    rows += [(f"Thanks for the notes on chapter {i} 😊", "professional") for i in range(60)]
    rows += [(f"Dinner tonight, just us, number {i}?", "inappropriate_proposition") for i in range(30)]
    frame = pd.DataFrame(rows, columns=["text", "label"])
    return frame.assign(scenario=[f"s{i % 7}" for i in range(len(frame))], source="authored:test")


def share(frame: pd.DataFrame, word: str) -> dict[str, float]:
    has = frame["text"].map(lambda text: word in tokens_of(text))
    return has.groupby(frame["label"]).mean().to_dict()


def test_copies_keep_label_and_scenario_and_leave_the_originals_alone() -> None:
    train = corpus()
    out = with_counterfactuals(train, seed=1, sources=("authored",), copies=2, weights={})
    assert len(out) == 3 * len(train)
    pd.testing.assert_frame_equal(out.iloc[: len(train)], train)
    copies = out.iloc[len(train) :]
    assert (copies["source"] == "authored:test" + COPY_SUFFIX).all()
    assert copies["label"].tolist() == train["label"].tolist() * 2
    assert copies["scenario"].tolist() == train["scenario"].tolist() * 2


def test_neutral_words_end_up_in_every_class_alike() -> None:
    train = corpus()
    out = with_counterfactuals(train, seed=1, sources=("authored",), copies=2, weights={})
    for word in ("hello", "sir", "thanks", "😊"):
        before, after = share(train, word), share(out, word)
        assert max(before.values()) - min(before.values()) == 1.0  # only one class had it
        assert max(after.values()) - min(after.values()) < 0.15, (word, after)


def test_rows_of_other_sources_get_no_copies() -> None:
    train = corpus().assign(source="real-mail:enron")
    assert len(with_counterfactuals(train, seed=1, sources=("authored",), copies=2, weights={})) == len(train)
