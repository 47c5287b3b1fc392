"""The inbox view at scale and as it reads (issue 25): a 50,000-row results file opens in about a second,
one page of rows at a time with sorting and filtering over all of them; the owner's own messages are named;
flagged messages can be kept behind a warning."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from boundaryline.cli import main as cli
from boundaryline.settings import Settings
from tests.web.conftest import NO_BROWSER, Session, browser_executable

if browser_executable() is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)  # one loud line in the test summary

EXAMPLES = Path(__file__).parents[2] / "data" / "examples"
ROWS = 50_000
OPEN_BOUND_S = 10.0  # generous for a loaded CI machine; the target is 2 s (docs/benchmarks.md)
COLUMNS = [
    "id", "sender", "recipients", "date", "subject", "thread", "direction", "label", "flagged", "fired",
    "text_label", "p_professional", "p_pestering", "p_inappropriate_proposition", "top_terms", "pattern",
    "unanswered", "span_days", "after_refusal", "channels", "truncated", "quoted_only", "source", "snippet",
]  # fmt: skip
LABELS = ["professional", "pestering", "inappropriate_proposition"]


def big_results(path: Path, rows: int = ROWS) -> Path:
    """A results CSV of ``rows`` synthetic messages from 2,000 senders, one in ten the owner's own."""
    rng = random.Random(25)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for n in range(rows):
            who = rng.randrange(2000)
            own = n % 10 == 9
            label = "" if own else rng.choices(LABELS, [8, 1, 1])[0]
            p = [rng.random() for _ in LABELS]
            p[LABELS.index(label or "professional")] += 2
            total = sum(p)
            writer.writerow(
                {
                    "id": f"m{n:06d}",
                    "sender": "Owner Person <me@example.com>" if own else f"Sender {who:04d} <s{who:04d}@example.org>",
                    "recipients": f"Sender {who:04d} <s{who:04d}@example.org>"
                    if own
                    else "Owner Person <me@example.com>",
                    "date": f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00+00:00",
                    "subject": f"Subject number {n}",
                    "thread": f"t{who}",
                    "direction": "outgoing" if own else "incoming",
                    "label": label,
                    "flagged": str(label not in ("", "professional")),
                    "fired": "text" if label not in ("", "professional") else "",
                    "p_professional": f"{p[0] / total:.4f}",
                    "p_pestering": f"{p[1] / total:.4f}",
                    "p_inappropriate_proposition": f"{p[2] / total:.4f}",
                    "top_terms": "coffee, catch up" if label == "professional" else "drinks, just the two",
                    "unanswered": str(rng.randrange(4)),
                    "snippet": f"Hello, this is message {n}, a line or two of what it says. " * 2,
                }
            )
    return path


def test_a_50000_row_results_file_opens_fast_one_page_at_a_time(session: Session, tmp_path: Path) -> None:
    page = session.page
    results = big_results(tmp_path / "big.results.csv")
    session.goto("#inbox")
    started = time.monotonic()
    page.get_by_label("Results file (and summary)").set_input_files(results)
    info = page.locator("#page-info")
    expect(info).to_contain_text(f"of {ROWS} ", timeout=60_000)
    seconds = time.monotonic() - started
    in_page = int(page.locator("#inbox-out").get_attribute("data-open-ms") or 0) / 1000
    print(f"\n50,000-row results CSV opened in {seconds:.2f} s (the page's own count: {in_page:.2f} s)")
    assert seconds < OPEN_BOUND_S
    rows = page.locator("#inbox-table tbody tr")
    expect(rows).to_have_count(100)
    expect(info).to_have_text(f"rows 1–100 of {ROWS} (page 1 of {ROWS // 100})")
    page.get_by_role("button", name="Next page").click()
    expect(info).to_contain_text("rows 101–200")
    page.get_by_role("button", name="Previous page").click()
    expect(info).to_contain_text("rows 1–100")
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
    # Sorting and filtering see every row, not the page drawn.
    page.locator('#inbox-table button[data-key="sender"]').click()
    expect(rows.first.locator("td").nth(2)).to_have_text("Owner Person <me@example.com>")
    page.locator('#inbox-table button[data-key="sender"]').click()
    expect(rows.first.locator("td").nth(2)).to_have_text("Sender 1999 <s1999@example.org>")
    page.get_by_label("Filter").fill("subject number 49999")
    expect(rows).to_have_count(1)
    expect(info).to_have_text("rows 1–1 of 1 (page 1 of 1)")
    page.get_by_label("Filter").fill("")
    page.get_by_label("Label", exact=True).select_option("own")
    expect(info).to_contain_text(f"of {ROWS // 10} ")
    # The senders table draws the most concerning, and says how many there are.
    expect(page.locator("#senders-table tbody tr")).to_have_count(200)
    expect(page.locator("#senders-more")).to_contain_text("of 2000 senders")


def scored_sample(live_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    results = tmp_path / "inbox.results.csv"
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: live_settings)
    assert cli(["score", str(EXAMPLES / "inbox.mbox"), "--out", str(results), "--snippets", "-q"]) == 0
    return results


def test_the_owners_messages_are_named_and_names_kept_as_written(
    session: Session, live_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = session.page
    results = scored_sample(live_settings, tmp_path, monkeypatch)
    with results.open(encoding="utf-8-sig", newline="") as handle:
        own = [row for row in csv.DictReader(handle) if row["direction"] == "outgoing"]
    assert own and all(not row["label"] for row in own)
    session.goto("#inbox")
    page.get_by_label("Results file (and summary)").set_input_files(results)
    expect(page.locator("#inbox-own")).to_have_text(f"Your own messages: {len(own)}, not scored and not counted above.")
    expect(page.locator('#inbox-counts .bar[data-label=""]')).to_have_count(0)
    names = page.locator("#inbox-counts .bar-name").all_inner_texts()
    assert all(name.strip() for name in names)
    mine = page.locator('#inbox-table tr[data-own="true"]')
    expect(mine).to_have_count(len(own))
    for i in range(len(own)):
        expect(mine.nth(i).locator("td.own")).to_have_text("your own message")
        expect(mine.nth(i).locator("td.num")).to_have_text("–")
    # The snippet column is there because the results carry it; senders are shown as the file writes them.
    expect(page.locator("#snippet-head")).to_be_visible()
    expect(page.locator('#senders-table th[scope="row"]').first).to_contain_text("Jake Turner")


def test_flagged_messages_can_be_kept_behind_a_warning(
    session: Session, live_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = session.page
    results = scored_sample(live_settings, tmp_path, monkeypatch)
    session.goto("#inbox")
    page.get_by_label("Hide flagged messages behind a warning").check()
    page.reload()  # remembered in this browser
    expect(page.get_by_label("Hide flagged messages behind a warning")).to_be_checked()
    page.get_by_label("Results file (and summary)").set_input_files(results)
    expect(page.locator("#inbox-status")).to_contain_text("showing rows 1–")
    veiled = page.locator("#inbox-table tr.veiled")
    flagged = page.locator("#inbox-table tr.flagged").count()
    assert flagged > 0
    expect(veiled).to_have_count(flagged)
    first = veiled.first
    row_id = first.get_attribute("data-id")
    assert "blur" in first.locator("td.veil").first.evaluate("node => getComputedStyle(node).filter")
    label = first.locator("td").nth(5)
    assert label.evaluate("node => getComputedStyle(node).filter") == "none"  # the label stays readable
    expect(label).not_to_be_empty()
    first.get_by_role("button", name="show this message").click()
    shown = page.locator(f'#inbox-table tr[data-id="{row_id}"]')
    expect(shown).not_to_have_class("veiled")
    expect(page.locator("#inbox-table tr.veiled")).to_have_count(flagged - 1)
    page.get_by_label("Hide flagged messages behind a warning").uncheck()
    expect(page.locator("#inbox-table tr.veiled")).to_have_count(0)


def test_the_page_reads_a_csv_as_pythons_csv_module_writes_it(session: Session, tmp_path: Path) -> None:
    """Quoted commas, line breaks inside a cell, doubled quotes, CRLF line ends, empty cells."""
    rows = [
        {"id": "1", "subject": 'a "quoted" word, and a comma', "snippet": "two\nlines\r\nand CRLF", "label": ""},
        {"id": "2", "subject": "", "snippet": '"', "label": "pestering"},
        {"id": "3", "subject": "plain", "snippet": "", "label": ""},
    ]
    path = tmp_path / "tricky.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["id", "subject", "snippet", "label"], lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    session.goto()
    read = session.page.evaluate("(text) => parseCSV(text)", path.read_bytes().decode("utf-8"))
    assert read == rows
