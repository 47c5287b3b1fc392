from collections import deque
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boundaryline.data import load_corpus
from boundaryline.inbox import Message
from boundaryline.owner import Owner
from boundaryline.scoring.history import Cues, history_verdicts, rank_senders
from boundaryline.senders import (
    REFUSAL,
    REQUEST,
    PatternTracker,
    Rule,
    SenderSummary,
    _inside_a_window,
    address,
    is_refusal,
    is_request,
)
from boundaryline.settings import Settings

OWNER = "Priya Raman <priya@example.com>"
T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def msg(i: int, sender: str, hours: float, to: str = OWNER) -> Message:
    return Message(id=f"m{i}", text="x", source="t", sender=sender, recipients=to, date=T0 + timedelta(hours=hours))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Jake Turner <Jake.Turner@Example.com>", "jake.turner@example.com"), ("ana@example.org", "ana@example.org"),
     ("Ana Lima", "ana lima"), (None, "")],
)  # fmt: skip
def test_address(value: str | None, expected: str) -> None:
    assert address(value) == expected


def ranked(rows: list[tuple[Message, str]]) -> list[SenderSummary]:
    """The ranking as a batch run builds it: from the rows' combined labels and unanswered turns."""
    kept = [(message, label, Cues(refusal=False, request=True)) for message, label in rows]
    verdicts, _ = history_verdicts(kept, Owner(frozenset({"priya@example.com"}), "test"), Settings())
    return rank_senders(kept, verdicts, Settings())


def test_unanswered_runs_gaps_and_ranking() -> None:
    jake = "Jake <jake@example.com>"
    rows = [
        (msg(1, jake, 0), "professional"),
        (msg(2, jake, 30), "professional"),
        (msg(3, OWNER, 31, to=jake), "professional"),  # Priya answers: Jake's run starts again
        (msg(4, jake, 40), "pestering"),
        (msg(5, jake, 44), "pestering"),
        (msg(6, jake, 50), "pestering"),
        (msg(7, "Ana <ana@example.com>", 5), "professional"),
        (msg(8, "Marc <marc@example.com>", 6), "inappropriate_proposition"),
        (msg(9, "Marc <marc@example.com>", 90), "professional"),
    ]
    summaries = ranked(rows)
    assert [s.sender for s in summaries] == ["jake@example.com", "marc@example.com", "ana@example.com"]
    jake_summary = summaries[0]
    assert (jake_summary.messages, jake_summary.concerning, jake_summary.longest_unanswered_run) == (5, 3, 3)
    assert jake_summary.shortest_gap == timedelta(hours=4)
    assert jake_summary.labels == {"professional": 2, "pestering": 3}
    assert summaries[1].shortest_gap == timedelta(hours=84)
    assert summaries[2].shortest_gap is None
    assert summaries[0].to_dict()["shortest_gap_seconds"] == 4 * 3600


def test_without_a_reply_the_whole_series_is_one_run() -> None:
    rows = [(msg(i, "jake@example.com", i * 24), "professional") for i in range(5)]
    rows.append((msg(9, "x@example.com", 1), "professional"))
    [jake, _] = ranked(rows)
    assert jake.longest_unanswered_run == 5


def test_a_burst_is_one_turn_and_no_gap() -> None:
    """Four chat lines in two minutes are one turn: a run of 1, and no "shortest gap" of seconds."""
    rows = [(msg(i, "ana@example.com", i / 60), "professional") for i in range(4)]
    rows.append((msg(9, "ana@example.com", 48), "professional"))
    [ana] = ranked(rows)
    assert (ana.messages, ana.longest_unanswered_run, ana.shortest_gap) == (5, 2, timedelta(hours=48, minutes=-3))


def test_undated_and_naive_dates_are_handled() -> None:
    naive = Message(id="n", text="x", source="t", sender="a@x.com", recipients=OWNER, date=datetime(2026, 10, 1, 12))
    undated = Message(id="u", text="x", source="t", sender="a@x.com", recipients=OWNER)
    [summary] = ranked([(msg(1, "a@x.com", 0), "pestering"), (naive, "pestering"), (undated, "pestering")])
    assert summary.messages == 3 and summary.shortest_gap == timedelta(hours=3)


@pytest.mark.parametrize(
    "text",
    ["Not now, thanks", "NO THANKS", "I'M SWAMPED", "pleaſe ſtop", "PLEASE STOP", "İ'm too busy", "ı'm too busy",
     "I\u212aLL PASS", "Could you CHECK IN?", "Circling Back on this", "fine", "", "don’t contact me", "İstanbul"],
)  # fmt: skip
def test_the_fast_cues_answer_as_the_phrase_lists(text: str) -> None:
    assert is_refusal(text) == bool(REFUSAL.search(text))
    assert is_request(text) == bool(REQUEST.search(text))


@pytest.mark.parametrize(
    ("text", "refuses"),
    [
        ("Thanks, but not now: I'm swamped until March.", True),
        ("I'm not interested, but good luck with it.", True),
        ("I'll get back to you when things calm down.", True),
        ("Please stop messaging me.", True),
        ("pls don't contact me again", True),
        ("Do not email me again", True),
        ("Sorry, we can't help you with that.", True),
        ("Maybe another time!", True),
        ("I'm unable to help, sorry.", True),
        ("We're not able to help with this.", True),
        ("Sorry, can't help.", True),
        ("Please stop.", True),
        ("Stop emailing this address.", True),
        ("I\u2019m swamped this month", True),  # a curly apostrophe, as phones type it
        ("don\u2019t contact me", True),
        # everyday business phrases that an earlier list took for a no (found on real Enron and list mail)
        ("If you have any questions, please don't hesitate to call me.", False),
        ("If you receive a live pay check, please stop by HR to retrieve it.", False),
        ("If you need to schedule another time please give me a call.", False),
        ("I can't help but wonder what the board will say.", False),
        ("Please don't forget to get with Don on the agreement.", False),
        ("Sure, let's talk on Tuesday at 10.", False),
        ("I can't help it, you're lovely", False),
        ("Please stop at the front desk on your way in.", False),
    ],
)
def test_a_refusal_is_a_no_or_not_now_not_a_polite_formula(text: str, refuses: bool) -> None:
    assert is_refusal(text) is refuses


def test_the_corpus_cues_are_unchanged(project_settings: Settings) -> None:
    for text in load_corpus(project_settings)["text"]:
        assert (is_refusal(text), is_request(text)) == (bool(REFUSAL.search(text)), bool(REQUEST.search(text)))


def test_a_run_is_followed_incrementally() -> None:
    """Undated messages void the span; gaps are between consecutive turns; a reply resets it all."""
    tracker = PatternTracker()
    first = tracker.received("a", T0, "email")
    assert (first.unanswered, first.span, first.shortest_gap) == (1, timedelta(0), None)
    tracker.received("a", T0 + timedelta(hours=5), "sms")
    third = tracker.received("a", T0 + timedelta(hours=7), "email")
    assert (third.unanswered, third.span, third.shortest_gap) == (3, timedelta(hours=7), timedelta(hours=2))
    assert third.channels == ("email", "sms")
    undated = tracker.received("a", None, None)
    assert (undated.unanswered, undated.span, undated.shortest_gap) == (4, None, timedelta(hours=2))
    tracker.owner_wrote(["a"], refused=True)
    after = tracker.received("a", T0 + timedelta(days=2), None)
    assert (after.unanswered, after.span, after.after_refusal) == (1, timedelta(0), True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60 * 24 * 40), max_size=80), st.integers(0, 60 * 24 * 40))
def test_the_window_bisection_is_the_plain_count(minutes: list[int], at: int) -> None:
    """``_inside_a_window`` bisects the sorted turn starts; a plain count over every start gives the same."""
    rule = Rule()
    starts = deque(sorted(T0 + timedelta(minutes=m) for m in minutes))
    when = T0 + timedelta(minutes=at)
    expected = None
    for turns, window in rule.windows:
        inside = [start for start in starts if when - start <= window]
        if len(inside) >= turns:
            expected = (len(inside), inside[0])
            break
    assert _inside_a_window(starts, when, rule) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60 * 24 * 40), min_size=1, max_size=60))
def test_turn_starts_stay_sorted_when_messages_come_out_of_order(minutes: list[int]) -> None:
    tracker = PatternTracker()
    for m in minutes:
        tracker.received("a", T0 + timedelta(minutes=m), None)
        recent = list(tracker._runs["a"].recent)
        assert recent == sorted(recent)


def test_a_message_dated_year_one_is_followed() -> None:
    """A window reaching back past the earliest date there is (an export's placeholder date) is no error."""
    tracker = PatternTracker()
    for second in range(4):
        pattern = tracker.received("a", datetime(1, 1, 1, 0, 0, second, tzinfo=UTC), None)
    assert pattern.unanswered == 1 and pattern.reason is None  # seconds apart: one turn
    for day in range(1, 4):
        pattern = tracker.received("a", datetime(1, 1, 1 + day, tzinfo=UTC), None)
    assert pattern.reason is not None and pattern.reason.startswith("written 4 times")


def test_dates_near_year_one_with_an_offset_are_counted_in_full() -> None:
    """A window that reaches back past year 1 has no lower bound: turns dated before 0001-01-01 UTC (year 1
    at +05:00) are still inside it, and the third turn in four hours is pestering, as with any other date."""
    zone = timezone(timedelta(hours=5))
    tracker = PatternTracker()
    reasons = [
        tracker.received("s", datetime(1, 1, 1, 3, tzinfo=zone) + timedelta(hours=2 * i), None).reason for i in range(3)
    ]
    assert reasons[:2] == [None, None]
    assert reasons[2] is not None and reasons[2].startswith("written 3 times without a reply in 4 h")
