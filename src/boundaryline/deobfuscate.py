r"""Undo the disguises people use to slip a word past a filter, before the text becomes features.

People who harass write ``s e x y``, ``s.e.x.y``, ``s\u200be\u200bx\u200by`` (zero-width joins), ``s3xy``,
``ѕеху`` (Cyrillic look-alikes), ``𝐬𝐞𝐱𝐲`` and ``sexxxyyy``. Each ``Step`` below (a pattern, its replacement
and a cheap test of whether it can apply) runs in order in ``text.normalise_text`` (inside the pipeline,
so training and scoring agree) and, keeping each character's origin, in ``highlight``. A step changes only
what it matches, and only when the result is an English word (symspellpy's frequency list plus a few chat
words) or the disguise is plain, so "4pm", "covid19", "B2B", "e.g." and ordinary text in any language come
through as they were written.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import product
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from symspellpy import SymSpell

# Characters with no glyph of their own: used to join letters invisibly, they are dropped.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f")
# Chat words the English frequency list lacks, so that a spaced "w h a t s a p p" is one word, not two.
CHAT_WORDS = (
    "whatsapp", "instagram", "insta", "snapchat", "snap", "telegram", "facebook", "linkedin", "dp", "pic", "pics",
    "pfp", "selfie", "selfies", "nudes", "hottie", "bae", "babe", "gf", "bf", "sexy", "texting", "sexting", "dm",
    "dms", "u", "ur", "pls", "plz", "msg", "msgs", "txt",
)  # fmt: skip
# Letters that stand alone as words in chat ("u r a star"): a run of only these stays as written.
SINGLE_LETTER_WORDS = frozenset("aiurykncb24")
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
# Digits followed by a unit are not leet ("4pm", "1st", "10k").
_NUMBER_WITH_UNIT = re.compile(r"\d+(?:st|nd|rd|th|am|pm|k|m|s|x|h|hrs?|mins?|yrs?|gb|mb|kb|px|d|g|ml|kg|km)")


@lru_cache(maxsize=1)
def _speller() -> SymSpell:
    """symspellpy's English unigram frequencies (82,765 words) with the chat words added; loaded on first use
    (about a second), which only a disguised message needs."""
    from symspellpy import SymSpell

    speller = SymSpell(max_dictionary_edit_distance=0, prefix_length=7)
    speller.load_dictionary(str(resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"), 0, 1)
    for word in CHAT_WORDS:
        speller.create_dictionary_entry(word, 10_000_000)
    return speller


def word_count(word: str) -> int:
    """How common ``word`` is in English (0: not a word of the list)."""
    return int(_speller().words.get(word, 0))


def _segment(run: str) -> list[str]:
    """``run`` cut into the likeliest English words (symspellpy's word segmentation, no spelling changes)."""
    return str(_speller().word_segmentation(run, max_edit_distance=0).corrected_string).split()


@lru_cache(maxsize=4096)
def _char(ch: str) -> str:
    """One non-ASCII character: dropped when zero-width, else its compatibility form (NFKC: fullwidth and
    mathematical letters, ligatures)."""
    return "" if ch in ZERO_WIDTH else unicodedata.normalize("NFKC", ch)


@lru_cache(maxsize=1)
def confusables() -> dict[str, str]:
    """Non-Latin letters that look like a Latin letter (Unicode's confusables, from confusable-homoglyphs):
    Cyrillic "а" → "a", Greek "ο" → "o", ..."""
    import confusable_homoglyphs

    path = resources.files(confusable_homoglyphs) / "confusables.json"
    table: dict[str, str] = {}
    for ch, glyphs in json.loads(path.read_text(encoding="utf-8")).items():
        if len(ch) != 1 or ch.isascii() or unicodedata.name(ch, "LATIN").startswith("LATIN"):
            continue
        if not unicodedata.category(ch).startswith("L"):
            continue
        latin = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()]
        if latin:
            table[ch] = latin[0].lower()
    return table


def _unicode(match: re.Match[str]) -> str:
    return _char(match.group())


def _look_alikes(match: re.Match[str]) -> str:
    """A word written with look-alike letters: in Latin letters when it mixes them with Latin ones, or when
    every letter has a Latin look-alike (real Russian or Greek words have letters that do not)."""
    word = match.group()
    table = confusables()
    foreign = [ch for ch in word if not ch.isascii() and ch.isalpha()]
    if not foreign or not all(ch in table for ch in foreign):
        return word
    return "".join(table.get(ch, ch) for ch in word)


def _spaced(match: re.Match[str]) -> str:
    """Single letters joined by spaces, dots or dashes ("s e x y", "s.e.x.y"): the word they spell, or the
    words when several were spaced in a row."""
    letters = re.findall(r"[^\W_]", match.group())
    joined = "".join(letters).lower()
    if word_count(joined):
        return joined
    if all(letter.lower() in SINGLE_LETTER_WORDS for letter in letters):
        return match.group()  # "u r a star": chat, not a disguise
    words = _segment(joined)
    if len(words) > 1 and all(word_count(w) and (len(w) > 1 or w in SINGLE_LETTER_WORDS) for w in words):
        return " ".join(words)
    return joined


def _leet(match: re.Match[str]) -> str:
    """Digits and symbols for letters ("s3xy", "h0t", "$exy"), when the letters spell an English word."""
    token = match.group()
    lowered = token.lower()
    if _NUMBER_WITH_UNIT.fullmatch(lowered) or word_count(lowered):
        return token
    for one in ("i", "l"):
        candidate = "".join(LEET.get(ch, one if ch == "1" else ch) for ch in lowered)
        if word_count(candidate):
            return candidate
    return token


def _stretched(match: re.Match[str]) -> str:
    """Letters held down ("sooo", "pleeease", "sexxxyyy"): each run of three or more becomes one or two of
    the letter, whichever spells the commonest word; one when none does. "xxx" and "zzz" stay."""
    token = match.group()
    lowered = token.lower()
    if len(set(lowered)) == 1:
        return token
    pieces = [m.group() for m in re.finditer(r"(.)\1*", lowered)]
    choices = [(p[0], p[0] * 2) if len(p) >= 3 else (p,) for p in pieces]
    candidates = ["".join(c) for c in product(*choices[:12])] if len(choices) <= 12 else []
    best = max(candidates, key=word_count, default="")
    if best and word_count(best):
        return best
    return "".join(p[0] if len(p) >= 3 else p for p in pieces)


_LETTER = r"[^\W_]"
_ALPHA = r"[^\W\d_]"
# One or two spaces, or one of these marks: "s e x y", "s.e.x.y", "s-e-x-y" (never a mark and a space: "e.g. i.e.").
_SEPARATOR = r"(?:[ \t]{1,2}|[.\-_*·•~|/+])"


@dataclass(frozen=True)
class Step:
    """One disguise: ``pattern.sub(replace, text)`` undoes it; ``may_apply`` is a cheap test that tells whether
    the text can hold it at all (most texts hold none, and skip every step)."""

    pattern: re.Pattern[str]
    replace: Callable[[re.Match[str]], str]
    may_apply: Callable[[str], bool]


def _searcher(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda text: compiled.search(text) is not None


_ZERO_WIDTH = re.compile("[" + "".join(sorted(ZERO_WIDTH)) + "]")
_LEET_CHARACTER = re.compile(r"[0-9@$]")
_LEET_NEXT_TO_LETTER = re.compile(r"[A-Za-z][0-9@$]|[0-9@$][A-Za-z]")


def _may_hold_compatibility_forms(text: str) -> bool:
    """Zero-width characters, or characters NFKC would change (fullwidth, mathematical, ligatures)."""
    return not text.isascii() and (_ZERO_WIDTH.search(text) is not None or not unicodedata.is_normalized("NFKC", text))


def _may_hold_look_alikes(text: str) -> bool:
    return not text.isascii() and not confusables().keys().isdisjoint(text)


def _may_hold_leet(text: str) -> bool:
    return _LEET_CHARACTER.search(text) is not None and _LEET_NEXT_TO_LETTER.search(text) is not None


STEPS: tuple[Step, ...] = (
    Step(re.compile(r"[^\x00-\x7f]"), _unicode, _may_hold_compatibility_forms),
    Step(re.compile(r"\w*[^\x00-\x7f]\w*"), _look_alikes, _may_hold_look_alikes),
    # Three or more single letters (digits inside), each followed by a separator; not the "t" of "don't".
    Step(
        re.compile(rf"(?<![\w']){_ALPHA}{_SEPARATOR}(?:{_LETTER}{_SEPARATOR})+{_ALPHA}(?![\w'])"),
        _spaced,
        _searcher(rf"(?<![\w']){_ALPHA}{_SEPARATOR}{_LETTER}{_SEPARATOR}{_ALPHA}(?![\w'])"),
    ),
    # A word of at least three characters with two letters and a digit, "@" or "$" ("s3xy", "h0t", "$exy").
    Step(
        re.compile(r"(?<![\w@$])(?=[\w@$]*[A-Za-z][\w@$]*[A-Za-z])(?=[\w@$]*[0-9@$])[\w@$]{3,}(?![\w@$])"),
        _leet,
        _may_hold_leet,
    ),
    Step(re.compile(r"\b\w*([A-Za-z])\1\1\w*\b"), _stretched, _searcher(r"([A-Za-z])\1\1")),
)
