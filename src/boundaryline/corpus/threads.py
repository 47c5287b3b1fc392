"""The frozen thread set: conversations whose last message is judged with its history (issues 15 and 20).

Built once from messages of the authored *test* split (never trained on) and committed as
``data/corpus/threads.jsonl``. Each base text is placed in several conversations that the labelling guide
decides differently: as a first message, as a second one after silence (one polite follow-up:
professional), as the fourth without a reply in a week (pestering), after the owner said not now
(pestering), after the owner replied (professional), at a slow cadence over two months (professional); a
message that asks for nothing stays professional however often it comes, and a proposition stays one in
any conversation. Issue 20 grew it (``grow_threads``) with long runs over weeks, chat bursts, the owner
answering in between, anonymous senders and mailing-list posts.

The evaluation writes the whole set as one export of each shape (``evaluate.as_export``), so that it runs
the batch path itself: the owner decided from the export, the turns, the runs.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from boundaryline.data import load_corpus, load_threads, train_test_frames
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
CHAT = ["Hi!", "How have you been?", "Long time!", "Hope all is well", "Quick one:"]
EARLIER = [
    "Hi, I wanted to ask whether you'd have time for a short call about the role?",
    "Following up on my note about the introduction: would you be able to help?",
    "Just checking whether you saw my message from last week?",
]


def _event(direction: str, when: datetime, text: str = "", channel: str = "email") -> dict[str, Any]:
    """One earlier message of a thread, as the thread file keeps it."""
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


def more_threads_for(text: str, label: str, rng: random.Random) -> list[dict[str, Any]]:
    """The shapes real exports showed the rule getting wrong (issue 20), around the same base message: a long
    run of follow-ups over weeks (pestering if it asks), a chat burst (one turn: the text's label), the owner
    answering in between, an anonymous sender ("LinkedIn Member": a different person in each conversation) and
    a mailing-list post (not written to the owner: nobody's run)."""
    day, minute = timedelta(days=1), timedelta(minutes=1)
    asks = label == "professional" and is_request(text)
    pestering_if_asks = "pestering" if asks else label
    earlier = rng.randint(4, 9)  # the message is the 5th to the 10th
    step = rng.uniform(14, 28) / earlier * day  # over two to four weeks
    burst = rng.randint(2, 4)
    kinds: list[tuple[str, list[dict[str, Any]], timedelta, str, dict[str, Any]]] = [
        (
            "long run over weeks",
            [_event("incoming", START + i * step, rng.choice(EARLIER)) for i in range(earlier)],
            earlier * step,
            pestering_if_asks,
            {},
        ),
        (
            "chat burst",
            [_event("incoming", START + i * minute, rng.choice(CHAT), "linkedin_dm") for i in range(burst)],
            burst * minute,
            label,
            {},
        ),
        (
            "owner answering in between",
            [
                event
                for i in range(3)
                for event in (
                    _event("incoming", START + i * day, rng.choice(EARLIER)),
                    _event("outgoing", START + i * day + 2 * timedelta(hours=1), rng.choice(REPLIES)),
                )
            ],
            3 * day,
            label,
            {},
        ),
        ("anonymous sender", [_event("incoming", START, rng.choice(EARLIER))], 2 * day, label, {"sender": "anonymous"}),
        (
            "mailing-list post",
            [_event("incoming", START + i * day, rng.choice(EARLIER)) for i in range(3)],
            4 * day,
            label,
            {"relay": "list"},
        ),
    ]
    return [
        {"kind": kind, **extra, "history": history,
         "message": {"text": text, "time": (START + at).isoformat(), "channel": "email"}, "expected": expected}
        for kind, history, at, expected, extra in kinds
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
    return grow_threads(threads, seed)


def grow_threads(threads: list[dict[str, Any]], seed: int = 7) -> list[dict[str, Any]]:
    """``threads`` with the shapes of ``more_threads_for`` added around each base that lacks them; the threads
    already there are kept as they are (the set is frozen: it only grows)."""
    kinds_of: dict[str, set[str]] = {}
    for thread in threads:
        kinds_of.setdefault(thread["base"], set()).add(thread["kind"])
    grown = list(threads)
    for thread in threads:
        if thread["kind"] != "first message":
            continue
        base, text, label = thread["base"], thread["message"]["text"], thread["expected"]
        rng = random.Random(f"{seed}:{base}")  # its own draws: adding a shape never changes another base's
        number = sum(t["base"] == base for t in grown)
        for extra in more_threads_for(text, label, rng):
            if extra["kind"] not in kinds_of[base]:
                grown.append({"id": f"th-{base}-{number}", "base": base, **extra})
                number += 1
    return grown


def write_threads(settings: Settings) -> int:
    """Grow the frozen thread set when there is one (``grow_threads``); build it when there is none."""
    threads = grow_threads(load_threads(settings)) if settings.threads_path.exists() else build_threads(settings)
    write_atomic(settings.threads_path, "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in threads))
    return len(threads)
