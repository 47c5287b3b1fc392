"""The TF-IDF features over the normalised text (``text.normalise_texts``, the pipeline's first step)."""

from __future__ import annotations

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from boundaryline.text import TOKEN_PATTERN, char_wb_ngrams, word_ngrams
from boundaryline.text import normalise_texts as normalise_texts  # the pickled pipelines name it from here

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
        if stop_words is not None:
            tokens = [w for w in tokens if w not in stop_words]
        return word_ngrams(tokens, self.ngram_range, FUNCTION_WORDS)


def word_vectoriser(ngram_range: tuple[int, int] = (1, 2), *, contextual: bool = True) -> TfidfVectorizer:
    """Word n-grams: the readable evidence (function words only in context, unless ``contextual=False``)."""
    kind = ContextualTfidfVectorizer if contextual else TfidfVectorizer
    return kind(token_pattern=TOKEN_PATTERN, ngram_range=ngram_range, min_df=2, sublinear_tf=True, lowercase=False)


class ContextualCharVectorizer(TfidfVectorizer):
    """Character n-grams within words (``char_wb``), taken from content words only: robust to typos,
    inflection and txt-speak spellings, without giving function words a way back in."""

    def _char_wb_ngrams(self, text_document: str) -> list[str]:
        return char_wb_ngrams(text_document, self.ngram_range, FUNCTION_WORDS)


def char_vectoriser(ngram_range: tuple[int, int] = (2, 5)) -> TfidfVectorizer:
    """Character n-grams of content words (see ``ContextualCharVectorizer``)."""
    return ContextualCharVectorizer(
        analyzer="char_wb", ngram_range=ngram_range, min_df=3, sublinear_tf=True, lowercase=False
    )


def build_features() -> FeatureUnion:
    """Word n-grams beside character n-grams; the grid search may switch the latter off (``"drop"``)."""
    return FeatureUnion([("word", word_vectoriser()), ("char", char_vectoriser())])
