"""Reduce a mail body to what its sender wrote: no quoted lines, no forwarded history, no signature, no
mailing-list footer; HTML bodies to text.

Headers, signatures and disclaimers are found by ``mail-parser-reply`` (attribution lines in a dozen
languages, Outlook header blocks, "Sent from my …", "Best regards"). What it does not do, and real list
mail needs, is keep an *interleaved* reply: new lines written between quoted ones. So quoted lines (``>``)
and the attribution lines that introduce them are removed first, and only then is the rest handed to the
library.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailparser_reply import EmailMessage, EmailReply

try:
    from mailparser_reply.version import VERSION as _LIBRARY_VERSION
except ImportError:  # pragma: no cover - a version of the library without it
    _LIBRARY_VERSION = ""

# Languages whose attribution lines ("On … wrote:", "Am … schrieb:", "Le … a écrit :") are recognised.
# Adding one means reading the library's shortcuts off its patterns again (see _READ_OFF).
LANGUAGES = ["en", "de", "fr"]
_QUOTED = re.compile(r"^\s*>")
_LONG_LINE = re.compile(r"^[^\n]{200,}$", re.MULTILINE)
_PARKED = re.compile(r"\x00(\d+)\x00")
# Mailing-list footers: Mailman's rule + "… mailing list" block, and Google Groups' subscription notice.
_MAILMAN_FOOTER = re.compile(
    r"^_{10,}\s*\n(?:.*\n){0,2}?.*\bmailing list\b.*(?:\n.*){0,4}\Z", re.IGNORECASE | re.MULTILINE
)
_GROUPS_NOTICE = "You received this message because you are subscribed to "
_GROUPS_FOOTER = re.compile(rf"^(?:-- ?\n)?{_GROUPS_NOTICE}.*\Z", re.MULTILINE | re.DOTALL)
_UNSUBSCRIBE_FOOTER = re.compile(r"^-{2,} ?\nTo unsubscribe.*\Z", re.MULTILINE | re.DOTALL | re.IGNORECASE)
# Forward markers the library does not know: what follows is someone else's message. Gmail and Thunderbird
# write a dashed line ("---------- Forwarded message ---------"), Apple Mail an opening line ("Begin forwarded
# message:"), each in the language of the sender's mail program.
_FORWARD_PHRASES = [
    *("forwarded message", "begin forwarded message"),
    *("weitergeleitete nachricht", "anfang der weitergeleiteten nachricht"),  # German
    *("message transféré", "début du message réexpédié"),  # French
    *("mensaje reenviado", "inicio del mensaje reenviado"),  # Spanish
    *("messaggio inoltrato", "inizio messaggio inoltrato"),  # Italian
    *("mensagem encaminhada", "início da mensagem encaminhada"),  # Portuguese
    *("doorgestuurd bericht", "begin doorgestuurd bericht"),  # Dutch
]
_FORWARD = re.compile(
    rf"^[^\S\n]*-*[^\S\n]*(?:{'|'.join(map(re.escape, _FORWARD_PHRASES))})[^\S\n]*(?:-+|:)?[^\S\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
# The header block a forward starts with ("From: …", "Von: …", "De : …", "Betreff: …"), up to a blank line.
_FORWARDED_HEADERS = re.compile(r"\A(?:[^\S\n]*\n)*(?:[^\S\n]*[^\W\d][\w .-]{0,30}[^\S\n]?:.*\n(?:[ \t]+\S.*\n)*)+")
_ATTRIBUTION_VERBS = (
    *("wrote", "writes", "schrieb", "a écrit", "escribió"),
    *("ha scritto", "schreef", "napisał", "skrev", "napsal"),
)
_ATTRIBUTION_END = re.compile(rf"(?:{'|'.join(_ATTRIBUTION_VERBS)})\s*:\s*$", re.I)
_LONGEST_VERB = max(map(len, _ATTRIBUTION_VERBS))

# The library builds its three patterns (reply headers, disclaimers, signatures) anew for every message; they
# depend on the languages only, so they are built once here and handed to each message.
_PROBE = EmailMessage(text="", languages=list(LANGUAGES), keep_hyphen_lists=True)
_HEADERS, _DISCLAIMERS, _SIGNATURES = _PROBE.HEADER_REGEX, _PROBE.DISCLAIMERS_REGEX, _PROBE.SIGNATURE_REGEX
_LIBRARY_PATTERNS = {"_header_regex": _HEADERS, "_disclaimers_regex": _DISCLAIMERS, "_signature_regex": _SIGNATURES}

# Searching with those patterns was most of the clean-up's cost: each is tried at every character of a mail.
# Shortcuts to the same results: most mail holds no header and no disclaimer, and every match of theirs holds
# one of the words below, so a text holding none of them (in lower case, see _fold) is not searched; the
# signature pattern is split into its four kinds of signature, each looked for from a newline, a character the
# search skips to (see _signature). They were read off mail-parser-reply 1.36 and the patterns it builds for
# LANGUAGES, whose sha256 is _READ_OFF; with another version or other languages the library does all the work.
_READ_OFF = "cb2419d12cab1e502c0f015e6cf1ce2b6589592a3fb7386cb4addf925be349d2"
_SHORTCUTS_HOLD = (
    _LIBRARY_VERSION == "1.36"
    and hashlib.sha256(
        "\n".join(f"{p.flags} {p.pattern}" for p in (_HEADERS, _DISCLAIMERS, _SIGNATURES)).encode()
    ).hexdigest()
    == _READ_OFF
)
# Headers: "On … wrote:", "Am … schrieb …:", "Le … a écrit :", "-----Original Message-----", and Outlook's
# block of lines starting (after ">" and "*") with "From:", "Von:", "De :"… ("  :" among the French ones).
_ATTRIBUTION_WORDS = ("wrote:", "schrieb", "a écrit", "original message")
_HEADER_NAMES = (
    *("from", "sent", "to", "subject", "date", "cc", "organization"),
    *("von", "gesendet", "an", "betreff", "datum", "organisation"),
    *("de ", "envoyé ", "à ", "objet ", "cc "),
)
_HEADER_LINE = re.compile(rf"\n[> *]*(?:{'|'.join(_HEADER_NAMES)})?:")
# Disclaimers: "CAUTION:", "Disclaimer", "Hinweis:"…, and "mail" after them.
_DISCLAIMER_WORDS = (
    *("caution:", "disclaimer", "warning:", "confidential", "notice:", "note:", "information:"),
    *("hinweis:", "achtung:"),
)
# Signatures: the library's pattern is "((" + "|".join(_SIGNATURE_KINDS) + r")(.|\s)*)", a signature running
# from where one of these kinds of line starts to the end of the text.
_QUOTE_MARKS = r"(?:> ?)*"
_DASHES = r"(?:[-_]{2}\n)"  # a "--" line (not "- item": keep_hyphen_lists)
_SENT_FROM = r"(?:Sent from my|Get Outlook for|Gesendet von|Envoy\u00e9 depuis) ?(?:(?:[\w.<>:// ]+)|(?:\w+ )(1, 3))$"
_CLOSINGS = (
    r"(?:Best regards|Kind Regards|Thanks,|Thank you,|Best,|All the best|regards,|Mit freundlichen Gr\u00fc\u00DFen"
    r"|Mit freundlichen Gr\u00fc\u00DFen / (?:Best|Kind) regards,|(?:(?:Beste(?:n)?|Liebe|Viele) )?"
    r"(?:Gr(?:\u00fc|ue)(?:\u00DF|ss)(?:e)?|Gru\u00DF|Gruss)|cordialement|salutations|bonne r[\u00e9e]ception"
    r"|bonne journ[\u00e9e]e)"
)
_SIGNATURE_KINDS = (
    rf"\s*^{_QUOTE_MARKS}{_DASHES}.*",
    r"(\n{2,} ?[_-]{32,})",  # Outlook's rule, after a blank line
    rf"\s*^{_QUOTE_MARKS}{_SENT_FROM}",
    rf"(?<!\A)^{_QUOTE_MARKS}{_CLOSINGS}",
)
# "\s*^" and a line: looked for at the start and after a newline; it starts in the white space before the line.
_SIGNATURE_LINES = [
    (re.compile(_QUOTE_MARKS + line, _SIGNATURES.flags), re.compile(r"\n" + _QUOTE_MARKS + line, _SIGNATURES.flags))
    for line in (_DASHES, _SENT_FROM)
]
_CLOSING_LINE = re.compile(r"\n" + _QUOTE_MARKS + _CLOSINGS, _SIGNATURES.flags)  # "(?<!\A)^": after a newline
_RULE_LINE = re.compile(r"\n\n+ ?[_-]{32}", _SIGNATURES.flags)


def _fold(text: str) -> str:
    """``text`` in lower case, holding a lower-case word wherever a pattern with re.IGNORECASE finds it: that
    compares letters as ``str.lower()`` does, except that it also takes "İ" and "ı" for "i" and "ſ" for "s"."""
    if text.isascii():
        return text.lower()
    return text.replace("İ", "i").replace("ı", "i").replace("ſ", "s").lower()


def _holds_any(folded: str, words: Iterable[str]) -> bool:
    return any(word in folded for word in words)


@dataclass(frozen=True)
class MailBody:
    """The sender's own text; ``quoted_only`` when the message held nothing but quoted text (a bare
    forward or a re-send), in which case ``text`` is the quoted text and is scored as such."""

    text: str
    quoted_only: bool = False


def strip_list_footer(text: str) -> str:
    """``text`` without a mailing-list footer. Each footer runs to the end of the text, so it is looked for
    only from where it could start: the first rule of underscores, the notice (or the "-- " line before it)."""
    text = _cut_footer(text, _MAILMAN_FOOTER, text.find("_" * 10))
    notice = text.find(_GROUPS_NOTICE)
    text = _cut_footer(text, _GROUPS_FOOTER, max(notice - len("-- \n"), 0) if notice >= 0 else -1)
    folded = _fold(text)
    if "-\nto unsubscribe" in folded or "- \nto unsubscribe" in folded:
        text = _UNSUBSCRIBE_FOOTER.sub("", text)
    return text


def _cut_footer(text: str, footer: re.Pattern[str], start: int) -> str:
    """``footer.sub("", text)`` for a footer that ends the text (so matches once at most) and cannot start
    before ``start`` (-1: nowhere)."""
    match = footer.search(text, start) if start >= 0 else None
    return text if match is None else text[: match.start()] + text[match.end() :]


def _ends_like_attribution(line: str) -> bool:
    """``_ATTRIBUTION_END`` finds the end of ``line``: a verb, then ":" between white space (``\\s`` is what
    ``str.strip`` strips), so it is looked for only where the verb could start."""
    head = line.rstrip()
    if not head.endswith(":"):
        return False
    verb_end = len(head[:-1].rstrip())
    return _ATTRIBUTION_END.search(line, max(verb_end - _LONGEST_VERB, 0)) is not None


def _introduces_quote(lines: list[str], quoted: list[bool], i: int, following: int) -> bool:
    """Line ``i`` is an attribution: it (with the next line, as Gmail wraps it) ends like "… wrote:" and the
    quoted lines follow within two lines. ``following``: the next non-blank line (``len(lines)`` for none)."""
    if following > i + 3 or following == len(lines):
        return False
    if not quoted[following]:
        return following == i + 1 and _ends_like_attribution(lines[following])
    return _ends_like_attribution(lines[i]) or lines[i].lstrip().lower().startswith("on ")


def drop_quoted_lines(text: str) -> str:
    """The lines that are not quoted (``>``) and do not introduce a quote: an interleaved or bottom-posted
    reply keeps every new line it wrote between the quoted ones."""
    if ">" not in text:
        return text
    lines = text.split("\n")
    quoted = [bool(_QUOTED.match(line)) for line in lines]
    if not any(quoted):
        return text
    kept: list[str] = []
    following = len(lines)
    for i in range(len(lines) - 1, -1, -1):  # from the end, to know the next non-blank line
        line = lines[i]
        if not quoted[i] and not _introduces_quote(lines, quoted, i, following):
            kept.append(line)
        if line.strip():
            following = i
    return "\n".join(reversed(kept))


def _latest_reply(text: str) -> str:
    """The newest reply of a thread, without its signature and disclaimers (``mail-parser-reply``).

    Headers and signatures are short lines, and the library's patterns backtrack badly on long ones (a
    2,000-character paragraph costs it tens of milliseconds), so long lines are parked behind placeholders
    while it looks and put back in its answer.
    """
    if _holds_any(_fold(text), _FORWARD_PHRASES):  # a marker holds one
        text = _FORWARD.split(text, maxsplit=1)[0]
    parked: list[str] = []

    def park(match: re.Match[str]) -> str:
        parked.append(match.group(0).strip())
        return f"\x00{len(parked) - 1}\x00"

    short = _LONG_LINE.sub(park, text)
    return _PARKED.sub(lambda m: parked[int(m.group(1))], _first_reply_body(short))


def _first_reply_body(text: str) -> str:
    """``EmailMessage(text).read().replies[0].body`` ("" without replies), found faster where the shortcuts
    hold."""
    if not _SHORTCUTS_HOLD:
        message = EmailMessage(text=text, languages=list(LANGUAGES), keep_hyphen_lists=True).read()
        return message.replies[0].body if message.replies else ""
    message = _Message(text=text, languages=list(LANGUAGES), keep_hyphen_lists=True, **_LIBRARY_PATTERNS)
    folded = _fold(message.text)  # the text as the library normalised it
    if _holds_any(folded, _ATTRIBUTION_WORDS) or _HEADER_LINE.search("\n" + folded):
        message.read()
        return message.replies[0].body if message.replies else ""
    # No reply header: read() would make the whole text its one reply.
    disclaimers, signature = message._process_signatures_disclaimers(message.text)
    return EmailReply(content=message.text, signatures=signature, disclaimers=disclaimers).body


class _Message(EmailMessage):
    """The library's message, finding the signature and disclaimers of a reply faster (the same ones)."""

    def _process_signatures_disclaimers(self, text: str) -> tuple[list[str], str]:
        folded = _fold(text)
        disclaimers = _DISCLAIMERS.findall(text) if "mail" in folded and _holds_any(folded, _DISCLAIMER_WORDS) else []
        return disclaimers, _signature(text)


def _signature(text: str) -> str:
    """What the library's signature pattern finds in ``text`` ("" for nothing): the text from the first place
    where one of its kinds of signature starts (``\\s`` being what ``str.strip`` strips)."""
    starts = []
    for at_start, after_newline in _SIGNATURE_LINES:
        if at_start.match(text):
            starts.append(0)
        elif match := after_newline.search(text):
            starts.append(len(text[: match.start() + 1].rstrip()))  # "\s*" reaches back over white space
    for line, offset in ((_CLOSING_LINE, 1), (_RULE_LINE, 0)):
        if match := line.search(text):
            starts.append(match.start() + offset)
    return text[min(starts) :] if starts else ""


def own_text(text: str) -> MailBody:
    """What the sender of a plain-text mail body wrote (see the module docstring)."""
    text = strip_list_footer(text.replace("\r\n", "\n").replace("\r", "\n"))
    own = _latest_reply(drop_quoted_lines(text)).strip()
    if own:
        return MailBody(own)
    quote = "\n".join(_QUOTED.sub("", line).lstrip("> ") for line in text.split("\n"))
    quote = forwarded_text(quote) or _latest_reply(quote).strip() or quote.strip()
    return MailBody(quote, quoted_only=bool(quote))


def forwarded_text(text: str) -> str:
    """The message a bare forward carries (a forward marker with nothing before it): what follows the marker,
    without the forwarded header block, reduced to its own sender's text; "" for any other text."""
    marker = _FORWARD.search(text)
    if marker is None or text[: marker.start()].strip():
        return ""
    return own_text(_FORWARDED_HEADERS.sub("", text[marker.end() :], count=1)).text


def strip_quoted_and_signature(text: str) -> str:
    """The sender's own text of a plain-text body; "" when the body holds nothing of theirs."""
    body = own_text(text)
    return "" if body.quoted_only else body.text


_BLOCKS = ["p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"]


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, one line per block; quoted blocks (Gmail, Outlook) left out."""
    from bs4 import BeautifulSoup  # here: importing it is a fifth of a plain-text run's start-up (~80 ms)

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    for quoted in soup.select("blockquote, div.gmail_quote, div#divRplyFwdMsg, div#appendonsend"):
        quoted.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_BLOCKS):
        block.append("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_HTML = re.compile(r"<(p|br|div|span|a|html|body)\b", re.IGNORECASE)


def plain_text(text: str) -> str:
    """A text field as plain text: HTML (as some exports and mail bodies hold it) converted, anything else as is."""
    return html_to_text(text) if _HTML.search(text) else text
