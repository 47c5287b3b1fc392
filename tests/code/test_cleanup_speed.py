"""The fast quote removal (issue 24) finds what the clean-up found before it: ``own_text`` and the functions it
calls are compared with the code as it was (kept below as the reference: the library doing all the work,
every pattern tried everywhere) on the real Maildir (when ../shared's real mail is linked in), the corpus,
the peer fixtures' mail, crafted reply shapes and random ones. The facts the shortcuts rest on (how
``re.IGNORECASE`` compares letters, what ``\\s`` is, which patterns the library builds) are checked here too."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from mailparser_reply import EmailMessage

from boundaryline.data import load_challenge, load_corpus
from boundaryline.inbox import cleanup
from boundaryline.inbox import mail as mail_module
from boundaryline.inbox.cleanup import LANGUAGES, MailBody, own_text
from boundaryline.inbox.mail import read_eml, read_maildir
from boundaryline.settings import Settings

REAL_MAILDIR = Settings().real_mail_source / "maildir"  # read where it is shared: CI links no data/external
needs_real_mail = pytest.mark.skipif(
    not REAL_MAILDIR.is_dir(), reason=f"{REAL_MAILDIR} is absent: the real-mail comparison is NOT run"
)
PEER_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "peer-fixtures"
needs_peer_fixtures = pytest.mark.skipif(
    not PEER_FIXTURES.is_dir(), reason=f"{PEER_FIXTURES} is absent: the peer-fixture comparison is NOT run"
)


# ----- the clean-up as it was: the library does all the work, every pattern is tried everywhere

BEFORE_FOOTERS = [
    re.compile(r"^_{10,}\s*\n(?:.*\n){0,2}?.*\bmailing list\b.*(?:\n.*){0,4}\Z", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^(?:-- ?\n)?You received this message because you are subscribed to .*\Z", re.MULTILINE | re.DOTALL),
    re.compile(r"^-{2,} ?\nTo unsubscribe.*\Z", re.MULTILINE | re.DOTALL | re.IGNORECASE),
]
BEFORE_ATTRIBUTION_END = re.compile(
    r"(?:wrote|writes|schrieb|a écrit|escribió|ha scritto|schreef|napisał|skrev|napsal)\s*:\s*$", re.I
)


def strip_list_footer_before(text: str) -> str:
    for footer in BEFORE_FOOTERS:
        text = footer.sub("", text)
    return text


def introduces_quote_before(lines: list[str], quoted: list[bool], i: int) -> bool:
    following = [j for j in range(i + 1, min(i + 4, len(lines))) if lines[j].strip()]
    if not following or not quoted[following[0]]:
        return (
            bool(following) and BEFORE_ATTRIBUTION_END.search(lines[following[0]]) is not None and i + 1 == following[0]
        )
    return BEFORE_ATTRIBUTION_END.search(lines[i]) is not None or lines[i].lstrip().lower().startswith("on ")


def drop_quoted_lines_before(text: str) -> str:
    lines = text.split("\n")
    quoted = [bool(cleanup._QUOTED.match(line)) for line in lines]
    if not any(quoted):
        return text
    kept = [line for i, line in enumerate(lines) if not quoted[i] and not introduces_quote_before(lines, quoted, i)]
    return "\n".join(kept)


def latest_reply_before(text: str) -> str:
    text = cleanup._FORWARD.split(text, maxsplit=1)[0]
    parked: list[str] = []

    def park(match: re.Match[str]) -> str:
        parked.append(match.group(0).strip())
        return f"\x00{len(parked) - 1}\x00"

    short = cleanup._LONG_LINE.sub(park, text)
    message = EmailMessage(text=short, languages=list(LANGUAGES), keep_hyphen_lists=True).read()
    body = message.replies[0].body if message.replies else ""
    return cleanup._PARKED.sub(lambda m: parked[int(m.group(1))], body)


def own_text_before(text: str) -> MailBody:
    text = strip_list_footer_before(text.replace("\r\n", "\n").replace("\r", "\n"))
    own = latest_reply_before(drop_quoted_lines_before(text)).strip()
    if own:
        return MailBody(own)
    quote = "\n".join(cleanup._QUOTED.sub("", line).lstrip("> ") for line in text.split("\n"))
    quote = forwarded_text_before(quote) or latest_reply_before(quote).strip() or quote.strip()
    return MailBody(quote, quoted_only=bool(quote))


def forwarded_text_before(text: str) -> str:
    marker = cleanup._FORWARD.search(text)
    if marker is None or text[: marker.start()].strip():
        return ""
    return own_text_before(cleanup._FORWARDED_HEADERS.sub("", text[marker.end() :], count=1)).text


def assert_as_before(texts: list[str]) -> None:
    differ = [t for t in texts if own_text(t) != own_text_before(t)]
    assert not differ, f"{len(differ)} of {len(texts)} texts differ, the first: {differ[0][:300]!r}"


def bodies_read(read: Callable[[], object]) -> list[str]:
    """The mail bodies ``read`` hands to ``own_text`` (the reader's call of it)."""
    bodies: list[str] = []

    def recorded(text: str) -> MailBody:
        bodies.append(text)
        return own_text(text)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mail_module, "own_text", recorded)
        read()
    return bodies


# ----- the same results


@needs_real_mail
def test_the_real_maildir_is_cleaned_as_before() -> None:
    bodies = bodies_read(lambda: list(read_maildir(REAL_MAILDIR)))
    assert len(bodies) >= 290
    assert_as_before(bodies)


def test_the_corpus_is_cleaned_as_before(project_settings: Settings) -> None:
    texts = [*load_corpus(project_settings)["text"], *load_challenge(project_settings)["text"]]
    assert_as_before([str(t) for t in texts])


@needs_peer_fixtures
def test_the_peer_fixtures_mail_is_cleaned_as_before() -> None:
    def read_all() -> None:
        folders = ["cpython/data", "django-mailbox", "partial-emlx-converter", "emlx"]
        for path in sorted(p for folder in folders for p in (PEER_FIXTURES / folder).rglob("*") if p.is_file()):
            list(read_eml(path))

    bodies = bodies_read(read_all)
    assert len(bodies) >= 80
    assert_as_before(bodies)


QUOTE = "> Are you free on Friday?\n> We could try the new place.\n>\n> Ana\n"
CRAFTED = [
    "",
    "   \n\t\n",
    "Yes!",
    f"Yes, see you then.\n\nOn Mon, 3 Mar 2025 at 10:00, Ana Lima <ana@example.com> wrote:\n{QUOTE}",  # Gmail
    f"Yes.\n\nOn 3 Mar 2025, at 10:00, Ana Lima <ana@example.com>\nwrote:\n\n{QUOTE}",  # Gmail, wrapped
    f"Yes.\n\nOn Mar 3, 2025, at 10:00, Ana Lima <ana@example.com> wrote:\n\n{QUOTE}",  # Apple Mail
    f"Oui.\n\nLe lun. 3 mars 2025 à 10:00, Ana Lima <ana@example.com> a écrit :\n{QUOTE}",
    f"Ja.\n\nAm Mo., 3. März 2025 um 10:00 Uhr schrieb Ana Lima <ana@example.com>:\n{QUOTE}",
    f"Sim.\n\nEm seg., 3 de mar. de 2025 às 10:00, Ana Lima <ana@example.com> escreveu:\n{QUOTE}",
    f"Sí.\n\nEl lun, 3 mar 2025 a las 10:00, Ana Lima (<ana@example.com>) escribió:\n{QUOTE}",
    f"> Are you free?\nYes.\n> Shall we say seven?\nSeven is fine.\n\n{QUOTE}",  # interleaved
    f"{QUOTE}\nYes, Friday works.\n",  # bottom-posted
    "On Mon, Ana wrote:\n> Are you free on Friday?\n> Ana",  # nothing but a quote
    "Sounds good.\n\n-----Original Message-----\nFrom: Ana Lima\nSent: Monday, March 3, 2025 10:00 AM\n"
    "To: Ben\nSubject: Friday\n\nAre you free on Friday?\n",
    "Sounds good.\n\n________________________________\nFrom: Ana Lima <ana@example.com>\nSent: Monday, March 3, "
    "2025 10:00\nTo: Ben <ben@example.com>\nSubject: Friday\n\nAre you free on Friday?\n",
    "Gerne.\n\nVon: Ana Lima <ana@example.com>\nGesendet: Montag, 3. März 2025 10:00\nAn: Ben\nBetreff: Freitag\n\n"
    "Hast du am Freitag Zeit?\n",
    "Avec plaisir.\n\nDe : Ana Lima <ana@example.com>\nEnvoyé : lundi 3 mars 2025 10:00\nÀ : Ben\nObjet : "
    "Vendredi\n\nTu es libre vendredi ?\n",
    "> From: Ana\n> To: Ben\n> Subject: x\nSee above.",
    "*From:* Ana Lima\n*Sent:* Monday\n*To:* Ben\n\nHello",
    "Meeting notes\nDate: Monday\nCc: the team\nAgenda: budget",  # header-like lines in one's own text
    "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Bo <bo@example.com>\nDate: Mon, 3 Mar 2025\n"
    "Subject: Dinner\nTo: Ana\n\nDinner on Saturday?\n",
    "---------- Forwarded message ---------\nFrom: Bo <bo@example.com>\nSubject: Dinner\n\nDinner on Saturday?\n",
    "Begin forwarded message:\n\nFrom: Bo\nSubject: Dinner\n\nDinner on Saturday?\n",
    "-------- Message transféré --------\nDe : Bo\nObjet : Dîner\n\nDîner samedi ?\n",
    "> ---------- Weitergeleitete Nachricht ---------\n> Von: Bo\n>\n> Abendessen am Samstag?\n",
    "See you at seven.\n\n-- \nAna Lima\nexample.com",
    "See you at seven.\n--\nAna",
    "See you at seven.\n__\nAna",
    "Shopping list:\n- eggs\n- milk\n\n- bread",
    "See you at seven.\n\nSent from my iPhone",
    "See you at seven.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>",
    "See you at seven.\n\nGesendet von meinem iPhone",
    "See you at seven.\n\nEnvoyé depuis mon iPhone",
    "See you at seven.\n\nBest regards,\nAna",
    "Thanks, that works.\n\nThanks,\nAna",
    "Best, Ana",
    "See you.\n\nKind Regards\nAna\n\nAll the best",
    "Bis dann.\n\nMit freundlichen Grüßen\nAna",
    "Bis dann.\n\nViele Grüße\nAna\n\nLiebe Gruesse",
    "À bientôt.\n\nCordialement,\nAna",
    "À bientôt.\n\nBonne journée\nAna",
    "See you.\n\n> Thanks,\n> Ana",
    "See you.\n\nTHANKS,\nANA",
    "See you.\n\nſent from my phone",  # the long s re.IGNORECASE takes for "s"
    "See you.\n\nKind Regards",  # the Kelvin sign
    "ON MON, ANA WROTE:\n> hi\nYes.",
    "İ will be there.\nOn Mon, ANA WROTE:\n> hi",
    "See you.\n\nCAUTION: This email originated from outside of the organization.",
    "See you.\n\nDisclaimer: this e-mail and any attachments are confidential.",
    "See you.\nWichtiger Hinweis: Diese E-Mail ist vertraulich.",
    "See you.\n\nConfidential Notice: this mail is for its addressee only.",
    "Yes.\n_______________________________________________\nFriends mailing list\nfriends@example.com\n"
    "https://lists.example.com/mailman/listinfo/friends",
    'Yes.\n\n-- \nYou received this message because you are subscribed to the Google Groups "Friends" group.\n'
    "To unsubscribe from this group, send an email to friends+unsubscribe@googlegroups.com.",
    "Yes.\n--\nTo unsubscribe, e-mail: friends-unsubscribe@example.com",
    "Yes.\r\n\r\nOn Mon, Ana wrote:\r\n> Are you free?\r\n",  # CRLF
    "Yes.\rOn Mon, Ana wrote:\r> Are you free?\r",  # CR
    "x" * 250 + "\n\nOn Mon, Ana wrote:\n> " + "y" * 300,  # long lines are parked
    "Long one: " + "word " * 100 + "\n\nThanks,\nAna",
    "Yes.\n\xa0\nOn Mon, Ana wrote:\u00a0\n>\u2003Are you free?",  # other white space
    "Yes.\n\nOn Mon, Ana wrote:  \t\n\n\n> Are you free?",
    "a wrote:\nb wrote:\n> c",
    "Yes.\nEl lun, Ana escribió:\n\n\n> hola",  # the quote three lines on
    "Yes.\nEl lun, Ana escribió:\n\n\n\n> hola",  # four
    "  :\n  :\nsomething",
    "\x00 0 \x00 parked-looking text",
]


@pytest.mark.parametrize("text", CRAFTED)
def test_crafted_mail_is_cleaned_as_before(text: str) -> None:
    assert own_text(text) == own_text_before(text)


# The names of the library's header blocks (mail-parser-reply 1.36, English, German and French), each enough alone.
HEADER_NAMES = [
    *("From", "Sent", "To", "Subject", "Date", "Cc", "Organization"),
    *("Von", "Gesendet", "An", "Betreff", "Datum", "Organisation"),
    *("De ", "Envoyé ", "À ", "Objet ", "  ", "Cc "),
]


@pytest.mark.parametrize("name", [*HEADER_NAMES, *(n.upper() for n in HEADER_NAMES)])
def test_each_header_name_is_found_as_before(name: str) -> None:
    text = f"Yes.\n\n*{name}:* Ana Lima\n*{name}:* Ben\n\nAre you free on Friday?"
    assert own_text_before(text) == MailBody("Yes.")  # the block is found
    assert own_text(text) == own_text_before(text)


@pytest.mark.parametrize("text", CRAFTED)
def test_without_the_library_shortcuts_mail_is_cleaned_as_before(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another version of the library, or other languages: the library does all the work."""
    monkeypatch.setattr(cleanup, "_SHORTCUTS_HOLD", False)
    assert own_text(text) == own_text_before(text)


FRAGMENTS = [
    *("\n", "\n", "\n", "\n\n", " ", "  ", "\t", "\xa0", "\r\n", ">", "> ", ">>", "*", ":", " :", "-", "--", "_"),
    *("-" * 32, "_" * 40, "- ", "word", "Yes.", "Friday at seven", "x" * 210, "\x00", "İ", "ı", "ſ", "K"),
    *("On Mon, Ana wrote:", "wrote:", "WROTE", "schrieb", "a écrit", "escribió", "Am Mo. schrieb Bo:", "on "),
    *("Le lun. Ana a écrit :", "-----Original Message-----", "Original Message", "From:", "Sent:", "To:"),
    *("Subject:", "Date:", "Cc:", "Von:", "Gesendet:", "An:", "Betreff:", "De :", "Envoyé :", "À :", "Objet :"),
    *("Sent from my iPhone", "Get Outlook for iOS", "Gesendet von", "Envoyé depuis", "Thanks,", "Best,"),
    *("Best regards", "Kind Regards", "regards,", "Mit freundlichen Grüßen", "Grüße", "Gruss", "Cordialement"),
    *("bonne réception", "salutations", "CAUTION:", "Disclaimer", "Hinweis:", "mail", "e-mail"),
    *("Forwarded message", "Begin forwarded message:", "Weitergeleitete Nachricht", "mailing list"),
    *("You received this message because you are subscribed to ", "To unsubscribe", "_" * 10),
]


def random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(FRAGMENTS, k=rng.randint(1, 40))) for _ in range(n)]


def test_random_mail_is_cleaned_as_before() -> None:
    assert_as_before(random_texts(1500, seed=24))


def test_each_step_finds_what_it_found_before() -> None:
    texts = random_texts(1500, seed=25)
    for text in texts:
        assert cleanup.strip_list_footer(text) == strip_list_footer_before(text), text
        assert cleanup.drop_quoted_lines(text) == drop_quoted_lines_before(text), text
        found = cleanup._SIGNATURES.search(text)
        assert cleanup._signature(text) == (found.group() if found else ""), text
        for line in text.split("\n"):
            assert cleanup._ends_like_attribution(line) == (BEFORE_ATTRIBUTION_END.search(line) is not None), line


# ----- the facts the shortcuts rest on


def test_the_patterns_are_the_ones_they_were() -> None:
    assert [(f.pattern, f.flags) for f in BEFORE_FOOTERS] == [
        (f.pattern, f.flags) for f in (cleanup._MAILMAN_FOOTER, cleanup._GROUPS_FOOTER, cleanup._UNSUBSCRIBE_FOOTER)
    ]
    assert (cleanup._ATTRIBUTION_END.pattern, cleanup._ATTRIBUTION_END.flags) == (
        BEFORE_ATTRIBUTION_END.pattern,
        BEFORE_ATTRIBUTION_END.flags,
    )


def test_the_shortcuts_hold_for_the_library_installed() -> None:
    """Fails after an upgrade of mail-parser-reply or a change of LANGUAGES: read the words and the kinds of
    signature off the new patterns (printed here), then update _READ_OFF."""
    probe = EmailMessage(text="", languages=list(LANGUAGES), keep_hyphen_lists=True)
    for library, ours in [
        (probe.HEADER_REGEX, cleanup._HEADERS),
        (probe.DISCLAIMERS_REGEX, cleanup._DISCLAIMERS),
        (probe.SIGNATURE_REGEX, cleanup._SIGNATURES),
    ]:
        assert (library.pattern, library.flags) == (ours.pattern, ours.flags)
    assert cleanup._SHORTCUTS_HOLD, [p.pattern for p in (cleanup._HEADERS, cleanup._DISCLAIMERS, cleanup._SIGNATURES)]
    assert cleanup._SIGNATURES.pattern == rf"(({'|'.join(cleanup._SIGNATURE_KINDS)})(.|\s)*)"
    assert cleanup._SIGNATURES.flags == re.IGNORECASE | re.MULTILINE | re.UNICODE


EVERY_CHARACTER = "".join(map(chr, range(0x110000)))


def test_a_folded_text_holds_every_word_a_case_blind_pattern_finds() -> None:
    """Wherever re.IGNORECASE matches a character with a letter of a word the shortcuts look for, the folded
    character is that letter (so the folded text holds the word), for every character there is."""
    words = [
        *cleanup._ATTRIBUTION_WORDS,
        *cleanup._HEADER_NAMES,
        *cleanup._DISCLAIMER_WORDS,
        "mail",
        *cleanup._FORWARD_PHRASES,
        "-\nto unsubscribe",
    ]
    assert all(word == word.lower() for word in words)
    letters = sorted(set("".join(words)) | set("> *:"))
    for letter in letters:
        for alike in set(re.findall(re.escape(letter), EVERY_CHARACTER, re.IGNORECASE)):
            assert cleanup._fold(alike) == letter, (letter, alike)


def test_white_space_is_what_str_strip_strips() -> None:
    """``\\s`` in the library's and our patterns is what ``str.strip`` strips, for every character there is."""
    space = set(re.findall(r"\s", EVERY_CHARACTER))
    assert space == {c for c in EVERY_CHARACTER if not c.strip()}
