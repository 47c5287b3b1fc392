"""Pestering is a pattern (issue 15): the rule over a sender's history, the combined label, and where users
meet it (the batch results, the API)."""

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from boundaryline.batch import ScoreOptions, score_inbox
from boundaryline.decision import combine
from boundaryline.predict import Scorer
from boundaryline.senders import Event, pattern_of, pattern_reason
from boundaryline.settings import Settings

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
DAY = timedelta(days=1)
SETTINGS = Settings()  # the rule's defaults: 3 unanswered in 7 days, after a refusal, 3 channels


def reason(history: list[Event], at: timedelta, channel: str | None = "email") -> str | None:
    return pattern_reason(pattern_of(history, T0 + at, channel), SETTINGS)


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
    assert combine("professional", "3 messages without a reply in 4 days", True) == ("pestering", "pattern")
    assert combine("professional", "3 messages without a reply in 4 days", False) == ("professional", "")  # news
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
                          options=ScoreOptions(quiet=True), scorer=tiny_scorer, out=out, report=io.StringIO())  # fmt: skip
    with out.open(encoding="utf-8-sig") as handle:
        rows = {r["id"]: r for r in csv.DictReader(handle)}
    assert rows["m3"]["unanswered"] == "3" and rows["m1"]["unanswered"] == "1"
    assert rows["m3"]["pattern"] == "3 messages without a reply in 2 days"
    assert summary.history_applied == owner_replies
    if owner_replies:  # the owner's side is in the export: a missing reply means something
        assert rows["o1"]["direction"] == "outgoing" and rows["o1"]["label"] == "" and summary.outgoing == 1
        assert rows["m3"]["label"] == "pestering" and rows["m3"]["fired"] in ("pattern", "both")
    else:  # no reply can show: the pattern is reported but changes no label
        assert all(r["label"] == r["text_label"] for r in rows.values())
