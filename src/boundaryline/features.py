"""Text normalisation and the TF-IDF features.

The normalisation is a pure function applied inside the sklearn ``Pipeline`` (a ``FunctionTransformer``),
so the text the model saw in training and the text it scores can never be cleaned differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.pipeline import FeatureUnion

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


# English function words (scikit-learn's list), their contractions and their txt-speak spellings: on their
# own they say how a person writes, not what the message does, so a model that leans on them learns a voice,
# not a behaviour.
_CONTRACTIONS = (
    "i'm i'd i'll i've you're you'd you'll you've he's he'd he'll she's she'd she'll it's it'd it'll we're "
    "we'd we'll we've they're they'd they'll they've that's that'd that'll there's there'd there'll here's "
    "what's what'd what'll who's who'd who'll where's when's why's how's let's don't doesn't didn't isn't "
    "aren't wasn't weren't can't couldn't won't wouldn't shan't shouldn't haven't hasn't hadn't mustn't "
    "needn't mightn't ain't y'all"
)
_TXT_SPEAK = "u ur ure r y ya yr im ive id ill youre youll dont cant wont n da dat dis wat wen wud cud shud pls plz thx tho bc cuz 2 4 b4 ok k"
# scikit-learn's list also holds content words (its docs say so): those that carry a behaviour stay content
# words, or "u up?", "are u alone", "call me back" and "I'll show up" would be n-grams of function words alone.
_CONTENT_IN_SKLEARN_LIST = (
    "alone up call back show together find move cry fire full interest detail describe found system bill "
    "computer empty top bottom front side part amount"
)
FUNCTION_WORDS = (frozenset(ENGLISH_STOP_WORDS) - frozenset(_CONTENT_IN_SKLEARN_LIST.split())) | frozenset(
    f"{_CONTRACTIONS} {_TXT_SPEAK}".split()
)


class ContextualTfidfVectorizer(TfidfVectorizer):
    """Word n-grams in which function words count only in context.

    An n-gram made of function words alone ("you", "of us", "that i", "u r") is left out, so the model cannot
    lean on them; an n-gram with one content word keeps them ("just us", "asking again", "your hotel").
    """

    def _word_ngrams(self, tokens: list[str], stop_words: frozenset[str] | None = None) -> list[str]:
        # sklearn's n-grams in sklearn's order, less those of function words alone; each token is looked up
        # once (filtering sklearn's joined n-grams by splitting them again cost a quarter of batch scoring).
        if stop_words is not None:
            tokens = [w for w in tokens if w not in stop_words]
        min_n, max_n = self.ngram_range
        content = [w not in FUNCTION_WORDS for w in tokens]
        grams = [w for w, keep in zip(tokens, content, strict=True) if keep] if min_n == 1 else []
        for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
            if n == 2:  # pairs, the commonest n-grams, without slicing (zip stops at the shorter list)
                pairs = zip(tokens, tokens[1:], content, content[1:], strict=False)
                grams += [f"{a} {b}" for a, b, x, y in pairs if x or y]
            else:
                grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1) if any(content[i : i + n])]
        return grams


def word_vectoriser(ngram_range: tuple[int, int] = (1, 2), *, contextual: bool = True) -> TfidfVectorizer:
    """Word n-grams: the readable evidence (function words only in context, unless ``contextual=False``)."""
    kind = ContextualTfidfVectorizer if contextual else TfidfVectorizer
    return kind(token_pattern=TOKEN_PATTERN, ngram_range=ngram_range, min_df=2, sublinear_tf=True, lowercase=False)


_EDGES = re.compile(r"^\W+|\W+$")


class ContextualCharVectorizer(TfidfVectorizer):
    """Character n-grams within words (``char_wb``), taken from content words only: robust to typos,
    inflection and txt-speak spellings, without giving function words a way back in."""

    def _char_wb_ngrams(self, text_document: str) -> list[str]:
        words = text_document.split()
        content = " ".join(w for w in words if _EDGES.sub("", w) not in FUNCTION_WORDS)
        return super()._char_wb_ngrams(content)


def char_vectoriser(ngram_range: tuple[int, int] = (2, 5)) -> TfidfVectorizer:
    """Character n-grams of content words (see ``ContextualCharVectorizer``)."""
    return ContextualCharVectorizer(
        analyzer="char_wb", ngram_range=ngram_range, min_df=3, sublinear_tf=True, lowercase=False
    )


def build_features() -> FeatureUnion:
    """Word n-grams beside character n-grams; the grid search may switch the latter off (``"drop"``)."""
    return FeatureUnion([("word", word_vectoriser()), ("char", char_vectoriser())])
