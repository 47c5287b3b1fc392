"""Evidence laid onto the words of a message: the rule of ``boundaryline.highlight``, and nothing lost."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boundaryline.highlight import Segment, highlight, normalise_with_origins, word_weights
from boundaryline.predict import Scorer
from boundaryline.text import normalise_text

MESSAGES = [
    "Loved your talk!! Drinks after, just the two of us?",
    "Fourth email: why are you ignoring me??? Call 555-123-4567 or see https://example.com/cal?x=1 ...",
    "Hi Ana — could we move Thursday's sync to 3pm? Thanks, Gus 😉",
    "  İstanbul   was GREAT; e-mail me at ana@example.com!!!  ",
    "ok",
    "u look s e x y  b a b e, send p.i.c.s 😘",  # disguised words: one word spans its whole disguise
    "ѕеху h0t sooo pleeease \u200bx\u200by\u200bz",
]


def weights(segments: tuple[Segment, ...]) -> dict[str, float]:
    return {s.text: round(s.weight, 6) for s in segments if s.weight is not None}


@pytest.mark.parametrize("text", MESSAGES)
def test_normalising_with_origins_is_the_models_normalisation(text: str) -> None:
    normalised, origins = normalise_with_origins(text)
    assert normalised == normalise_text(text)
    assert len(origins) == len(normalised)
    assert all(0 <= start < end <= len(text) for start, end in origins)


@settings(max_examples=300)
@given(st.text())
def test_normalising_with_origins_agrees_for_any_text(text: str) -> None:
    normalised, origins = normalise_with_origins(text)
    assert normalised == normalise_text(text)
    assert len(origins) == len(normalised)


@pytest.mark.parametrize(
    ("text", "contributions", "expected"),
    [
        # a bigram's weight is shared between its two words
        ("the two of us", {"two of": 0.6}, {"the": 0.0, "two": 0.3, "of": 0.3, "us": 0.0}),
        # a term found twice is shared between its occurrences
        ("Call me, call me", {"call": 1.0, "call me": -0.4}, {"Call": 0.4, "me": -0.1, "call": 0.4}),
        # a placeholder covers the whole URL / phone number it stands for
        ("see https://x.com/a?b=1 now", {"xurl": 0.5}, {"see": 0.0, "https://x.com/a?b=1": 0.5, "now": 0.0}),
        ("ring 555-123-4567", {"xphone": -0.2}, {"ring": 0.0, "555-123-4567": -0.2}),
        # a white-space word named for its character n-grams is shared among the tokens inside it
        ("e-mail me", {"e-mail": 0.8}, {"e": 0.4, "mail": 0.4, "me": 0.0}),
        # punctuation alone is a word when character n-grams weigh it
        ("really !!!", {"!!!": 0.3}, {"really": 0.0, "!!!": 0.3}),
    ],
)
def test_the_sharing_rule(text: str, contributions: dict[str, float], expected: dict[str, float]) -> None:
    laid = word_weights(text, contributions)
    assert "".join(s.text for s in laid.segments) == text
    assert weights(laid.segments) == pytest.approx(expected)
    assert laid.unplaced == 0.0


def test_a_term_not_in_the_text_is_unplaced_not_lost() -> None:
    laid = word_weights("hello there", {"hello": 0.2, "goodbye": 0.5})
    assert laid.unplaced == 0.5
    assert sum(s.weight or 0.0 for s in laid.segments) == pytest.approx(0.2)


@pytest.mark.parametrize("text", MESSAGES)
@pytest.mark.parametrize("label", [None, "professional", "pestering", "inappropriate_proposition"])
def test_words_add_up_to_the_decision_value(tiny_scorer: Scorer, text: str, label: str | None) -> None:
    """The tiny model has word and character n-grams: every term is placed, and nothing is lost."""
    laid = highlight(tiny_scorer, text, label)
    explanation = tiny_scorer.explain(text, label)
    assert laid.label == explanation.label
    assert "".join(s.text for s in laid.segments) == text
    assert laid.unplaced == pytest.approx(0.0, abs=1e-12)
    words = sum(s.weight or 0.0 for s in laid.segments)
    assert laid.intercept + words == pytest.approx(laid.decision)
    assert laid.decision == pytest.approx(explanation.decision)


def test_the_strongest_word_of_a_proposition_is_highlighted(tiny_scorer: Scorer) -> None:
    laid = highlight(tiny_scorer, "Drinks tonight, just the two of us?", "inappropriate_proposition")
    strongest = max((s for s in laid.segments if s.weight is not None), key=lambda s: s.weight or 0.0)
    assert strongest.weight is not None and strongest.weight > 0
    assert strongest.text.lower() in {"drinks", "tonight", "just", "the", "two", "of", "us"}
