"""The review page at phone widths (issue 25): no tab scrolls the page sideways, and every control can be
reached (brought into the viewport by scrolling, its own box's included)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from boundaryline.cli import main as cli
from boundaryline.settings import Settings
from tests.web.conftest import API_KEY, NO_BROWSER, Session, browser_executable

if browser_executable() is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)  # one loud line in the test summary

EXAMPLES = Path(__file__).parents[2] / "data" / "examples"
CONTROLS = "button, input, select, textarea, summary, nav a, .table-scroll, figure.plot a"

# Each visible control scrolled into view: the ones still outside the viewport, and the page's overflow.
UNREACHABLE = """(selector) => {
  const out = [];
  for (const node of document.querySelectorAll(selector)) {
    if (!node.checkVisibility()) continue;
    node.scrollIntoView({ block: "center", inline: "center" });
    const box = node.getBoundingClientRect();
    const tall = box.height > innerHeight; // a long table's box: its sides must fit, its ends need not
    const outside = box.left < -1 || box.right > innerWidth + 1 || (!tall && (box.top < -1 || box.bottom > innerHeight + 1));
    if (box.width === 0 || outside) {
      out.push(`${node.tagName.toLowerCase()}#${node.id || ""}.${node.className} ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  return out;
}"""


def phone_session(browser: Any, base: str, width: int) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": width, "height": 780}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    session = Session(page=page, base=base)
    page.on("pageerror", lambda error: session.errors.append(str(error)))
    page.on("request", lambda request: session.requests.append(request))
    yield session
    context.close()
    assert not session.errors, session.errors
    assert all(r.url.startswith(base) for r in session.requests)


@pytest.fixture(params=[360, 390], ids=lambda width: f"{width}px")
def phone(request: pytest.FixtureRequest, browser: Any, live_server: str) -> Iterator[Session]:
    yield from phone_session(browser, live_server, request.param)


def assert_fits(session: Session, tab: str) -> None:
    page = session.page
    widths = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], f"{tab}: the page scrolls sideways ({widths[0]} px in {widths[1]} px)"
    missed = page.evaluate(UNREACHABLE, CONTROLS)
    assert not missed, f"{tab}: controls out of reach: {missed}"
    page.evaluate("window.scrollTo(0, 0)")


def test_every_tab_fits_a_phone(
    phone: Session, live_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, screenshots: Path
) -> None:
    page = phone.page
    width = page.viewport_size["width"]
    phone.goto()
    page.get_by_label("Message", exact=True).fill("Loved your talk! Drinks tonight, just the two of us?")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#check-status")).to_contain_text("Checked")
    page.locator("#th-on-pestering").check()
    expect(page.locator("#result-thresholds")).to_contain_text("pestering")
    page.locator("details summary").click()
    tracks = page.evaluate("[...document.querySelectorAll('#result-bars .bar-track')].map(n => n.offsetWidth)")
    assert len(tracks) == 3 and min(tracks) >= 80, tracks  # a bar short enough to read is no bar
    assert_fits(phone, "check")
    page.screenshot(path=screenshots / f"phone-{width}-check.png", full_page=True)

    results = tmp_path / "inbox.results.csv"
    monkeypatch.setattr("boundaryline.cli.get_settings", lambda: live_settings)
    assert cli(["score", str(EXAMPLES / "inbox.mbox"), "--out", str(results), "--snippets", "-q"]) == 0
    phone.goto("#inbox")
    page.get_by_label("Results file (and summary)").set_input_files(results)
    expect(page.locator("#inbox-table tbody tr").first).to_be_visible()
    assert_fits(phone, "inbox")
    page.screenshot(path=screenshots / f"phone-{width}-inbox.png", full_page=True)

    phone.goto("#model")
    expect(page.locator("#model-version")).to_be_visible()
    for img in page.locator("figure.plot img").all():
        img.scroll_into_view_if_needed()
        box = img.bounding_box()
        assert box is not None and box["width"] <= width
    assert_fits(phone, "model")

    page.evaluate(f"sessionStorage.setItem('boundaryline.apiKey', '{API_KEY}')")
    phone.goto("#corrections")
    expect(page.locator("#review-status")).not_to_contain_text("Loading")
    assert_fits(phone, "corrections")
    page.screenshot(path=screenshots / f"phone-{width}-corrections.png", full_page=True)


def test_a_plot_opens_full_size(phone: Session) -> None:
    phone.goto("#model")
    link = phone.page.locator("figure.plot a").first
    href = link.get_attribute("href") or ""
    assert href.startswith("/web/plots/") and href.endswith(".png")
    assert link.get_attribute("target") == "_blank"
    assert phone.page.request.get(phone.base + href).status == 200
