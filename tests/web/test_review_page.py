"""The four scenarios of the review page, as a person would go through them, in Chromium."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from boundaryline.cli import main as cli
from boundaryline.feedback import FeedbackStore
from boundaryline.settings import Settings
from tests.web.conftest import API_KEY, NO_BROWSER, Session, browser_executable

if browser_executable() is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)  # one loud line in the test summary

EXAMPLES = Path(__file__).parents[2] / "data" / "examples"
PROPOSITION = "Loved your talk! Drinks tonight, just the two of us? You looked stunning."
PROPOSITION_WORDS = set(re.findall(r"\w+", PROPOSITION.lower()))  # the proposition's own words


def check(session: Session, text: str) -> None:
    session.goto()
    session.page.get_by_label("Message", exact=True).fill(text)
    session.page.get_by_role("button", name="Check", exact=True).click()
    expect(session.page.locator("#check-status")).to_contain_text("Checked")


def test_a_proposition_is_labelled_with_its_words_highlighted(session: Session, screenshots: Path) -> None:
    page = session.page
    check(session, PROPOSITION)
    expect(page.locator("#result-label")).to_have_text("inappropriate proposition")
    expect(page.locator("#result-bars .bar")).to_have_count(3)
    expect(page.locator("#result-thresholds")).to_contain_text("arg-max")
    words = page.locator("#highlighted-text .w")
    assert words.count() >= 3
    # The strongest push towards the label is one of the proposition's own words, warm and solid.
    weights = {
        words.nth(i).inner_text(): float(words.nth(i).get_attribute("data-weight") or 0) for i in range(words.count())
    }
    strongest = max(weights, key=lambda word: weights[word])
    assert weights[strongest] > 0 and strongest.lower() in PROPOSITION_WORDS
    top = page.locator("#highlighted-text .w", has_text=strongest).first
    assert "w-pos-" in (top.get_attribute("class") or "")
    # Keyboard: the word takes focus and says its number.
    top.focus()
    expect(top).to_be_focused()
    assert (top.get_attribute("data-tip") or "").startswith("+") and "towards" in (top.get_attribute("data-tip") or "")
    expect(page.locator("#legend")).to_contain_text("towards")
    page.screenshot(path=screenshots / "check.png", full_page=True)
    # The text went in a POST body, never in a URL.
    assert not any("Drinks" in r.url or "stunning" in r.url for r in session.requests)
    assert any(r.method == "POST" and r.url.endswith("/v1/score") for r in session.requests)


def test_the_threshold_slider_redecides_the_label(session: Session) -> None:
    page = session.page
    check(session, PROPOSITION)
    expect(page.locator("#result-label")).to_have_text("inappropriate proposition")
    page.get_by_label("Threshold for inappropriate proposition", exact=True).first.check()
    slider = page.locator("#th-inappropriate_proposition")
    slider.focus()
    page.keyboard.press("End")  # keyboard only: the highest threshold, 1.00
    expect(page.locator("#th-out-inappropriate_proposition")).to_have_text("1.00")
    expect(page.locator("#result-thresholds")).to_contain_text("inappropriate proposition 1.00")
    expect(page.locator("#result-label")).not_to_have_text("inappropriate proposition")
    page.get_by_role("button", name="Back to the service's thresholds").click()
    expect(page.locator("#result-label")).to_have_text("inappropriate proposition")


def test_a_correction_is_stored_with_the_key_asked_once(
    session: Session, live_settings: Settings, screenshots: Path
) -> None:
    page = session.page
    text = "Fifth message this week. Why won't you answer me? I will wait outside your office."
    check(session, text)
    page.get_by_role("button", name="pestering", exact=True).click()
    key = page.get_by_label("API key of this service")
    expect(key).to_be_visible()
    key.fill("wrong-key")
    key.press("Enter")
    expect(page.locator("#correct-status")).to_contain_text("refused")
    key.fill(API_KEY)
    key.press("Enter")
    expect(page.locator("#correct-status")).to_contain_text("Stored")
    expect(page.locator("#correct-status")).to_contain_text("make retrain")
    page.screenshot(path=screenshots / "correct.png", full_page=True)
    stored = [item for item in FeedbackStore(live_settings.feedback_path).items() if item.text == text]
    assert [item.label for item in stored] == ["pestering"]
    # A second correction does not ask for the key again; the same one twice is stored once.
    page.get_by_role("button", name="professional", exact=True).click()
    expect(page.locator("#correct-status")).to_contain_text("Stored")
    expect(key).to_be_hidden()
    page.get_by_role("button", name="professional", exact=True).click()
    expect(page.locator("#correct-status")).to_contain_text("Already stored")
    stored = [item for item in FeedbackStore(live_settings.feedback_path).items() if item.text == text]
    assert sorted(item.label for item in stored) == ["pestering", "professional"]
    # The key stays in the tab's session storage: never in a URL.
    assert not any(API_KEY in r.url for r in session.requests)


@pytest.mark.parametrize("output_format", ["csv", "jsonl"])
def test_a_scored_inbox_is_read_in_the_page_flagged_first(
    session: Session,
    live_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    screenshots: Path,
    output_format: str,
) -> None:
    page = session.page
    results = tmp_path / f"inbox.results.{output_format}"
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: live_settings)
    command = ["score", str(EXAMPLES / "inbox.mbox"), "--out", str(results), "--output-format", output_format, "-q"]
    assert cli(command) == 0
    summary = json.loads(results.with_name(results.stem + ".summary.json").read_text())
    if output_format == "csv":
        with results.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = [json.loads(line) for line in results.read_text().splitlines()]
    flagged = sum(str(row["flagged"]).lower() == "true" for row in rows)
    assert 0 < flagged < len(rows), "the sample inbox should give the tiny model both kinds of messages"

    session.goto("#inbox")
    before = len(session.requests)
    page.get_by_label("Results file (and summary)").set_input_files(
        [results, results.with_name(results.stem + ".summary.json")]
    )
    table = page.locator("#inbox-table tbody tr")
    expect(table).to_have_count(len(rows))
    assert session.requests[before:] == []  # read in the page: nothing uploaded, nothing fetched
    shown = [table.nth(i).get_attribute("class") or "" for i in range(len(rows))]
    assert shown == ["flagged"] * flagged + [""] * (len(rows) - flagged)
    for label, n in summary["labels"].items():
        expect(page.locator(f'#inbox-counts .bar[data-label="{label}"] .bar-value')).to_have_text(str(n))
    senders = page.locator("#senders-table tbody tr")
    expect(senders).to_have_count(len(summary["senders_by_concern"]))
    assert senders.first.get_attribute("data-sender") == summary["senders_by_concern"][0]["sender"]
    expect(senders.first.locator("svg.timeline")).to_be_visible()
    owner = summary["owner"]
    expect(page.locator("#inbox-owner")).to_have_text(f"Owner: {', '.join(owner['aliases'])} ({owner['how']}).")
    # Filter and sort with the keyboard-usable controls.
    page.get_by_label("flagged only").check()
    expect(table).to_have_count(flagged)
    page.get_by_role("button", name="date").click()
    expect(page.locator("#inbox-table th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    page.get_by_label("flagged only").uncheck()
    if output_format == "csv":
        page.get_by_role("button", name="flagged").click()  # back to flagged first
        page.screenshot(path=screenshots / "inbox.png", full_page=True)


def test_the_model_view_shows_the_evaluation_and_the_plots(session: Session, screenshots: Path) -> None:
    page = session.page
    session.goto("#model")
    expect(page.get_by_role("heading", name="The model")).to_be_visible()
    expect(page.locator("#model-version")).to_have_text("v001")
    expect(page.locator("#metrics-table tbody tr")).to_have_count(2)  # test and challenge
    expect(page.locator("#sources-table")).to_contain_text("external")
    plots = page.locator("figure.plot img")
    expect(plots).to_have_count(2)
    for i in range(2):
        plots.nth(i).scroll_into_view_if_needed()
        expect(plots.nth(i)).to_be_visible()
        box = plots.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100  # drawn, not a broken-image icon
    loaded = [r for r in session.requests if "/web/plots/v001/" in r.url]
    assert len(loaded) == 2 and all((r.response() and r.response().status == 200) for r in loaded)
    expect(page.get_by_role("link", name="Check a message")).to_be_visible()
    assert page.locator("#check").is_hidden()
    page.screenshot(path=screenshots / "model.png", full_page=True)


def test_without_its_summary_the_page_ranks_senders_as_the_batch_scorer_does(
    session: Session, live_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "inbox.results.csv"
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: live_settings)
    assert cli(["score", str(EXAMPLES / "inbox.mbox"), "--out", str(results), "-q"]) == 0
    ranked = json.loads(results.with_name(results.stem + ".summary.json").read_text())["senders_by_concern"]
    session.goto("#inbox")
    session.page.get_by_label("Results file (and summary)").set_input_files(results)
    senders = session.page.locator("#senders-table tbody tr")
    expect(senders).to_have_count(len(ranked))
    shown = [
        (senders.nth(i).get_attribute("data-sender"), senders.nth(i).locator("td").nth(3).inner_text())
        for i in range(len(ranked))
    ]
    assert shown == [(s["sender"], str(s["longest_unanswered_run"])) for s in ranked]


def test_snippets_show_under_the_subject_when_the_results_carry_them(
    session: Session, live_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "inbox.results.csv"
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: live_settings)
    assert cli(["score", str(EXAMPLES / "inbox.mbox"), "--out", str(results), "--snippets", "-q"]) == 0
    with results.open(encoding="utf-8-sig", newline="") as handle:
        snippets = [row["snippet"] for row in csv.DictReader(handle) if row["snippet"]]
    assert snippets
    session.goto("#inbox")
    session.page.get_by_label("Results file (and summary)").set_input_files(results)
    shown = session.page.locator("#inbox-table .snippet")
    expect(shown).to_have_count(len(snippets))
    assert sorted(shown.all_inner_texts()) == sorted(snippets)
