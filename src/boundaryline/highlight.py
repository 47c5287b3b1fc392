"""Evidence on the text itself: each word of a message with its signed push on one label's decision value.

``Scorer.explain`` gives every term's contribution (word n-grams, and character n-grams already shared out
to the white-space words they came from). ``highlight`` lays them back onto the message as it was written:

- The message is normalised exactly as the model's ``normalise`` step does it, keeping for each character
  of the normalised text the span of the original it came from (a URL, e-mail address or phone number is
  one placeholder word covering its whole original span).
- The *words* are the model's tokens of the normalised text (``TOKEN_PATTERN``), plus any white-space word
  with no token in it (a run of punctuation, which character n-grams can weigh).
- A word n-gram term is shared equally among its occurrences, and each occurrence's share equally among
  its n words ("two of" +0.6, once: "two" +0.3, "of" +0.3), as the scorer shares a character n-gram
  among the words it came from.
- A term that is no n-gram of tokens is a white-space word the scorer named for its character n-grams
  (edge punctuation dropped): shared equally among its occurrences, and within one among its words.

Nothing is lost: ``intercept + sum(word weights) + unplaced == decision``, where ``unplaced`` is the weight
of terms that could not be found in the text (none, unless normalisation and this module disagree).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from boundaryline.predict import _EDGE_PUNCTUATION, Scorer
from boundaryline.text import (
    _APOSTROPHES,
    _EMAIL,
    _MASK,
    _PHONE,
    _SPACE,
    _URL,
    DEOBFUSCATION_STEPS,
    EMAIL_TOKEN,
    PHONE_TOKEN,
    TOKEN_PATTERN,
    URL_TOKEN,
    mask_token,
)

Span = tuple[int, int]  # [start, end) in the original text


@dataclass(frozen=True)
class Segment:
    """A piece of the original message: a word with its weight, or the text between words (``None``)."""

    text: str
    weight: float | None


@dataclass(frozen=True)
class Highlight:
    """A message cut into segments (joined, they give the message back) with each word's contribution."""

    label: str
    decision: float
    intercept: float
    segments: tuple[Segment, ...]
    unplaced: float


def normalise_with_origins(text: str) -> tuple[str, list[Span]]:
    """``text.normalise_text(text)`` and, for each of its characters, the original span it came from."""
    current = text.translate(_APOSTROPHES)  # one character for one: the spans stay as they are
    origins: list[Span] = [(i, i + 1) for i in range(len(text))]
    current, origins = _substitute(current, origins, _MASK, mask_token)
    for pattern, token in ((_URL, URL_TOKEN), (_EMAIL, EMAIL_TOKEN), (_PHONE, PHONE_TOKEN)):
        current, origins = _substitute(current, origins, pattern, token)
    current, origins = _fold(current, origins)
    for step in DEOBFUSCATION_STEPS:  # a word undone ("s e x y" -> "sexy") spans its whole disguise
        if step.may_apply(current):
            current, origins = _fold(*_substitute(current, origins, step.pattern, step.replace))
    lowered = current.lower()
    if len(lowered) != len(current):  # a few characters lower-case to two ("İ"): spread their span
        spread = [(char.lower(), span) for char, span in zip(current, origins, strict=True)]
        lowered = "".join(chars for chars, _ in spread)
        origins = [span for chars, span in spread for _ in chars]
    return lowered, origins


def _fold(text: str, origins: list[Span]) -> tuple[str, list[Span]]:
    """``" ".join(text.split())`` with its origins, as ``normalise_text`` folds white space."""
    text, origins = _substitute(text, origins, _SPACE, " ")
    lead = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return text[lead:end], origins[lead:end]


def _substitute(
    text: str, origins: list[Span], pattern: re.Pattern[str], token: str | Callable[[re.Match[str]], str]
) -> tuple[str, list[Span]]:
    """``pattern.sub(token, text)``, each character of a replacement spanning the whole match's origin (an
    unchanged match keeps its characters' own)."""
    pieces: list[str] = []
    spans: list[Span] = []
    last = 0
    for match in pattern.finditer(text):
        pieces.append(text[last : match.start()])
        spans += origins[last : match.start()]
        replacement = token if isinstance(token, str) else token(match)
        pieces.append(replacement)
        if replacement == match.group():
            spans += origins[match.start() : match.end()]
        elif replacement:
            spans += [(origins[match.start()][0], origins[match.end() - 1][1])] * len(replacement)
        last = match.end()
    pieces.append(text[last:])
    spans += origins[last:]
    return "".join(pieces), spans


def _words(normalised: str, token_pattern: str) -> tuple[list[Span], list[str], list[list[int]], list[str]]:
    """The words (as spans of the normalised text), the token texts (the first ``len(tokens)`` words),
    and the white-space words: the indices of the words inside each, and each one's evidence term."""
    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(token_pattern, normalised)]
    words: list[Span] = [(start, end) for start, end, _ in tokens]
    inside: list[list[int]] = []
    ws_terms: list[str] = []
    t = 0
    for match in re.finditer(r"\S+", normalised):
        members = []
        while t < len(tokens) and tokens[t][0] < match.end():
            if tokens[t][0] >= match.start():
                members.append(t)
            t += 1
        if not members:  # punctuation only: a word of its own
            members = [len(words)]
            words.append((match.start(), match.end()))
        inside.append(members)
        ws_terms.append(_EDGE_PUNCTUATION.sub("", match.group()) or match.group())
    return words, [text for _, _, text in tokens], inside, ws_terms


def word_weights(text: str, contributions: dict[str, float], token_pattern: str = TOKEN_PATTERN) -> Highlight:
    """Lay ``contributions`` (term -> weight) onto ``text`` by the rule in this module's docstring; the
    ``Highlight`` carries no label or decision (``highlight`` fills them in)."""
    normalised, origins = normalise_with_origins(text)
    words, tokens, inside, ws_terms = _words(normalised, token_pattern)
    weights = [0.0] * len(words)
    occurrences: dict[int, dict[tuple[str, ...], list[int]]] = {}
    by_ws_term: dict[str, list[int]] = defaultdict(list)
    for i, term in enumerate(ws_terms):
        by_ws_term[term].append(i)
    unplaced = 0.0
    for term, weight in contributions.items():
        parts = tuple(term.split(" "))
        n = len(parts)
        if n not in occurrences:
            index: dict[tuple[str, ...], list[int]] = defaultdict(list)
            for start in range(len(tokens) - n + 1):
                index[tuple(tokens[start : start + n])].append(start)
            occurrences[n] = index
        starts = occurrences[n].get(parts)
        if starts:
            for start in starts:
                for k in range(start, start + n):
                    weights[k] += weight / (len(starts) * n)
        elif term in by_ws_term:
            found = by_ws_term[term]
            for w in found:
                for k in inside[w]:
                    weights[k] += weight / (len(found) * len(inside[w]))
        else:
            unplaced += weight
    segments: list[Segment] = []
    at = 0
    for k in sorted(range(len(words)), key=lambda k: words[k][0]):
        start, end = origins[words[k][0]][0], origins[words[k][1] - 1][1]
        if start < at:  # two words from one original character: the second adds to the first
            previous = segments.pop()
            segments.append(Segment(previous.text, (previous.weight or 0.0) + weights[k]))
            continue
        if start > at:
            segments.append(Segment(text[at:start], None))
        segments.append(Segment(text[start:end], weights[k]))
        at = end
    if at < len(text):
        segments.append(Segment(text[at:], None))
    return Highlight(label="", decision=0.0, intercept=0.0, segments=tuple(segments), unplaced=unplaced)


def highlight(scorer: Scorer, text: str, label: str | None = None) -> Highlight:
    """``text`` with each word's contribution to ``label``'s decision value (default: the label the
    message gets under the thresholds in force), from ``Scorer.explain``."""
    explanation = scorer.explain(text, label)
    word_patterns = [block.token_pattern for block in scorer.table.blocks if block.kind == "word"]
    token_pattern = next((pattern for pattern in word_patterns if pattern), TOKEN_PATTERN)
    laid = word_weights(text, {c.term: c.weight for c in explanation.contributions}, token_pattern)
    return replace(laid, label=explanation.label, decision=explanation.decision, intercept=explanation.intercept)
