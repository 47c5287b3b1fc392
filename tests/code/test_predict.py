import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import FeatureUnion, Pipeline

from boundaryline.features import char_vectoriser, word_vectoriser
from boundaryline.model import build_pipeline
from boundaryline.predict import Scorer, decide
from boundaryline.registry import ModelError
from boundaryline.settings import LABELS

LABEL_LIST = list(LABELS)


@pytest.mark.parametrize(
    ("row", "thresholds", "expected"),
    [
        ([0.6, 0.1, 0.3], {}, "professional"),
        ([0.6, 0.1, 0.3], {"inappropriate_proposition": 0.35}, "professional"),
        ([0.6, 0.05, 0.35], {"inappropriate_proposition": 0.35}, "inappropriate_proposition"),
        ([0.3, 0.36, 0.34], {"inappropriate_proposition": 0.3, "pestering": 0.3}, "pestering"),
        ([0.5, 0.2, 0.3], {"professional": 0.9}, "professional"),  # only concern classes move the label
        ([0.2, 0.1, 0.7], {"inappropriate_proposition": 0.8}, "professional"),  # not confident enough to flag
        ([0.2, 0.5, 0.3], {"inappropriate_proposition": 0.8}, "pestering"),  # no threshold: arg-max rules
    ],
)
def test_decide(row: list[float], thresholds: dict[str, float], expected: str) -> None:
    assert decide(np.array([row]), LABEL_LIST, thresholds) == [expected]


TEXTS = [
    "Dinner tonight, just the two of us? You looked stunning at the conference 😍",
    "Following up AGAIN, this is my 4th email: please reply!!",
    "Thanks for the intro to Maria, we meet on Tuesday.",
    "",
]


@pytest.mark.parametrize("which", ["tiny_scorer", "shipped_scorer"])  # char + word features; the shipped mix
@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("label", LABEL_LIST)
def test_contributions_add_up_to_the_decision_function(
    request: pytest.FixtureRequest, which: str, text: str, label: str
) -> None:
    scorer: Scorer = request.getfixturevalue(which)
    pipeline = request.getfixturevalue(which.replace("scorer", "pipeline"))
    explanation = scorer.explain(text, label)
    k = scorer.labels.index(label)
    decision = pipeline.decision_function([text])[0][k]
    total = explanation.intercept + sum(c.weight for c in explanation.contributions)
    assert explanation.decision == pytest.approx(decision, abs=1e-9)
    assert total == pytest.approx(decision, abs=1e-9)


def test_explanation_terms_are_words_of_the_message(tiny_scorer: Scorer) -> None:
    text = "Dinner tonight, just the two of us?"
    terms = {c.term for c in tiny_scorer.explain(text, "inappropriate_proposition").contributions}
    words = set(text.lower().replace(",", "").replace("?", "").split())
    assert terms, "an explanation must name some terms"
    assert all(set(term.split()) <= words for term in terms), terms - words


def test_explain_rejects_an_unknown_label(tiny_scorer: Scorer) -> None:
    with pytest.raises(ValueError, match="unknown label 'spam'"):
        tiny_scorer.explain("hello", "spam")


def test_score_matches_the_bare_pipeline(tiny_scorer: Scorer, tiny_pipeline: Pipeline) -> None:
    scores = tiny_scorer.score(TEXTS, explain=True, top_k=3)
    proba = tiny_pipeline.predict_proba(TEXTS)
    for score, row in zip(scores, proba, strict=True):
        assert [score.scores[label] for label in tiny_scorer.labels] == pytest.approx(list(row))
        # arg-max, a tie with professional (the empty text scores a third each) going to professional
        in_order = [row[tiny_scorer.labels.index(label)] for label in LABELS]
        assert score.label == LABELS[int(np.argmax(in_order))]
        assert score.flagged == (score.label != "professional")
        assert score.explanation is not None and len(score.explanation) <= 3
        assert all(c.weight > 0 for c in score.explanation)


def test_thresholds_change_labels_identically_in_score_and_explain(tiny_scorer: Scorer) -> None:
    k = tiny_scorer.labels.index("inappropriate_proposition")
    lowest = float(tiny_scorer.predict_proba(TEXTS)[:, k].min())
    eager = Scorer(tiny_scorer.table, tiny_scorer.manifest, thresholds={"inappropriate_proposition": lowest})
    plain = tiny_scorer.score(TEXTS)
    for text, before, after in zip(TEXTS, plain, eager.score(TEXTS), strict=True):
        if before.label == "professional":  # proposition now qualifies and pestering does not
            assert after.label == "inappropriate_proposition"
        assert eager.explain(text).label == after.label
    shy = Scorer(tiny_scorer.table, tiny_scorer.manifest, thresholds={"inappropriate_proposition": 1.0})
    assert all(s.label != "inappropriate_proposition" for s in shy.score(TEXTS))


def test_thresholds_for_one_call_match_a_scorer_built_with_them(tiny_scorer: Scorer) -> None:
    k = tiny_scorer.labels.index("inappropriate_proposition")
    thresholds = {"inappropriate_proposition": float(tiny_scorer.predict_proba(TEXTS)[:, k].min())}
    built = Scorer(tiny_scorer.table, tiny_scorer.manifest, thresholds=thresholds)
    assert [s.label for s in tiny_scorer.score(TEXTS, thresholds=thresholds)] == [s.label for s in built.score(TEXTS)]
    assert tiny_scorer.score(TEXTS, thresholds={}) == tiny_scorer.score(TEXTS)  # {} is the arg-max
    assert tiny_scorer.thresholds == {}  # the scorer's own thresholds are untouched


def test_training_is_deterministic(tiny_trained) -> None:  # type: ignore[no-untyped-def]
    corpus = pd.read_csv(tiny_trained.corpus_path, dtype=str, keep_default_na=False)
    first = build_pipeline(seed=7).fit(corpus["text"], corpus["label"])
    second = build_pipeline(seed=7).fit(corpus["text"], corpus["label"])
    assert np.array_equal(first[-1].coef_, second[-1].coef_)
    assert np.array_equal(first.predict_proba(TEXTS), second.predict_proba(TEXTS))


def test_the_scorer_finds_the_steps_by_name(tiny_scorer: Scorer, tiny_pipeline: Pipeline) -> None:
    steps = dict(tiny_pipeline.steps)
    renamed = Pipeline([("clean", steps["normalise"]), ("tfidf", steps["tfidf"]), ("clf", steps["clf"])])
    with pytest.raises(ModelError, match=r"steps \['normalise', 'tfidf', 'clf'\], found \['clean', 'tfidf', 'clf'\]"):
        Scorer.of_pipeline(renamed, tiny_scorer.manifest)


def test_explanations_follow_the_feature_union_whatever_its_order(tiny_trained) -> None:  # type: ignore[no-untyped-def]
    """Columns are named from the union's own members, so reordering or dropping one cannot shift them."""
    corpus = pd.read_csv(tiny_trained.corpus_path, dtype=str, keep_default_na=False)
    for members in (
        [("char", char_vectoriser()), ("word", word_vectoriser())],
        [("word", word_vectoriser()), ("char", "drop")],
    ):
        pipeline = build_pipeline(tfidf=FeatureUnion(members)).fit(corpus["text"], corpus["label"])
        scorer = Scorer.of_pipeline(pipeline, {"version": "t"})
        for text in TEXTS:
            explanation = scorer.explain(text, "pestering")
            decision = pipeline.decision_function([text])[0][scorer.labels.index("pestering")]
            total = explanation.intercept + sum(c.weight for c in explanation.contributions)
            assert total == pytest.approx(decision, abs=1e-9)


def test_a_plain_string_is_refused(tiny_scorer: Scorer) -> None:
    with pytest.raises(TypeError, match=r"score\(\[text\]\)"):
        tiny_scorer.score("Coffee next week?")


def test_a_tie_is_no_evidence() -> None:
    """With no known word a message scores a third per class; in the model's own class order the arg-max would
    be the first concern class, but a tie with professional is no reason to flag."""
    order = ["inappropriate_proposition", "pestering", "professional"]  # scikit-learn's (alphabetical) order
    assert decide(np.full((1, 3), 1 / 3), order, {}) == ["professional"]
