import pytest

from boundaryline.features import normalise_text, normalise_texts


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello   THERE\n\n", "hello there"),
        ("See https://example.com/a?b=1 now", "see xurl now"),
        ("mail me at Jo.Doe+x@example.co.uk!", "mail me at xemail !"),
        ("call +1 (555) 123-4567 tonight", "call xphone tonight"),
        ("it\u2019s \u201cfine\u201d", 'it\'s "fine"'),
        ("meeting at 10:30 on 12/3", "meeting at 10:30 on 12/3"),  # short numbers are not phones
        ("", ""),
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


def test_normalise_texts_accepts_any_iterable_and_non_strings() -> None:
    assert normalise_texts(iter(["A  b", 12])) == ["a b", "12"]
