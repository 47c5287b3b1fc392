"""Reduce a mail body to what its sender wrote: no quoted replies, no forwarded history, no signature."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

# Lines that start the quoted part of a reply or forward; everything from them on is someone else's text.
_REPLY_HEADERS = [
    re.compile(r"^\s*On .{4,200}wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Le .{4,200}a écrit\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Am .{4,200}schrieb .*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*Begin forwarded message:\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted header block
    re.compile(r"^\s*From:\s.+$", re.IGNORECASE),  # Outlook: From/Sent/To block of the quoted mail
]
_SIGNATURE_STARTS = [
    re.compile(r"^-- ?$"),  # the RFC 3676 signature delimiter
    re.compile(r"^\s*Sent from my (iPhone|iPad|Android|Samsung|mobile|Galaxy|BlackBerry).*$", re.IGNORECASE),
    re.compile(r"^\s*Get Outlook for (iOS|Android).*$", re.IGNORECASE),
]


def _is_outlook_quote(lines: list[str], i: int) -> bool:
    """ "From: …" only starts a quote when "Sent:"/"Date:" and "To:"/"Subject:" follow within a few lines."""
    window = " ".join(lines[i + 1 : i + 5]).lower()
    return ("sent:" in window or "date:" in window) and ("to:" in window or "subject:" in window)


def strip_quoted_and_signature(text: str) -> str:
    """The part of a plain-text mail body its sender wrote: quoted replies, forwarded history and the
    signature removed. Returns "" when nothing of the sender's own is left."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            continue
        header = next((p for p in _REPLY_HEADERS if p.match(line)), None)
        if header is not None and (not line.lstrip().lower().startswith("from:") or _is_outlook_quote(lines, i)):
            break
        if any(p.match(line) for p in _SIGNATURE_STARTS):
            break
        # Gmail wraps a long attribution over two lines: "On Mon, 5 Oct 2026 at 09:00" / "Ana <…> wrote:"
        if re.match(r"^\s*On \S.{3,200}$", line) and i + 1 < len(lines) and lines[i + 1].rstrip().endswith("wrote:"):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


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
