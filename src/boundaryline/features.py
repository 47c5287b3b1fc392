"""Text normalisation and the TF-IDF features.

The normalisation is a pure function applied inside the sklearn ``Pipeline`` (a ``FunctionTransformer``),
so the text the model saw in training and the text it scores can never be cleaned differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

# Placeholders are plain words so both the word and the character vectorisers see them.
URL_TOKEN = " xurl "
EMAIL_TOKEN = " xemail "
PHONE_TOKEN = " xphone "

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d ()./-]{7,}\d(?!\w)")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_SPACE = re.compile(r"\s+")

# Words (with inner apostrophes, so "don't" stays one token) and single emoji/pictographs,
# which carry tone in DMs ("😉", "😘") and which sklearn's default pattern throws away.
TOKEN_PATTERN = r"(?u)\b\w[\w']*\b|[\u2600-\u27bf\U0001f300-\U0001faff]"


def normalise_text(text: str) -> str:
    """Lower-case, unify quotes, replace URLs/e-mail addresses/phone numbers by tokens, fold white space."""
    text = text.translate(_APOSTROPHES)
    text = _URL.sub(URL_TOKEN, text)
    text = _EMAIL.sub(EMAIL_TOKEN, text)
    text = _PHONE.sub(PHONE_TOKEN, text)
    return _SPACE.sub(" ", text).strip().lower()


def normalise_texts(texts: Iterable[str]) -> list[str]:
    """``normalise_text`` over a batch; the function the pipeline's ``normalise`` step calls."""
    return [normalise_text(str(text)) for text in texts]


def word_vectoriser(ngram_range: tuple[int, int] = (1, 2)) -> TfidfVectorizer:
    """Word n-grams: the readable evidence."""
    return TfidfVectorizer(
        token_pattern=TOKEN_PATTERN, ngram_range=ngram_range, min_df=2, sublinear_tf=True, lowercase=False
    )


def char_vectoriser(ngram_range: tuple[int, int] = (2, 5)) -> TfidfVectorizer:
    """Character n-grams within words: robust to typos, inflection and txt-speak spellings."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, min_df=3, sublinear_tf=True, lowercase=False)


def build_features() -> FeatureUnion:
    """Word n-grams beside character n-grams; the grid search may switch the latter off (``"drop"``)."""
    return FeatureUnion([("word", word_vectoriser()), ("char", char_vectoriser())])
