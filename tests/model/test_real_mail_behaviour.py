"""The model must hold on mail nobody on the project wrote: it may not lean on function words (they give
away a voice, not a behaviour), and bland business mail is never flagged."""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from boundaryline.data import load_threads
from boundaryline.evaluate import evaluate_threads
from boundaryline.features import FUNCTION_WORDS
from boundaryline.predict import Scorer
from boundaryline.settings import Settings
from tests.model.bland_short import BLAND_SHORT

# Ordinary business and office mail in the voice of real inboxes: every one uses the function words that
# used to push real mail towards a concern class ("just", "again", "you are", "that", "maybe", "night", "wish").
BLAND = [
    "Jeff, you will be missed by many people here. Best of luck in the new job.",
    "Just checking in to see if folks got the files I sent last night.",
    "Please see the attached schedule for next week and let me know if that works for you.",
    "Can you send me the updated numbers again? The ones I have are from Tuesday.",
    "I wish we had more time on this, but we need the draft by Friday.",
    "Maybe we should move the call to Thursday, half the team is out on Monday.",
    "Thanks again for dinner with the client last night, they were very happy with the proposal.",
    "You are on the list for the offsite. Bus leaves at 7:30 from the main lobby.",
    "FYI - the conference room is booked from 2 to 4, room 3B.",
    "Just a reminder that expense reports are due at the end of the month.",
    "That works for me. Let's do 10am and I'll send the invite.",
    "I'll be out of the office until Monday with limited access to email.",
    "We're all going for drinks after work on Friday for Sarah's birthday, join us if you can!",
    "Attached is the signed contract. Please countersign and return a copy to legal.",
    "Could you take another look at the model before we send it to the board?",
    "Sorry I missed your call, I was in meetings all day. Call me back when you get a chance.",
    "Great job on the presentation today, the client loved it.",
    "Here is the latest report. Let me know if you have any questions.",
    "Please forward this to anyone on your team who should attend the training.",
    "I just spoke with accounting and they will process the invoice this week.",
    "Can we meet again next week to go over the budget? I'm free Tuesday afternoon.",
    "Happy holidays to you and your family, and thanks for all your help this year.",
    "The system will be down Saturday night from 10pm to 2am for maintenance.",
    "Following up on our conversation yesterday: I've attached the term sheet we discussed.",
    "I think we should wait until the numbers are final before we say anything to the group.",
    "Your badge will be ready at reception on your first day. Welcome aboard!",
    "Did you get a chance to review the draft? No rush, end of week is fine.",
    "Lunch is on me tomorrow for everyone who worked the weekend on the migration.",
    "We need two more volunteers for the charity run on Sunday, let me know if you're in.",
    "I'm running a few minutes late, start without me and I'll dial in.",
]


def top_terms(pipeline: Pipeline, label: str, k: int = 30) -> list[str]:
    """The ``k`` features with the largest coefficients for ``label``, as the text they match."""
    clf = pipeline.named_steps["clf"]
    names = pipeline.named_steps["tfidf"].get_feature_names_out()
    weights = clf.coef_[list(clf.classes_).index(label)]
    return [str(names[j]).split("__", 1)[1].strip() for j in np.argsort(-weights)[:k]]


@pytest.mark.parametrize("label", ["pestering", "inappropriate_proposition"])
def test_no_function_word_among_the_top_terms(shipped_pipeline: Pipeline, label: str) -> None:
    terms = top_terms(shipped_pipeline, label)
    function_only = [t for t in terms if FUNCTION_WORDS.issuperset(t.split())]
    assert not function_only, f"function words among the 30 strongest {label} terms: {function_only}"


# v003 flags this one: "dinner" opens 539 authored propositions against ~400 professional messages, and no
# data added for issue 19 evened that out. Strict: the day it passes, this mark must go.
KNOWN_FLAGGED = {"Thanks again for dinner with the client last night, they were very happy with the proposal."}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(t, marks=pytest.mark.xfail(strict=True, reason="v003 over-weights 'dinner' (issue 19 note)"))
        if t in KNOWN_FLAGGED
        else t
        for t in BLAND
    ],
)
def test_bland_business_mail_is_never_flagged(shipped_scorer: Scorer, text: str) -> None:
    score = shipped_scorer.score([text])[0]
    assert not score.flagged, (score.label, score.scores)


def test_short_bland_messages_are_not_flagged(shipped_scorer: Scorer) -> None:
    """One-liners of texts, chat and mail with no sign of a violation ("ok", "lol yeah", "kindly revert"): a
    flag needs evidence. At most one in twenty-five may be flagged, and every one is named."""
    flagged = [(t, s.label) for t, s in zip(BLAND_SHORT, shipped_scorer.score(BLAND_SHORT), strict=True) if s.flagged]
    assert len(flagged) <= len(BLAND_SHORT) // 25, flagged


def test_a_message_with_no_known_word_is_not_flagged(shipped_scorer: Scorer) -> None:
    for text in ("", "xyzzy qwerty", "Ññ ßß"):
        assert not shipped_scorer.score([text])[0].flagged


def test_the_history_helps_on_the_thread_set_and_never_changes_a_message_alone(
    shipped_scorer: Scorer, shipped_pipeline: Pipeline, project_settings: Settings
) -> None:
    threads = load_threads(project_settings)
    assert len(threads) >= 150
    result = evaluate_threads(shipped_pipeline, threads, shipped_scorer.thresholds, project_settings)
    text = result["text_only"]["accuracy_by_kind"]
    for shape, found in result["by_shape"].items():  # each written as one export: the owner decided from it
        assert found["owner_right"], f"{shape}: took {found['owner']} for the owner"
        assert found["accuracy"] >= 0.9 and found["accuracy"] > result["text_only"]["accuracy"], shape
        by_kind = found["accuracy_by_kind"]
        assert by_kind["first message"] == text["first message"]  # no history: the text's label
        assert by_kind["long run over weeks"] > text["long run over weeks"], shape
        for kind in ("chat burst", "anonymous sender", "mailing-list post", "owner answering in between"):
            assert by_kind.get(kind, 1.0) >= text[kind], f"{shape}: {kind}"  # the history never hurts these
