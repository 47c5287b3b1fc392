"""axe-core (through axe-playwright-python, which ships it) on every tab of the review page (issue 25): no
"serious" or "critical" violation, at a desk's width and a phone's. (/docs is Swagger UI's own page: axe
finds colour-contrast faults in its stock style sheet, which is not ours to restyle.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from boundaryline.cli import main as cli
from boundaryline.settings import Settings
from tests.web.conftest import API_KEY, NO_BROWSER, Session, browser_executable

if browser_executable() is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)  # one loud line in the test summary

EXAMPLES = Path(__file__).parents[2] / "data" / "examples"
BLOCKING = {"serious", "critical"}


def serious(page: Any) -> list[str]:
    """The serious and critical violations axe finds on the page as it is now, one line each."""
    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:5]}"
        for v in found
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("width", [1200, 390])
def test_no_serious_violation_on_any_tab(
    browser: Any,
    live_server: str,
    live_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    width: int,
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    session = Session(page=page, base=live_server)
    found: dict[str, list[str]] = {}
    try:
        session.goto()
        page.get_by_label("Message", exact=True).fill("Loved your talk! Drinks tonight, just the two of us?")
        page.get_by_role("button", name="Check", exact=True).click()
        expect(page.locator("#check-status")).to_contain_text("Checked")
        page.get_by_role("button", name="pestering", exact=True).click()  # the key form open too
        found["check"] = serious(page)

        results = tmp_path / "inbox.results.csv"
        monkeypatch.setattr("boundaryline.cli.get_settings", lambda: live_settings)
        assert cli(["score", str(EXAMPLES / "inbox.mbox"), "--out", str(results), "--snippets", "-q"]) == 0
        session.goto("#inbox")
        page.get_by_label("Hide flagged messages behind a warning").check()
        page.get_by_label("Results file (and summary)").set_input_files(results)
        expect(page.locator("#inbox-table tbody tr").first).to_be_visible()
        found["inbox"] = serious(page)

        session.goto("#model")
        expect(page.locator("#model-version")).to_be_visible()
        found["model"] = serious(page)

        session.goto("#corrections")
        found["corrections (asking the key)"] = serious(page)
        page.evaluate(f"sessionStorage.setItem('boundaryline.apiKey', '{API_KEY}')")
        page.get_by_role("button", name="Load the corrections again").click()
        expect(page.locator("#review-status")).not_to_contain_text("Loading")
        found["corrections"] = serious(page)

    finally:
        context.close()
    print({tab: len(lines) for tab, lines in found.items()})
    assert not any(found.values()), found
