"""Text from an export shown where it could act: a spreadsheet cell, a terminal, a Markdown table.

A sender, subject or file name is whatever its author typed. In a CSV opened by a spreadsheet a cell that
starts with ``=``, ``+``, ``-`` or ``@`` is a formula (OWASP, "CSV Injection"); on a terminal an ESC starts a
command (colours, titles, hyperlinks, even a cleared screen); in Markdown a ``|`` or a newline breaks the
table it sits in. Each is shown, never run: the JSON outputs keep the raw text.
"""

from __future__ import annotations

import re

# Characters a terminal or a viewer acts on: C0 and C1 controls, DEL, line and paragraph separators, and the
# bidirectional overrides that reorder what is shown ("Trojan Source"). Tab, CR and LF are folded to a space.
_ACTING = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_FOLDED = re.compile(r"[\t\r\n]+")

# A cell starting with one of these is a formula to a spreadsheet (OWASP); "'" is its text prefix, so a cell
# that starts with one is prefixed too, and ``from_spreadsheet`` gives every cell back exactly.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
FORMULA_START = frozenset(_FORMULA_START)  # for a quick look at a cell's first character


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` on one line with every acting character shown as its escape (ESC as ``\\x1b``)."""
    return _ACTING.sub(_shown, _FOLDED.sub(" ", text))


def markdown_cell(text: str) -> str:
    """``text`` safe in a Markdown table cell or line: ``printable``, with ``|`` escaped."""
    return printable(text).replace("|", "\\|")


def spreadsheet_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows and never runs: ``'`` before a formula's first character."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def from_spreadsheet(cell: str) -> str:
    """The text ``spreadsheet_cell`` was given."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in _FORMULA_START else cell


__all__ = ["FORMULA_START", "from_spreadsheet", "markdown_cell", "printable", "spreadsheet_cell"]
