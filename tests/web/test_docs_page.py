"""/docs as a person meets it (issue 25): Swagger UI draws every operation of the OpenAPI 3.1 document, in
Chromium, from this origin only, under the page's Content-Security-Policy."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import NO_BROWSER, Session, browser_executable

if browser_executable() is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)  # one loud line in the test summary


def test_the_docs_page_draws_every_operation(session: Session, screenshots: Any) -> None:
    page = session.page
    console: list[str] = []
    page.on("console", lambda message: message.type == "error" and console.append(message.text))
    session.goto("docs")
    paths = page.request.get(f"{session.base}/openapi.json").json()["paths"]
    assert "/v1/score" in paths
    blocks = page.locator(".opblock")
    expect(blocks.first).to_be_visible()
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    drawn = {
        (block.get_attribute("class") or "", block.locator(".opblock-summary-path").first.get_attribute("data-path"))
        for block in blocks.all()
    }
    wanted = {(method, path) for path, item in paths.items() for method in item}
    shown = {(method, path) for classes, path in drawn for method in wanted_methods(classes) if path}
    assert shown == wanted
    # Opening an operation shows its request body schema: the 3.1 document is read, not just listed.
    page.locator('.opblock-post .opblock-summary-path[data-path="/v1/score"]').click()
    expect(page.locator(".opblock.is-open").first).to_contain_text("Request body")
    page.screenshot(path=screenshots / "docs.png", full_page=True)
    assert not [text for text in console if "Content Security Policy" in text or "Refused" in text], console


def wanted_methods(classes: str) -> list[str]:
    """The HTTP method Swagger UI names in an operation block's classes (``opblock opblock-post``)."""
    return [name.removeprefix("opblock-") for name in classes.split() if name.startswith("opblock-")][:1]
