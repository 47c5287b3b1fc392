"""Properties that must hold for any input, checked with hypothesis."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boundaryline.data import near_duplicate_pairs, text_key
from boundaryline.inbox.cleanup import strip_quoted_and_signature
from boundaryline.predict import decide
from boundaryline.settings import LABELS
from boundaryline.text import normalise_text

probability_rows = st.lists(st.floats(0.001, 1.0), min_size=3, max_size=3).map(lambda r: np.array(r) / sum(r))


@given(st.text())
def test_normalise_text_is_idempotent_and_single_spaced(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert "  " not in once and once == once.strip()


@given(st.lists(probability_rows, min_size=1, max_size=20), st.floats(0.05, 1.0))
def test_a_threshold_flags_exactly_the_rows_that_reach_it(rows: list[np.ndarray], threshold: float) -> None:
    proba = np.vstack(rows)
    assert decide(proba, list(LABELS), {}) == [LABELS[k] for k in proba.argmax(axis=1)]
    labels = decide(proba, list(LABELS), {"inappropriate_proposition": threshold})
    for label, row in zip(labels, proba, strict=True):
        if label == "inappropriate_proposition":
            assert row[2] >= threshold
        if row[2] >= threshold and row[2] > row[1]:
            assert label == "inappropriate_proposition"


@given(st.text())
def test_cleanup_never_adds_text(text: str) -> None:
    cleaned = strip_quoted_and_signature(text)
    assert len(cleaned) <= len(text.replace("\r\n", "\n"))
    assert strip_quoted_and_signature(cleaned) == cleaned


@settings(max_examples=50)
@given(st.lists(st.text(alphabet="abc de", min_size=1, max_size=40), min_size=2, max_size=8))
def test_near_duplicates_include_every_exact_duplicate(texts: list[str]) -> None:
    pairs = {(i, j) for i, j, _ in near_duplicate_pairs(texts)}
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if text_key(texts[i]) == text_key(texts[j]) and text_key(texts[i]):
                assert (i, j) in pairs
