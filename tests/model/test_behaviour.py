"""Behaviour of the model in service (Ribeiro et al.'s CheckList idea): obvious cases right, invariance
to names, and the expected direction when a red flag is added."""

from typing import Any

import pytest

from boundaryline.predict import Scorer
from boundaryline.settings import LABELS
from boundaryline.train import PARAM_GRID

OBVIOUS = {
    "professional": [
        "Hi Maya, thanks for speaking at our meetup last night. Would you be open to a 20-minute call next month about your move into data engineering?",
        "Attached is the signed statement of work. Please let me know if legal needs anything else before Friday.",
        "Thank you for the referral! I had my first interview today and it went well.",
        "Our team is hosting drinks after the product launch on Thursday, everyone from the partner agencies is welcome.",
        "Your article on onboarding metrics was really useful, we used the framework in our last planning cycle.",
        "I'm afraid I don't have capacity to mentor anyone this quarter, but the alumni office runs a great programme.",
    ],
    "pestering": [
        "This is my fifth email this month and you still haven't replied. I'll call your office tomorrow morning.",
        "You said you'd get back to me but it's been two days, so I'm asking again: when can we meet?",
        "I messaged you here, emailed you, and left a voicemail. Why are you ignoring me?",
        "I'll keep checking in every week until you agree to refer me.",
        "Guess you're too important to answer people who are just starting out. Third message now.",
    ],
    "inappropriate_proposition": [
        "Forget the coffee chat, let me take you out on a proper date this weekend, just the two of us.",
        "You're even more beautiful in person than in your profile picture.",
        "I can get you that referral if you come to dinner with me first. Just us, not a work thing.",
        "Can't stop thinking about you since the interview. Are you up?",
        "Let's go over your application in my hotel room after the conference dinner, it's more private.",
    ],
}


@pytest.mark.parametrize(("label", "text"), [(label, text) for label, texts in OBVIOUS.items() for text in texts])
def test_obvious_cases(shipped_scorer: Scorer, label: str, text: str) -> None:
    assert shipped_scorer.score([text])[0].label == label


TEMPLATES = [
    "Hi {name}, great to meet you at the fintech breakfast. Could we set up a short call about the risk team?",
    "{name}, this is the fourth time I'm writing and you still haven't answered. I'll come by your office.",
    "{name}, you looked gorgeous at the conference. Dinner tonight, just the two of us?",
    "Thanks {name}, the contract is signed and I've sent it back to procurement.",
]
NAMES = ["Sarah", "Mohammed", "Wei", "Olumide", "Ana Lucía", "Dmitri", "Priya", "Kwame", "Jessica", "Hiroshi"]


@pytest.mark.parametrize("template", TEMPLATES)
def test_names_do_not_change_the_label(shipped_scorer: Scorer, template: str) -> None:
    labels = {s.label for s in shipped_scorer.score([template.format(name=name) for name in NAMES])}
    assert len(labels) == 1, labels


def _p(scorer: Scorer, text: str, label: str) -> float:
    return scorer.score([text])[0].scores[label]


BASES = [
    "Hi Jordan, it was good to meet you at the analytics summit. Would you like to grab a drink on Thursday?",
    "Thanks for the chat about the product role. Let's meet again next week to talk about the team.",
    "Great presentation today. Let me know when you have time to discuss the partnership.",
]
DIRECTIONS: list[tuple[str, str]] = [
    (" Just the two of us.", "inappropriate_proposition"),
    (" You looked stunning up there, by the way.", "inappropriate_proposition"),
    (" This is my fourth message without a reply.", "pestering"),
    (" I'll keep messaging every day until you answer.", "pestering"),
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize(("addition", "label"), DIRECTIONS)
def test_adding_a_red_flag_raises_its_class(shipped_scorer: Scorer, base: str, addition: str, label: str) -> None:
    assert _p(shipped_scorer, base + addition, label) > _p(shipped_scorer, base, label)


@pytest.mark.parametrize("base", BASES)
def test_a_courtesy_does_not_raise_concern(shipped_scorer: Scorer, base: str) -> None:
    polite = base + " Thanks so much for your time, and no worries at all if you're busy."
    for label in ("pestering", "inappropriate_proposition"):
        assert _p(shipped_scorer, polite, label) <= _p(shipped_scorer, base, label) + 0.05


def test_explanations_point_at_the_red_flag(shipped_scorer: Scorer) -> None:
    text = "Great meeting you at the summit. Dinner this weekend, just the two of us?"
    top = [c.term for c in shipped_scorer.explain(text, "inappropriate_proposition").top(6)]
    assert {"two", "us", "just", "dinner", "the two of us", "just the", "two of", "of us", "weekend"} & set(top), top


def test_manifest_records_what_made_the_model(shipped_scorer: Scorer) -> None:
    manifest: dict[str, Any] = shipped_scorer.manifest
    assert manifest["labels"] == list(LABELS)
    assert set(manifest["search"]["space"]) == set(PARAM_GRID)
    assert manifest["search"]["chosen"]
    assert manifest["corpus"]["rows"] >= 3000
    assert {"test", "challenge"} <= set(manifest["metrics"])
    external = manifest["corpus"]["external"]
    if external is not None:  # trained with real mail: the files it read, by hash, and the real-mail sets
        assert all(len(digest) == 64 for digest in external["files"].values())
        assert {"real_test", "real_maildir"} <= set(manifest["metrics"])
    real_dm = manifest["corpus"].get("real_dm")
    if real_dm is not None:  # trained with real DMs: their files by hash, the test exports, the real-DM set
        assert all(len(digest) == 64 for digest in real_dm["files"].values())
        assert real_dm["test_exports"] and "real_dm_test" in manifest["metrics"]
