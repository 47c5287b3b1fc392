"""Text normalisation: the pure function the pipeline's ``normalise`` step applies (``features`` builds the
vectorisers on it). It needs no scikit-learn, so scoring from the folded table (``table``) imports none.

The normalisation runs inside the sklearn ``Pipeline`` (a ``FunctionTransformer``), so the text the model saw
in training and the text it scores can never be cleaned differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from boundaryline.deobfuscate import STEPS as DEOBFUSCATION_STEPS

# Placeholders are plain words so both the word and the character vectorisers see them.
URL_TOKEN = " xurl "
EMAIL_TOKEN = " xemail "
PHONE_TOKEN = " xphone "

# What anonymised exports put in place of an address, a link or a number ("[email]", "<phone>"): the same
# placeholder as the real thing, so a masked "[email]" is not the word "email".
_MASK = re.compile(r"[\[<{](email|e-mail|url|link|phone|number)[\]>}]", re.IGNORECASE)
MASK_TOKENS = {
    "email": EMAIL_TOKEN,
    "e-mail": EMAIL_TOKEN,
    "url": URL_TOKEN,
    "link": URL_TOKEN,
    "phone": PHONE_TOKEN,
    "number": PHONE_TOKEN,
}


def mask_token(match: re.Match[str]) -> str:
    return MASK_TOKENS[match.group(1).lower()]


_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d ()./-]{7,}\d(?!\w)")
_APOSTROPHES_CHARS = "\u2019\u2018\u201c\u201d"
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_SPACE = re.compile(r"\s+")  # what ``str.split()`` splits on; the highlighter maps words back with it

# Words (with inner apostrophes, so "don't" stays one token) and single emoji/pictographs,
# which carry tone in DMs ("😉", "😘") and which sklearn's default pattern throws away.
TOKEN_PATTERN = r"(?u)\b\w[\w']*\b|[\u2600-\u27bf\U0001f300-\U0001faff]"
# The same tokens, found 1.6x faster: a match of ``\b\w[\w']*\b`` is a run of word characters and apostrophes
# that starts a word, less its trailing apostrophes, which is what ``\w+(?:'+\w+)*`` matches; without the
# leading ``\b`` the regex engine can skip ahead to a token's first character. Scoring tokenises with it
# (``tokenizer``); the vectorisers keep sklearn's pattern (tests/code/test_table.py compares the two).
_FASTER_PATTERNS = {TOKEN_PATTERN: r"\w+(?:'+\w+)*|[\u2600-\u27bf\U0001f300-\U0001faff]"}


def tokenizer(token_pattern: str) -> Callable[[str], list[str]]:
    """``re.compile(token_pattern).findall``, by an equivalent faster pattern where one is known."""
    return re.compile(_FASTER_PATTERNS.get(token_pattern, token_pattern)).findall


_DIGIT = re.compile(r"\d")


def normalise_text(text: str) -> str:
    r"""Lower-case, unify quotes, replace URLs/e-mail addresses/phone numbers (or an anonymiser's masks for
    them) by tokens, fold white space, undo disguised words (``deobfuscate``: "s e x y", "s3xy", look-alikes).

    Each step is skipped when the text lacks what it needs (a curly quote, an "@", a digit), which cannot
    change the result and halves the time of the common message; white space is folded by ``str.split``,
    which splits on exactly the characters ``\s`` matches (tests/code/test_features.py checks both).
    """
    if any(quote in text for quote in _APOSTROPHES_CHARS):
        text = text.translate(_APOSTROPHES)
    if "[" in text or "<" in text or "{" in text:
        text = _MASK.sub(mask_token, text)
    text = _URL.sub(URL_TOKEN, text)
    if "@" in text:
        text = _EMAIL.sub(EMAIL_TOKEN, text)
    if _DIGIT.search(text):
        text = _PHONE.sub(PHONE_TOKEN, text)
    text = " ".join(text.split())  # before the disguises, so that normalising twice changes nothing
    for step in DEOBFUSCATION_STEPS:
        if step.may_apply(text):
            text = " ".join(step.pattern.sub(step.replace, text).split())
    return text.lower()


def normalise_texts(texts: Iterable[str]) -> list[str]:
    """``normalise_text`` over a batch; the function the pipeline's ``normalise`` step calls."""
    return [normalise_text(str(text)) for text in texts]


__all__ = ["TOKEN_PATTERN", "normalise_text", "normalise_texts"]


# ----- n-grams: the analyzers of the fitted vectorisers, in plain Python (features.py's vectorisers call these,
# and so does the scoring table, which must reproduce them without scikit-learn)

_EDGES = re.compile(r"^\W+|\W+$")


def word_ngrams(tokens: list[str], ngram_range: tuple[int, int], function_words: frozenset[str] | None) -> list[str]:
    """sklearn's word n-grams in sklearn's order; with ``function_words``, less those made of function words
    alone (``features.ContextualTfidfVectorizer``). Each token is looked up once: filtering sklearn's joined
    n-grams by splitting them again cost a quarter of batch scoring."""
    min_n, max_n = ngram_range
    content = [w not in function_words for w in tokens] if function_words is not None else [True] * len(tokens)
    grams = [w for w, keep in zip(tokens, content, strict=True) if keep] if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
        if n == 2:  # pairs, the commonest n-grams, without slicing (zip stops at the shorter list)
            pairs = zip(tokens, tokens[1:], content, content[1:], strict=False)
            grams += [f"{a} {b}" for a, b, x, y in pairs if x or y]
        else:
            grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1) if any(content[i : i + n])]
    return grams


def char_wb_ngrams(text: str, ngram_range: tuple[int, int], function_words: frozenset[str] | None) -> list[str]:
    """sklearn's ``char_wb`` n-grams (each white-space word padded with a space, n-grams inside it); with
    ``function_words``, of content words only (``features.ContextualCharVectorizer``). Word by word: a
    scorer may keep each word's n-grams (``table``), since they depend on the word alone."""
    grams: list[str] = []
    for word in text.split():
        if function_words is None or is_content_word(word, function_words):
            grams += word_char_ngrams(word, ngram_range)
    return grams


def is_content_word(word: str, function_words: frozenset[str]) -> bool:
    """Whether a white-space word counts in the contextual char n-grams: not a function word once edge
    punctuation is dropped ("you," is "you")."""
    return _EDGES.sub("", word) not in function_words


def word_char_ngrams(word: str, ngram_range: tuple[int, int]) -> list[str]:
    """The ``char_wb`` n-grams of one white-space word, in sklearn's order (``_char_wb_ngrams``)."""
    min_n, max_n = ngram_range
    grams: list[str] = []
    append = grams.append
    w = " " + word + " "
    w_len = len(w)
    for n in range(min_n, max_n + 1):
        offset = 0
        append(w[offset : offset + n])
        while offset + n < w_len:
            offset += 1
            append(w[offset : offset + n])
        if offset == 0:  # count a short word (w_len < n) only once
            break
    return grams
