"""The Corrections tab (issue 21), as a reviewer goes through it, in Chromium: the key asked once, the queue
with its marks, a correction accepted in place and recorded in the store."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from boundaryline.feedback import FeedbackStore
from boundaryline.settings import Settings
from tests.web.conftest import API_KEY, NO_BROWSER, Session, browser_executable

if browser_executable() is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)  # one loud line in the test summary

# An obvious proposition corrected to "professional": it contradicts the confident tiny model.
PROPOSITION = "You looked stunning at the conference, let me take you out for dinner, just the two of us"


def test_a_marked_correction_is_accepted_in_the_corrections_tab(
    session: Session, live_settings: Settings, screenshots: Path
) -> None:
    store = FeedbackStore(live_settings.feedback_path)  # shared by the session's tests: an id of its own
    item, _ = store.add(PROPOSITION, "professional", id=f"web-review-{uuid.uuid4().hex[:8]}")
    page = session.page
    session.goto()
    page.get_by_role("link", name="Corrections").click()
    key = page.get_by_label("The service's API key")
    expect(key).to_be_focused()  # no key stored: asked before anything is loaded
    key.fill("wrong-key")
    key.press("Enter")
    expect(page.locator("#review-status")).to_contain_text("refused")
    key.fill(API_KEY)
    key.press("Enter")

    row = page.locator(f'#review-table tr[data-id="{item.id}"]')
    expect(row).to_have_class("marked")
    expect(row.locator("ul.marks li.warn").first).to_contain_text(
        "Look twice: contradicts a confident model (inappropriate_proposition"
    )
    expect(row.locator("td.text")).to_have_text(PROPOSITION)
    expect(row.locator(".review-state")).to_have_text("waiting")
    expect(page.get_by_role("table", name="Corrections not merged yet")).to_be_visible()
    page.screenshot(path=screenshots / "corrections.png", full_page=True)

    accept = row.get_by_role("button", name="Accept")
    accept.click()
    expect(row.locator(".review-state")).to_contain_text("accepted")
    expect(accept).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#review-status")).to_contain_text(f"Correction {item.id} accepted")
    assert [i.review for i in store.items() if i.id == item.id] == ["accepted"]
    assert item.id in {i.id for i in store.to_merge()}
    assert not any(API_KEY in r.url or "stunning" in r.url for r in session.requests)
