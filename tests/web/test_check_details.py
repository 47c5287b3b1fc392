"""Small things of "Check a message" and the model view (issue 25): the rule that decided the verdict, the
length limit shown and the service's own refusal, readable model parameters, "–" for an absent class."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from boundaryline.settings import Settings
from service.app import create_app
from tests.web.conftest import NO_BROWSER, Session, browser_executable

if browser_executable() is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)  # one loud line in the test summary

PROPOSITION = "Loved your talk! Drinks tonight, just the two of us? You looked stunning."


def test_the_verdict_names_the_threshold_that_decided_it(session: Session) -> None:
    page = session.page
    session.goto()
    page.get_by_label("Message", exact=True).fill(PROPOSITION)
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#result-label")).to_have_text("inappropriate proposition")
    expect(page.locator("#result-why")).to_contain_text("most probable label")  # the tiny model: arg-max
    page.locator("#th-on-inappropriate_proposition").check()
    slider = page.locator("#th-inappropriate_proposition")
    slider.fill("0.1")
    expect(page.locator("#result-why")).to_contain_text("Decided by the inappropriate proposition threshold")
    expect(page.locator("#result-why")).to_contain_text("reaches 0.10")
    expect(page.locator('#result-bars .bar.decided[data-label="inappropriate_proposition"]')).to_have_count(1)
    slider.focus()
    page.keyboard.press("End")
    expect(page.locator("#result-label")).to_have_text("professional")
    expect(page.locator("#result-why")).to_contain_text("is under its threshold 1.00")


def test_the_length_limit_is_shown_and_the_services_refusal_given(session: Session, live_settings: Settings) -> None:
    page = session.page
    limit = live_settings.max_text_chars
    session.goto()
    box = page.get_by_label("Message", exact=True)
    assert box.get_attribute("maxlength") is None  # never cut silently
    expect(page.locator("#message-count")).to_have_text(f"0 of {limit:,} characters")
    box.fill("a" * (limit + 5))
    assert len(box.input_value()) == limit + 5
    expect(page.locator("#message-count")).to_have_text(
        f"{limit + 5:,} of {limit:,} characters: 5 over the service's limit"
    )
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#check-status")).to_contain_text(f"Could not check it: text: {limit + 5} characters")
    expect(page.locator("#check-status")).to_contain_text(f"the limit is {limit}")


def test_the_model_parameters_read_as_names_and_an_absent_class_as_a_dash(session: Session) -> None:
    page = session.page
    session.goto("#model")
    parameters = page.locator("#model-parameters li")
    assert parameters.count() >= 1
    text = " ".join(parameters.all_inner_texts())
    assert "__" not in text and "\\\\" not in text and "{" not in text
    assert "classifier C" in text


def test_a_class_absent_from_a_set_reads_as_a_dash(live_settings: Settings, tmp_path: Path) -> None:
    """A set with no message of a class (support 0) has nothing to measure for it: "–", not 0.00."""
    shutil.copytree(live_settings.root, tmp_path, dirs_exist_ok=True)
    settings = live_settings.model_copy(update={"root": tmp_path, "feedback_db": tmp_path / "feedback.sqlite3"})
    version = (
        (settings.models_dir / "current").read_text().strip() if (settings.models_dir / "current").is_file() else "v001"
    )
    manifest_path = settings.models_dir / version / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    first = next(iter(manifest["metrics"]))
    manifest["metrics"][first]["per_class"]["pestering"].update(precision=0.0, recall=0.0, f1=0.0, support=0)
    manifest_path.write_text(json.dumps(manifest))
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        page = client.get("/")
    assert page.status_code == 200
    row = re.search(rf'<tr data-set="{first}">(.*?)</tr>', page.text, re.DOTALL)
    assert row is not None, page.text[:500]
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.DOTALL)
    assert 'title="no pestering message in this set">–</span>' in cells[-2]
