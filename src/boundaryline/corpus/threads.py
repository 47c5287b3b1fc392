"""The frozen thread set: conversations whose last message is judged with its history (issue 15).

Built once from messages of the authored *test* split (never trained on) and committed as
``data/corpus/threads.jsonl``. Each base text is placed in several conversations that the labelling guide
decides differently: as a first message, as a second one after silence (one polite follow-up:
professional), as the fourth without a reply in a week (pestering), after the owner said not now
(pestering), after the owner replied (professional), at a slow cadence over two months (professional); a
message that asks for nothing stays professional however often it comes, and a proposition stays one in
any conversation.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from boundaryline.data import load_corpus, train_test_frames
from boundaryline.files import write_atomic
from boundaryline.senders import REFUSAL, is_request
from boundaryline.settings import Settings

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REFUSALS = [
    "Thanks, but not now: I'm swamped until March.",
    "I'm not interested, but good luck with it.",
    "I'll get back to you when things calm down.",
]
REPLIES = ["Sure, let's talk on Tuesday at 10.", "Happy to help: send me the draft and I'll look this week."]
EARLIER = [
    "Hi, I wanted to ask whether you'd have time for a short call about the role?",
    "Following up on my note about the introduction: would you be able to help?",
    "Just checking whether you saw my message from last week?",
]


def _event(direction: str, when: datetime, text: str = "", channel: str = "email") -> dict[str, Any]:
    return {"direction": direction, "time": when.isoformat(), "text": text, "channel": channel}


def threads_for(text: str, label: str, rng: random.Random) -> list[dict[str, Any]]:
    """The conversations built around one base message, each with the label the guide gives its last message."""
    day = timedelta(days=1)
    asks = label == "professional" and is_request(text)
    pestering_if_asks = "pestering" if asks else label
    kinds: list[tuple[str, list[dict[str, Any]], timedelta, str]] = [
        ("first message", [], timedelta(0), label),
        ("second after silence", [_event("incoming", START, rng.choice(EARLIER))], 5 * day, label),
        (
            "fourth in a week without a reply",
            [_event("incoming", START + i * 2 * day, rng.choice(EARLIER)) for i in range(3)],
            6 * day,
            pestering_if_asks,
        ),
        (
            "after the owner said not now",
            [_event("incoming", START, rng.choice(EARLIER)), _event("outgoing", START + day, rng.choice(REFUSALS))],
            3 * day,
            pestering_if_asks,
        ),
        (
            "after the owner replied",
            [
                *[_event("incoming", START + i * day, rng.choice(EARLIER)) for i in range(3)],
                _event("outgoing", START + 3 * day, rng.choice(REPLIES)),
            ],
            4 * day,
            label,
        ),
        (
            "slow cadence over two months",
            [_event("incoming", START + i * 20 * day, rng.choice(EARLIER)) for i in range(3)],
            60 * day,
            label,
        ),
    ]
    return [
        {"kind": kind, "history": history, "message": {"text": text, "time": (START + at).isoformat(), "channel": "email"},
         "expected": expected}
        for kind, history, at, expected in kinds
    ]  # fmt: skip


def build_threads(settings: Settings, *, per_label: int = 12, seed: int = 7) -> list[dict[str, Any]]:
    """Threads around base messages drawn from the test split: requests and non-requests that are
    professional, and propositions (pestering texts are pestering with or without a history)."""
    _, test = train_test_frames(load_corpus(settings))
    rng = random.Random(seed)
    short = test[
        test["text"].str.split().str.len().between(6, 60) & ~test["text"].map(lambda t: bool(REFUSAL.search(t)))
    ]
    requests = short[(short["label"] == "professional") & short["text"].map(is_request)]
    news = short[(short["label"] == "professional") & ~short["text"].map(is_request)]
    propositions = short[short["label"] == "inappropriate_proposition"]
    picked = pd.concat(
        [frame.sample(min(per_label, len(frame)), random_state=seed) for frame in (requests, news, propositions)]
    )
    threads = []
    for row in picked.itertuples(index=False):
        for n, thread in enumerate(threads_for(row.text, row.label, rng)):
            threads.append({"id": f"th-{row.id}-{n}", "base": row.id, **thread})
    return threads


def write_threads(settings: Settings) -> int:
    threads = build_threads(settings)
    write_atomic(settings.threads_path, "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in threads))
    return len(threads)
