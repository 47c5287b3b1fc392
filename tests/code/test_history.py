"""Pestering is a pattern (issue 15): the rule over a sender's history, the combined label, and where users
meet it (the batch results, the API)."""

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from boundaryline.decision import combine
from boundaryline.inbox import Message
from boundaryline.owner import Owner
from boundaryline.predict import Scorer
from boundaryline.scoring import ScoreOptions, score_inbox
from boundaryline.scoring.history import Cues, Verdict, history_verdicts
from boundaryline.senders import Event, Rule, pattern_of
from boundaryline.settings import Settings

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
DAY = timedelta(days=1)
SETTINGS = Settings()  # the rule's defaults: 3 unanswered in 7 days, after a refusal, 3 channels


def reason(history: list[Event], at: timedelta, channel: str | None = "email") -> str | None:
    return pattern_of(history, T0 + at, channel, Rule.of(SETTINGS)).reason


def incoming(days: float, channel: str = "email") -> Event:
    return Event(False, T0 + days * DAY, "", channel)


@pytest.mark.parametrize(
    ("history", "at", "fires"),
    [
        ([], 0 * DAY, False),  # a first message
        ([incoming(0)], 5 * DAY, False),  # one polite follow-up
        ([incoming(0), incoming(2)], 4 * DAY, True),  # the third without a reply within a week
        ([incoming(0), incoming(20), incoming(40)], 60 * DAY, False),  # four over two months
        ([incoming(0), Event(True, T0 + DAY, "Not now, I'm swamped until March.")], 3 * DAY, True),  # after a no
        ([incoming(0), incoming(1), Event(True, T0 + 2 * DAY, "Sure, Tuesday at 10?")], 3 * DAY, False),  # replied
        ([incoming(0, "email"), incoming(20, "linkedin_dm")], 40 * DAY, True),  # a third channel to get through
    ],
    ids=["first", "one-follow-up", "third-in-a-week", "slow", "after-refusal", "replied", "channel-hopping"],
)
def test_the_pattern_rule(history: list[Event], at: timedelta, fires: bool) -> None:
    channel = "text_message" if history and history[-1].channel == "linkedin_dm" else "email"
    assert (reason(history, at, channel) is not None) == fires


def test_the_combined_label() -> None:
    assert combine("professional", "written 3 times without a reply in 4 days", True) == ("pestering", "pattern")
    assert combine("professional", "written 3 times without a reply in 4 days", False) == ("professional", "")  # news
    assert combine("pestering", "…", True) == ("pestering", "both")
    assert combine("pestering", None, False) == ("pestering", "text")
    assert combine("inappropriate_proposition", "…", True) == ("inappropriate_proposition", "text")  # never down


def write_thread(path: Path, owner_replies: bool) -> Path:
    rows = [
        ("m1", "Sam <sam@example.com>", "me@example.com", T0, "Could we have a short call about the role?"),
        ("m2", "Sam <sam@example.com>", "me@example.com", T0 + DAY, "Any update on the call?"),
        ("m3", "Sam <sam@example.com>", "me@example.com", T0 + 2 * DAY, "Following up again: can we talk this week?"),
        ("m4", "Ana <ana@example.com>", "me@example.com", T0 + 2 * DAY, "Thanks for the intro, we meet on Tuesday."),
    ]
    if owner_replies:
        rows.append(("o1", "Me <me@example.com>", "ana@example.com", T0 + 3 * DAY, "Great, glad it worked out!"))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "from", "to", "date", "text"])
        writer.writerows([(i, s, r, d.isoformat(), t) for i, s, r, d, t in rows])
    return path


@pytest.mark.parametrize("owner_replies", [True, False])
def test_batch_results_carry_the_pattern_and_both_labels(
    tiny_trained: Settings, tiny_scorer: Scorer, tmp_path: Path, owner_replies: bool
) -> None:
    out = tmp_path / "r.csv"
    summary = score_inbox(write_thread(tmp_path / "i.csv", owner_replies), settings=tiny_trained,
                          options=ScoreOptions(), scorer=tiny_scorer, out=out)  # fmt: skip
    with out.open(encoding="utf-8-sig") as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    assert rows["m3"]["unanswered"] == "3" and rows["m1"]["unanswered"] == "1"
    assert rows["m3"]["pattern"] == "written 3 times without a reply in 2 days"
    assert summary.history_applied == owner_replies
    if owner_replies:  # the owner's side is in the export: a missing reply means something
        assert rows["o1"]["direction"] == "outgoing" and rows["o1"]["label"] == "" and summary.outgoing == 1
        assert rows["m3"]["label"] == "pestering" and rows["m3"]["fired"] in ("pattern", "both")
    else:  # no reply can show: the pattern is reported but changes no label
        assert all(r["label"] == r["text_label"] for r in rows.values())


# ----- issue 20: monotone, turn-aware


def follow_ups(days: list[float], *, replies: tuple[float, ...] = (), asks: list[bool] | None = None) -> list[Verdict]:
    """The verdicts of one sender's messages (``days`` after T0; requests unless ``asks`` says otherwise) with
    the owner replying at ``replies``."""
    sam, me = "Sam <sam@example.com>", "me@example.com"
    asks = asks or [True] * len(days)
    messages = [
        (Message(f"s{i}", "", "t", sam, me, T0 + d * DAY), a) for i, (d, a) in enumerate(zip(days, asks, strict=True))
    ]
    messages += [(Message(f"o{i}", "", "t", me, sam, T0 + d * DAY), True) for i, d in enumerate(replies)]
    kept = [(m, "professional", Cues(refusal=False, request=request)) for m, request in messages]
    verdicts, _ = history_verdicts(kept, Owner(frozenset({me}), "test"), SETTINGS, applied=True)
    return [v for (m, _, _), v in zip(kept, verdicts, strict=True) if m.id.startswith("s")]


def test_seven_polite_follow_ups_three_days_apart_stay_pestering_from_the_third() -> None:
    labels = [v.label for v in follow_ups([3 * i for i in range(7)])]
    assert labels == ["professional"] * 2 + ["pestering"] * 5
    five_over_nine_days = [v.label for v in follow_ups([0, 2, 4, 6.5, 9])]
    assert five_over_nine_days[-1] == "pestering"


def test_a_reply_ends_the_run_and_the_rule_starts_again() -> None:
    labels = [v.label for v in follow_ups([0, 1, 2, 3, 10, 11], replies=(4,))]
    assert labels == ["professional", "professional", "pestering", "pestering", "professional", "professional"]


def test_a_chat_burst_is_one_turn_and_never_pestering_by_its_count() -> None:
    burst = [i / (24 * 60) for i in range(4)]  # "Hi!", "How have you been?", "Long time", "Free on Friday?"
    verdicts = follow_ups(burst)
    assert [v.label for v in verdicts] == ["professional"] * 4
    assert [v.pattern.unanswered for v in verdicts] == [1, 1, 1, 1]
    # Three bursts over three days are three turns: the third is pestering.
    assert follow_ups([0, 0.001, 1, 1.001, 2, 2.001])[-1].reason == "written 3 times without a reply in 2 days"


def test_the_turn_gap_is_a_setting() -> None:
    messages = [(Message(f"s{i}", "", "t", "sam@x.com", "me@x.com", T0 + timedelta(minutes=15 * i)), False)
                for i in range(3)]  # fmt: skip
    kept = [(m, "professional", Cues(refusal=False, request=True)) for m, _ in messages]
    owner = Owner(frozenset({"me@x.com"}), "test")
    by_default, _ = history_verdicts(kept, owner, SETTINGS, applied=True)
    wider, _ = history_verdicts(kept, owner, Settings(pattern_turn_minutes=40), applied=True)
    assert [v.pattern.unanswered for v in by_default] == [1, 2, 3] and [v.pattern.unanswered for v in wider] == [
        1,
        1,
        1,
    ]


gaps = st.one_of(st.floats(0.0, 0.02), st.floats(0.0, 20.0))  # minutes apart (bursts) or days
requests = st.lists(
    st.tuples(gaps, st.booleans(), st.booleans()), min_size=1, max_size=12
)  # (days since the previous event, written by the owner, the owner's message says no)


@given(requests, gaps)
@hypothesis_settings(max_examples=300, deadline=None)
def test_one_more_unanswered_request_never_unflags(events: list[tuple[float, bool, bool]], last_gap: float) -> None:
    """Adding one more unanswered request to a history never turns a flagged message into a professional one,
    and never changes the verdicts of the messages before it."""
    sam, me, when = "sam@x.com", "me@x.com", T0
    kept = []
    for i, (gap, outgoing, refusal) in enumerate(events):
        when += gap * DAY
        sender, to = (me, sam) if outgoing else (sam, me)
        kept.append((Message(f"m{i}", "", "t", sender, to, when), "professional", Cues(refusal, True)))
    owner = Owner(frozenset({me}), "test")
    before, _ = history_verdicts(kept, owner, SETTINGS, applied=True)
    more = [*kept, (Message("new", "", "t", sam, me, when + last_gap * DAY), "professional", Cues(False, True))]
    after, _ = history_verdicts(more, owner, SETTINGS, applied=True)
    assert after[:-1] == before
    last = kept[-1]
    if last[0].sender == sam and before[-1].label == "pestering":
        assert after[-1].label == "pestering"


def test_the_readme_long_run() -> None:
    """README's worked example: a vendor every five days for five weeks, never answered."""
    verdicts = follow_ups([5 * i for i in range(8)])
    assert [v.label for v in verdicts] == ["professional"] * 3 + ["pestering"] * 5
    assert verdicts[3].reason == "written 4 times without a reply in 15 days"
    assert verdicts[6].reason == "written 7 times without a reply in 30 days"


def test_only_a_flagged_request_makes_the_rest_of_the_run_pestering() -> None:
    """Three notes that ask nothing, then a question two months later: the notes were never pestering, so
    the question is judged by its own window (one turn)."""
    verdicts = follow_ups([0, 1, 2, 60], asks=[False, False, False, True])
    assert [v.label for v in verdicts] == ["professional"] * 4


def test_a_turn_is_measured_from_its_first_message() -> None:
    """A message every nine minutes is a turn every two messages, not one endless turn; and one more message
    inside a turn never removes a flag."""
    nine_minutes = [i * 9 / (24 * 60) for i in range(40)]
    verdicts = follow_ups(nine_minutes)
    assert verdicts[-1].pattern.unanswered == 20 and verdicts[-1].label == "pestering"
    quarter_hours = [0, 15 / (24 * 60), 30 / (24 * 60)]
    assert follow_ups(quarter_hours)[-1].label == "pestering"
    with_one_more = follow_ups(sorted([*quarter_hours, 8 / (24 * 60)]))
    assert with_one_more[-1].label == "pestering" and with_one_more[-1].reason.endswith("in 30 min")
