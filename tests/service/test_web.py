"""The review page's routes over HTTP (the browser tests in tests/web drive the page itself)."""

import logging
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from boundaryline.settings import Settings
from service.app import create_app
from service.routes.web import source_counts


def test_the_page_is_served_with_its_assets_and_a_strict_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert 'id="message-text"' in page.text and "v001" in page.text
    assert "http://" not in page.text.replace("http://127.0.0.1", "") and "https://" not in page.text
    for asset, kind in (("/static/review.js", "javascript"), ("/static/review.css", "text/css")):
        response = client.get(asset)
        assert response.status_code == 200 and kind in response.headers["content-type"]


def test_the_model_view_lists_every_set_and_the_plots_of_the_version_in_service(client: TestClient) -> None:
    page = client.get("/").text
    manifest = client.get("/v1/model").json()
    for name in manifest["metrics"]:
        assert f'data-set="{name}"' in page
        assert f"/web/plots/v001/{name}.png" in page
    plot = client.get("/web/plots/v001/test.png")
    assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
    assert plot.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "path",
    [
        "/web/plots/v002/test.png",  # not the version in service
        "/web/plots/v001/manifest.json",  # not a plot
        "/web/plots/v001/..%2Fmanifest.json",
        "/web/plots/v001/%2E%2E%2Fmodel.joblib",
        "/web/plots/..%2Fv001/test.png",
    ],
)
def test_the_plot_route_serves_nothing_else(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_highlight_lays_the_explanation_on_the_words(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    text = "Drinks tonight, just the two of us? secret-words-xyz"
    with caplog.at_level(logging.DEBUG):
        response = client.post("/web/highlight", json={"text": text, "label": "inappropriate_proposition"})
    assert response.status_code == 200
    body = response.json()
    assert body["label"] == "inappropriate_proposition" and body["model_version"] == "v001"
    assert "".join(s["text"] for s in body["segments"]) == text
    words = sum(s["weight"] or 0.0 for s in body["segments"]) + body["unplaced"]
    assert body["intercept"] + words == pytest.approx(body["decision"])
    assert "secret-words-xyz" not in caplog.text and "Drinks" not in caplog.text


@pytest.mark.parametrize(
    ("body", "status"),
    [({"text": "  "}, 422), ({"text": "hi", "label": "rude"}, 422), ({"text": "x" * 501}, 413), ({}, 422)],
)
def test_highlight_validates_its_input(client: TestClient, body: dict[str, str], status: int) -> None:
    assert client.post("/web/highlight", json=body).status_code == status


def test_the_page_says_when_no_model_is_in_service(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(root=tmp_path))) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "No model in service" in page.text and "make train" in page.text
        assert client.post("/web/highlight", json={"text": "hi"}).status_code == 503


def test_sources_are_grouped_by_kind_and_external_is_always_listed() -> None:
    corpus = {"counts": {"source": {"authored:a": 5, "generated:g": 7, "external:enron": 2, "external:lists": 1}}}
    kinds = {k["kind"]: k for k in source_counts(corpus)}
    assert kinds["external"]["rows"] == 3 and kinds["external"]["sources"] == [("enron", 2), ("lists", 1)]
    assert [k["kind"] for k in source_counts(corpus)] == ["generated", "authored", "external"]
    assert source_counts({})[0] == {"kind": "external", "rows": 0, "sources": []}


def test_openapi_leaves_the_page_routes_out(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/score" in paths and not any(p == "/" or p.startswith("/web") for p in paths)


def test_every_form_control_has_a_label(client: TestClient) -> None:
    page = BeautifulSoup(client.get("/").text, "html.parser")
    labelled = {label["for"] for label in page.find_all("label") if label.get("for")}
    controls = page.find_all(["input", "select", "textarea"])
    assert controls
    for control in controls:
        assert control.get("id") in labelled or control.get("aria-label"), f"unlabelled: {control}"
    assert not page.find_all(style=True), "inline styles are refused by the page's policy"
