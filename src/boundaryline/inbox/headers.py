"""Mail header values as ``policy.default``'s header registry decodes them, read directly when they take the
plain form most headers do: ASCII text without an encoded word (a subject, a list id), plain addresses
(``ana@example.com``, ``Ana Lima <ana@example.com>``), one message id, a date. The registry's parser takes
50-150 µs a header in Python; these take a few. Any other form is the registry's: ``plain_value`` says
None, and the caller asks it."""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.headerregistry import AddressHeader, HeaderRegistry, MessageIDHeader, UnstructuredHeader
from email.utils import parsedate_to_datetime
from typing import cast

_REGISTRY = cast(HeaderRegistry, policy.default.header_factory)
_LINE_ENDS = re.compile(r"\r|\n")  # what policy.default.header_fetch_parse removes first

# RFC 5322 atext: what a word of a display name, and each dot-separated piece of an address, is made of.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_ADDRESS = rf"{_DOT_ATOM}@{_DOT_ATOM}"
# One address of a list, and the comma after it: "local@domain", "<local@domain>", or a display name (words of
# atext, or one quoted string without escapes) and "<local@domain>".
_MAILBOX = re.compile(
    rf"[ \t]*(?:({_ADDRESS})|(?:(?:({_ATEXT}+(?:[ \t]+{_ATEXT}+)*)|\"([\t\x20\x21\x23-\x5b\x5d-\x7e]*)\")[ \t]*)?"
    rf"<({_ADDRESS})>)[ \t]*(,|\Z)"
)
_SPECIALS = re.compile(r'[()<>@,:;."\[\]]')  # a display name holding one is quoted (headerregistry.Address)
_MESSAGE_ID = re.compile(rf"[ \t]*<{_ADDRESS}>[ \t]*")


def plain_value(name: str, raw: str) -> str | None:
    """The value the header registry decodes ``raw`` (a header ``name``'s raw value, as the compat32 parser
    keeps it) to, when ``raw`` is plain: ASCII, no encoded word, and of its header's plain form; None
    otherwise."""
    value = _LINE_ENDS.sub("", raw)
    if not value.isascii() or "=?" in value:
        return None
    kind = _REGISTRY.registry.get(name.lower(), _REGISTRY.default_class)
    if issubclass(kind, UnstructuredHeader):
        return value
    if issubclass(kind, AddressHeader):
        return _plain_addresses(value)
    if issubclass(kind, MessageIDHeader):
        return value if _MESSAGE_ID.fullmatch(value) else None
    return None


def _plain_addresses(value: str) -> str | None:
    """A list of plain addresses as the registry writes it back (``headerregistry.Address``): a display name
    with its blanks, in quotes when it holds a special character, the address in angle brackets after it,
    or the address alone; ", " between them."""
    decoded: list[str] = []
    pos = 0
    while pos < len(value) or not decoded:
        mailbox = _MAILBOX.match(value, pos)
        if mailbox is None:
            return None
        alone, atoms, quoted, address, comma = mailbox.groups()
        if alone:
            decoded.append(alone)
        elif atoms:
            decoded.append(f"{' '.join(atoms.split())} <{address}>")
        elif quoted is not None:
            if not quoted.strip():
                return None  # an empty name: the registry leaves it out
            decoded.append(f'"{quoted}" <{address}>' if _SPECIALS.search(quoted) else f"{quoted} <{address}>")
        else:
            decoded.append(address)
        pos = mailbox.end()
        if comma and pos == len(value):
            return None  # a comma with no address after it
    return ", ".join(decoded)


def plain_date(raw: str) -> datetime | None:
    """A Date header's time as the registry and ``parsedate_to_datetime`` of its decoded value give it:
    the registry writes the time it parses back with ``format_datetime``, which reads back to the same
    time. None when the value is not a date ``parsedate_to_datetime`` reads (the registry then decides)."""
    try:
        return parsedate_to_datetime(_LINE_ENDS.sub("", raw))
    except Exception:
        return None
