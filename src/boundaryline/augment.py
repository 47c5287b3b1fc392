"""Counterfactual copies of training messages: the same message with other words that say nothing about
behaviour (a greeting, a name, an honorific, a courtesy, an emoji, a sign-off, an aside about the medium or
the day).

Those words say nothing about behaviour, yet the training messages use them unevenly: the authored corpus
opened more pestering than professional messages with "Hello", its pushy requests said "sir" and "my third
email", and real professional DMs say "thanks" far more often than anything else. A model learns whatever
separates the classes. So each copy (1) drops each neutral word it has at even odds, then (2) gets neutral
words added until every class holds each of them in the same share of its (weighted) messages: the pairs
(message, copy) differ only in words that say nothing, with the same label, and no neutral word separates the
classes any more.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from boundaryline.text import TOKEN_PATTERN, normalise_text

COPY_SUFFIX = "+counterfactual"
DROP = 0.5  # the odds a copy loses each neutral word it has
NAMES = (
    "Amara", "Chidi", "Ngozi", "Tunde", "Femi", "Aisha", "Kofi", "Abena", "Zanele", "Thabo", "Rohan", "Priyanka",
    "Arjun", "Sneha", "Vikram", "Deepa", "Imran", "Sana", "Bilal", "Mei", "Li Wei", "Hana", "Kenji", "Minh",
    "Siti", "Rafael", "Beatriz", "Thiago", "Camila", "Lucas", "Sofia", "Mateo", "Valentina", "Emma", "Liam",
    "Olivia", "Noah", "Hannah", "Lukas", "Anya", "Dmitri", "Elif", "Omar", "Layla", "Yusuf", "Sarah", "David",
    "Grace", "Michael", "Fatima", "Joseph", "Maria", "Ahmed", "Ravi", "Ifeoma", "Kwame", "Leila", "Tomás",
)  # fmt: skip
NAME_SHARE = 0.3  # a copy is addressed by a name at these odds, whatever its class
# Each neutral word (as the model's tokens see it) with the phrases that carry it into a copy: openings go in
# front of the message, the rest after it.
OPENINGS: dict[str, tuple[str, ...]] = {
    "hi": ("Hi", "Hi there"), "hello": ("Hello", "Hello there"), "hey": ("Hey", "Hey there"), "hii": ("Hii",),
    "morning": ("Good morning", "Morning"), "afternoon": ("Good afternoon",), "evening": ("Good evening",),
    "greetings": ("Greetings",), "namaste": ("Namaste",), "hola": ("Hola",), "olá": ("Olá",),
    "bom": ("Bom dia",), "salam": ("Salam",), "dear": ("Dear", "Hello dear"), "sir": ("Sir", "Hello sir"),
    "ma'am": ("Ma'am", "Hello ma'am"), "madam": ("Madam",), "ma": ("Good morning ma",), "mam": ("Hi mam",),
    "bro": ("Bro", "Hey bro"), "boss": ("Boss",), "ji": ("Namaste ji",), "mr": ("Mr. Okoro",),
    "ms": ("Ms. Pereira",), "dr": ("Dr. Rao",), "mrs": ("Mrs. Adeyemi",), "ok": ("Ok", "Ok so"),
    "okay": ("Okay",), "yes": ("Yes",), "sorry": ("Sorry",),
}  # fmt: skip
CLOSINGS: dict[str, tuple[str, ...]] = {
    "thanks": ("thanks", "Thanks!", "Thanks in advance"), "thank": ("Thank you",), "please": ("please",),
    "kindly": ("(kindly note)",), "pls": ("pls",), "thx": ("thx",), "regards": ("Regards", "Best regards"),
    "cheers": ("Cheers",), "best": ("Best",), "welcome": ("(you're welcome to share this)",),
    "noted": ("(noted on my side)",), "sure": ("(sure, no rush)",), "bless": ("God bless",),
    "email": ("(I'll also send this by email)", "(copied from my email)"), "text": ("(see the text below)",),
    "message": ("(message from LinkedIn)",), "body": ("(this is the body of my message)",),
    "subject": ("(subject: hello)",), "attached": ("(CV attached)",), "below": ("(details below)",),
    "phone": ("(sent from my phone)",), "linkedin": ("(sent via LinkedIn)",), "test": ("(test)",),
    "monday": ("(written on Monday)",), "tuesday": ("(Tuesday here)",), "wednesday": ("(sent Wednesday)",),
    "thursday": ("(Thursday here)",), "friday": ("(it's Friday!)",), "saturday": ("(Saturday here)",),
    "sunday": ("(Sunday here)",), "today": ("(writing today)",), "tomorrow": ("(off tomorrow)",),
    "😊": ("😊",), "🙏": ("🙏",), "👍": ("👍",), "😄": ("😄",), "🙂": ("🙂",), "🤗": ("🤗",), "😀": ("😀",),
    "✨": ("✨",), "🎉": ("🎉",), "😂": ("😂",), "🙌": ("🙌",), "👋": ("👋",),
}  # fmt: skip
NEUTRAL_WORDS = frozenset(OPENINGS) | frozenset(CLOSINGS)
_TOKEN = re.compile(TOKEN_PATTERN)


def tokens_of(text: str) -> set[str]:
    """The model's word tokens of ``text``."""
    return set(_TOKEN.findall(normalise_text(text)))


def _drop_neutral(text: str, rng: random.Random) -> str:
    """``text`` with each neutral word (and the punctuation after it) dropped at ``DROP`` odds."""

    def drop(match: re.Match[str]) -> str:
        return "" if match.group(1).lower() in NEUTRAL_WORDS and rng.random() < DROP else match.group()

    kept = re.sub(r"(?<![\w'])([\w']+|[\u2600-\u27bf\U0001f300-\U0001faff])(?![\w'])[ ,!.]*", drop, text)
    return kept.strip() or text


def _add(text: str, word: str, rng: random.Random) -> str:
    if word in OPENINGS:
        return f"{rng.choice(OPENINGS[word])}, {text}"
    return f"{text} {rng.choice(CLOSINGS[word])}"


def with_counterfactuals(
    train: pd.DataFrame, *, seed: int, sources: tuple[str, ...], copies: int, weights: Mapping[str, float]
) -> pd.DataFrame:
    """``train`` and ``copies`` counterfactual copies of each row whose source starts with one of ``sources``
    (``source`` gets ``COPY_SUFFIX``; a copy stays in its row's scenario, so grouped CV keeps them together).

    Each neutral word is then added to copies that lack it until every class holds it in the same weighted
    share of its rows as the class that uses it most (``weights``: a row's weight by source; 1 if unlisted)."""
    rng = random.Random(seed)
    chosen = train[train["source"].str.startswith(sources)]
    made = []
    for _ in range(copies):
        texts = [_drop_neutral(t, rng) for t in chosen["text"]]
        texts = [f"{rng.choice(NAMES)}, {t}" if rng.random() < NAME_SHARE else t for t in texts]
        made.append(chosen.assign(text=texts, source=chosen["source"] + COPY_SUFFIX))
    frame = pd.concat([train, *made], ignore_index=True)
    is_copy = np.arange(len(frame)) >= len(train)
    weight = frame["source"].str.removesuffix(COPY_SUFFIX).map(lambda s: weights.get(s, 1.0)).to_numpy()
    labels = frame["label"].to_numpy()
    texts = frame["text"].tolist()
    held = [tokens_of(t) for t in texts]
    for word in sorted(NEUTRAL_WORDS):
        has = np.fromiter((word in h for h in held), dtype=bool, count=len(held))
        shares = {c: weight[(labels == c) & has].sum() / weight[labels == c].sum() for c in np.unique(labels)}
        target = max(shares.values())
        for label, share in shares.items():
            open_rows = np.flatnonzero(is_copy & (labels == label) & ~has)
            room = weight[open_rows].sum()
            if not len(open_rows) or room <= 0:
                continue
            odds = min(1.0, (target - share) * weight[labels == label].sum() / room)
            for i in open_rows:
                if rng.random() < odds:
                    texts[i] = _add(texts[i], word, rng)
                    held[i].add(word)
    return frame.assign(text=texts)
