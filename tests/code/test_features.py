import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from boundaryline import features
from boundaryline import text as text_module
from boundaryline.data import load_challenge, load_corpus
from boundaryline.deobfuscate import STEPS as DEOBFUSCATION_STEPS
from boundaryline.settings import Settings
from boundaryline.text import normalise_text, normalise_texts


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello   THERE\n\n", "hello there"),
        ("See https://example.com/a?b=1 now", "see xurl now"),
        ("mail me at Jo.Doe+x@example.co.uk!", "mail me at xemail !"),
        ("call +1 (555) 123-4567 tonight", "call xphone tonight"),
        ("Email is [email], CV at [URL] or <phone>", "email is xemail , cv at xurl or xphone"),
        ("it\u2019s \u201cfine\u201d", 'it\'s "fine"'),
        ("meeting at 10:30 on 12/3", "meeting at 10:30 on 12/3"),  # short numbers are not phones
        ("", ""),
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


def test_normalise_texts_accepts_any_iterable_and_non_strings() -> None:
    assert normalise_texts(iter(["A  b", 12])) == ["a b", "12"]


def _reference_normalise(text: str) -> str:
    """``normalise_text`` written plainly (every step on every text)."""
    text = text.translate(text_module._APOSTROPHES)
    text = text_module._MASK.sub(text_module.mask_token, text)
    text = text_module._URL.sub(text_module.URL_TOKEN, text)
    text = text_module._EMAIL.sub(text_module.EMAIL_TOKEN, text)
    text = text_module._PHONE.sub(text_module.PHONE_TOKEN, text)
    text = re.sub(r"\s+", " ", text).strip()
    for step in DEOBFUSCATION_STEPS:  # every step on every text, whatever its cheap test says
        text = re.sub(r"\s+", " ", step.pattern.sub(step.replace, text)).strip()
    return text.lower()


ODD = [
    "", " \t\n", "\u00a0nbsp\u2007figure\u202fnarrow\u3000ideographic\u2028line\x1cfs\x1fus\x85nel\u200bzw",
    "Call +44 (20) 7946-0958 or ٠١٢٣٤٥٦٧٨٩ (Arabic-Indic digits) or ５５５ １２３ ４５６７",
    "Mail ANA@Example.ORG, WWW.EXAMPLE.COM/x, https://a.b/c?d=1 and “quoted” ‘single’ don’t",
    "user@@host x@y no-at-here 1234567 12 34 56 78 9",
]  # fmt: skip


@pytest.mark.parametrize("text", ODD)
def test_the_fast_normalisation_equals_the_reference(text: str) -> None:
    assert normalise_text(text) == _reference_normalise(text)


def test_the_fast_normalisation_equals_the_reference_on_the_corpus(project_settings: Settings) -> None:
    texts = [*load_corpus(project_settings)["text"], *load_challenge(project_settings)["text"]]
    assert [normalise_text(t) for t in texts] == [_reference_normalise(t) for t in texts]


def test_split_folds_exactly_the_white_space_that_regex_s_matches() -> None:
    every = "".join(map(chr, range(0x3000 + 1)))
    assert [c for c in every if c.isspace()] == re.findall(r"\s", every)


@given(
    tokens=st.lists(
        st.sampled_from(["you", "u", "r", "us", "of", "just", "hotel", "again", "dinner", "😉"]), max_size=12
    ),
    ngram_range=st.sampled_from([(1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 4)]),
)
def test_contextual_ngrams_are_sklearns_less_those_of_function_words_alone(
    tokens: list[str], ngram_range: tuple[int, int]
) -> None:
    """The fast ``_word_ngrams`` gives exactly what filtering sklearn's own n-grams gives, in the same order."""
    vectoriser = features.word_vectoriser(ngram_range)
    reference = TfidfVectorizer._word_ngrams(vectoriser, tokens)
    expected = [gram for gram in reference if not features.FUNCTION_WORDS.issuperset(gram.split(" "))]
    assert vectoriser._word_ngrams(tokens) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("you look s e x y", "you look sexy"),
        ("S.E.X.Y pics", "sexy pics"),
        ("send n-u-d-e-s", "send nudes"),
        ("s e x y  b a b e", "sexy babe"),  # two spaced words in a row
        ("s\u200be\u200bx\u200by", "sexy"),  # zero-width joins
        ("u r s3xy and h0t, $exy l0v3", "u r sexy and hot, sexy love"),
        ("ѕеху", "sexy"),  # Cyrillic look-alikes, the whole word
        ("рrеtty girl", "pretty girl"),  # Cyrillic mixed into a Latin word
        ("𝐬𝐞𝐱𝐲 ｓｅｘｙ", "sexy sexy"),  # mathematical and fullwidth letters
        ("sooo sexxxyyy, pleeease", "so sexy, please"),
        ("heyyyy babyyy", "hey baby"),
    ],
)
def test_disguised_words_are_undone(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "meet at 4pm on the 1st, budget 10k",
        "covid19 b2b mp3 q4 @maria",
        "u r a star",  # single letters that are words in chat
        "e.g. i.e. a.m.",
        "xxx zzz",
        "tudo bem? olá, é você? obrigada!",
        "привет, как дела",  # real Russian has letters with no Latin look-alike
        "καλημέρα",
        "नमस्ते सर",
        "good morning 😊 👩\u200d💻",  # a zero-width joiner inside an emoji sequence only splits it
    ],
)
def test_ordinary_text_is_left_as_written(text: str) -> None:
    assert normalise_text(text) == text.replace("\u200d", "")
