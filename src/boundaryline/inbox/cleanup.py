"""Reduce a mail body to what its sender wrote: no quoted lines, no forwarded history, no signature, no
mailing-list footer; HTML bodies to text.

Headers, signatures and disclaimers are found by ``mail-parser-reply`` (attribution lines in a dozen
languages, Outlook header blocks, "Sent from my …", "Best regards"). What it does not do, and real list
mail needs, is keep an *interleaved* reply: new lines written between quoted ones. So quoted lines (``>``)
and the attribution lines that introduce them are removed first, and only then is the rest handed to the
library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup
from mailparser_reply import EmailMessage

# Languages whose attribution lines ("On … wrote:", "Am … schrieb:", "Le … a écrit :") are recognised.
LANGUAGES = ["en", "de", "fr"]  # each more costs ~0.2 ms a message (measured on the real Maildir)
_QUOTED = re.compile(r"^\s*>")
_LONG_LINE = re.compile(r"^[^\n]{200,}$", re.MULTILINE)
_PARKED = re.compile(r"\x00(\d+)\x00")
# Mailing-list footers: Mailman's rule + "… mailing list" block, and Google Groups' subscription notice.
_LIST_FOOTERS = [
    re.compile(r"^_{10,}\s*\n(?:.*\n){0,2}?.*\bmailing list\b.*(?:\n.*){0,4}\Z", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^(?:-- ?\n)?You received this message because you are subscribed to .*\Z", re.MULTILINE | re.DOTALL),
    re.compile(r"^-{2,} ?\nTo unsubscribe.*\Z", re.MULTILINE | re.DOTALL | re.IGNORECASE),
]
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
_ATTRIBUTION_END = re.compile(
    r"(?:wrote|writes|schrieb|a écrit|escribió|ha scritto|schreef|napisał|skrev|napsal)\s*:\s*$", re.I
)


@dataclass(frozen=True)
class MailBody:
    """The sender's own text; ``quoted_only`` when the message held nothing but quoted text (a bare
    forward or a re-send), in which case ``text`` is the quoted text and is scored as such."""

    text: str
    quoted_only: bool = False


def strip_list_footer(text: str) -> str:
    for footer in _LIST_FOOTERS:
        text = footer.sub("", text)
    return text


def _introduces_quote(lines: list[str], quoted: list[bool], i: int) -> bool:
    """Line ``i`` is an attribution: it (with the next line, as Gmail wraps it) ends like "… wrote:" and the
    quoted lines follow within two lines."""
    following = [j for j in range(i + 1, min(i + 4, len(lines))) if lines[j].strip()]
    if not following or not quoted[following[0]]:
        return bool(following) and _ATTRIBUTION_END.search(lines[following[0]]) is not None and i + 1 == following[0]
    return _ATTRIBUTION_END.search(lines[i]) is not None or lines[i].lstrip().lower().startswith("on ")


def drop_quoted_lines(text: str) -> str:
    """The lines that are not quoted (``>``) and do not introduce a quote: an interleaved or bottom-posted
    reply keeps every new line it wrote between the quoted ones."""
    lines = text.split("\n")
    quoted = [bool(_QUOTED.match(line)) for line in lines]
    if not any(quoted):
        return text
    kept = [line for i, line in enumerate(lines) if not quoted[i] and not _introduces_quote(lines, quoted, i)]
    return "\n".join(kept)


def _latest_reply(text: str) -> str:
    """The newest reply of a thread, without its signature and disclaimers (``mail-parser-reply``).

    Headers and signatures are short lines, and the library's patterns backtrack badly on long ones (a
    2,000-character paragraph costs it tens of milliseconds), so long lines are parked behind placeholders
    while it looks and put back in its answer.
    """
    text = _FORWARD.split(text, maxsplit=1)[0]
    parked: list[str] = []

    def park(match: re.Match[str]) -> str:
        parked.append(match.group(0).strip())
        return f"\x00{len(parked) - 1}\x00"

    short = _LONG_LINE.sub(park, text)
    message = EmailMessage(text=short, languages=list(LANGUAGES), keep_hyphen_lists=True).read()
    body = message.replies[0].body if message.replies else ""
    return _PARKED.sub(lambda m: parked[int(m.group(1))], body)


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
