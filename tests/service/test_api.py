import logging
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from boundaryline import registry
from boundaryline.feedback import FeedbackStore
from boundaryline.settings import Settings
from boundaryline.train import train_and_save
from service.app import create_app
from tests.conftest import TINY_GRID
from tests.service.conftest import API_KEY

AUTH = {"X-API-Key": API_KEY}
LABELS = {"professional", "pestering", "inappropriate_proposition"}


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "model_version": "v001"}


def test_not_ready_without_a_model(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(root=tmp_path))) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        response = client.post("/v1/score", json={"text": "hello"})
        assert response.status_code == 503
        assert "make train" in response.json()["detail"]


def test_score_one_message(client: TestClient) -> None:
    response = client.post(
        "/v1/score", json={"text": "Drinks tonight, just the two of us?", "id": "m1", "explain": True}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "m1"
    assert body["model_version"] == "v001"
    assert set(body["scores"]) == LABELS
    assert sum(body["scores"].values()) == pytest.approx(1.0)
    assert body["label"] == max(body["scores"], key=body["scores"].get)
    assert body["flagged"] == (body["label"] != "professional")
    assert body["explanation"] and {"term", "weight"} <= set(body["explanation"][0])


def test_score_a_batch_keeps_order_and_ids(client: TestClient) -> None:
    messages = [{"text": f"Thanks for the call on day {i}", "id": f"b{i}", "explain": i % 2 == 0} for i in range(5)]
    response = client.post("/v1/score", json={"messages": messages})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [f"b{i}" for i in range(5)]
    assert [("explanation" in r) for r in results] == [True, False, True, False, True]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"text": "   "}, 422, "text"),
        ({"messages": [{"text": "ok"}, {"text": ""}]}, 422, "messages"),
        ({"text": 12}, 422, "text"),
        ({"messages": "nope"}, 422, "messages"),
        ({}, 422, "either `text`"),
        ({"text": "a", "messages": [{"text": "b"}]}, 422, "either `text`"),
        ({"text": "x" * 501}, 413, "text: 501 characters, the limit is 500"),
        ({"messages": [{"text": "ok"}, {"text": "y" * 501}]}, 413, "messages[1].text"),
        ({"messages": [{"text": "ok"}] * 6}, 413, "the limit is 5 per call"),
        ({"text": "hi", "colour": "red"}, 422, "colour"),
    ],
)
def test_bad_requests_get_clear_errors(client: TestClient, body: dict[str, object], status: int, needle: str) -> None:
    response = client.post("/v1/score", json=body)
    assert response.status_code == status
    assert needle in response.text
    assert "Traceback" not in response.text


def test_model_manifest(client: TestClient) -> None:
    body = client.get("/v1/model").json()
    assert body["version"] == "v001"
    assert body["labels"] == ["professional", "pestering", "inappropriate_proposition"]
    assert {"test", "challenge"} <= set(body["metrics"])
    assert "macro_f1" in body["metrics"]["test"]


def test_feedback_requires_the_api_key(client: TestClient) -> None:
    example = {"text": "Coffee next week?", "label": "professional"}
    assert client.post("/v1/feedback", json=example).status_code == 401
    assert client.post("/v1/feedback", json=example, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.post("/v1/feedback", json=example, headers=AUTH).status_code == 201


def test_feedback_is_disabled_without_a_key(tiny_project: Settings) -> None:
    with TestClient(create_app(tiny_project)) as client:
        response = client.post("/v1/feedback", json={"text": "hi", "label": "professional"}, headers=AUTH)
    assert response.status_code == 503
    assert "no API key" in response.json()["detail"]


def test_feedback_is_idempotent_on_its_id(client: TestClient, service_settings: Settings) -> None:
    example = {
        "text": "You looked lovely at the gala",
        "label": "inappropriate_proposition",
        "id": "fb-1",
        "note": "missed",
    }
    first = client.post("/v1/feedback", json=example, headers=AUTH)
    again = client.post("/v1/feedback", json=example, headers=AUTH)
    assert (first.status_code, first.json()["created"]) == (201, True)
    assert (again.status_code, again.json()["created"]) == (200, False)
    clash = client.post("/v1/feedback", json=example | {"label": "professional"}, headers=AUTH)
    assert clash.status_code == 409
    assert FeedbackStore(service_settings.feedback_path).count() == 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"text": "hi", "label": "spam"}, "label"),
        ({"text": " ", "label": "professional"}, "text"),
        ({"label": "pestering"}, "text"),
    ],
)
def test_feedback_validation(client: TestClient, body: dict[str, str], needle: str) -> None:
    response = client.post("/v1/feedback", json=body, headers=AUTH)
    assert response.status_code == 422
    assert needle in str(response.json()["detail"][0]["loc"])


def test_feedback_survives_a_restart(service_settings: Settings) -> None:
    for round_ in range(2):
        with TestClient(create_app(service_settings)) as client:
            response = client.post(
                "/v1/feedback", json={"text": f"note {round_}", "label": "professional"}, headers=AUTH
            )
            assert response.status_code == 201
    items = FeedbackStore(service_settings.feedback_path).items()
    assert [i.text for i in items] == ["note 0", "note 1"]


def test_concurrent_feedback_keeps_every_row(client: TestClient, service_settings: Settings) -> None:
    def send(worker: int) -> None:
        for i in range(15):
            body = {"text": f"worker {worker} example {i}", "label": "pestering", "id": f"w{worker}-{i}"}
            assert client.post("/v1/feedback", json=body, headers=AUTH).status_code == 201

    threads = [threading.Thread(target=send, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert FeedbackStore(service_settings.feedback_path).count() == 90


def test_message_text_never_reaches_the_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Zanzibar-secret-phrase dinner"
    with caplog.at_level(logging.DEBUG):
        client.post("/v1/score", json={"text": secret, "id": "p1"})
        client.post("/v1/feedback", json={"text": secret, "label": "professional"}, headers=AUTH)
    assert "p1" in caplog.text  # the log line is there...
    assert "Zanzibar" not in caplog.text  # ...without the text


def test_metrics_count_requests_and_labels(client: TestClient) -> None:
    client.post("/v1/score", json={"text": "Thanks for the intro!"})
    metrics = client.get("/metrics").text
    assert 'handler="/v1/score"' in metrics
    assert "boundaryline_predictions_total{" in metrics


def test_a_promoted_model_is_picked_up_without_restart(client: TestClient, service_settings: Settings) -> None:
    version = train_and_save(service_settings, grid=TINY_GRID, baselines=False)
    registry.promote(service_settings.models_dir, version, reason="test")
    assert client.post("/v1/model/reload").status_code == 401
    response = client.post("/v1/model/reload", headers=AUTH)
    assert response.json() == {"previous": "v001", "current": version}
    assert client.post("/v1/score", json={"text": "hi"}).json()["model_version"] == version


def test_the_pointer_is_watched(client: TestClient, service_settings: Settings) -> None:
    model = client.app.state.service.model  # type: ignore[attr-defined]
    model.check_seconds = 0.0
    version = train_and_save(service_settings, grid=TINY_GRID, baselines=False)
    registry.promote(service_settings.models_dir, version, reason="test")
    assert client.post("/v1/score", json={"text": "hi"}).json()["model_version"] == version


def test_openapi_documents_the_v1_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/score", "/v1/model", "/v1/feedback", "/healthz", "/readyz"} <= set(paths)


def test_per_request_thresholds_redecide_and_are_reported(client: TestClient) -> None:
    text = "Drinks tonight, just the two of us?"
    default = client.post("/v1/score", json={"text": text}).json()
    assert default["thresholds"] == {}  # the tiny model has none: arg-max
    concern = max(("pestering", "inappropriate_proposition"), key=default["scores"].get)
    # A threshold above the probability turns the concern off; one below it turns it on.
    strict = client.post("/v1/score", json={"text": text, "thresholds": {concern: 1.0}}).json()
    lenient = client.post("/v1/score", json={"text": text, "thresholds": {concern: 0.01}}).json()
    assert strict["thresholds"] == {concern: 1.0}
    assert strict["scores"] == pytest.approx(default["scores"])
    if default["scores"][concern] < 1.0:
        assert strict["label"] != concern
    assert lenient["label"] == concern and lenient["flagged"]
    batch = client.post("/v1/score", json={"messages": [{"text": text}], "thresholds": {concern: 0.01}}).json()
    assert batch["thresholds"] == {concern: 0.01}
    assert batch["results"][0]["label"] == concern


def test_the_service_thresholds_are_reported_when_the_request_has_none(service_settings: Settings) -> None:
    settings = service_settings.model_copy(update={"thresholds": {"pestering": 0.7}})
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/score", json={"text": "hello"}).json()["thresholds"] == {"pestering": 0.7}
        assert client.get("/v1/model").json()["thresholds"] == {"pestering": 0.7}  # in force, not the manifest's
        assert client.post("/v1/score", json={"text": "hello", "thresholds": {}}).json()["thresholds"] == {}


@pytest.mark.parametrize(
    ("thresholds", "needle"),
    [
        ({"bogus": 0.5}, "unknown label 'bogus'"),
        ({"pestering": 0}, "must be in (0, 1]"),
        ({"pestering": 1.5}, "must be in (0, 1]"),
        ({"pestering": "high"}, "valid number"),
        ([0.5], "thresholds"),
    ],
)
def test_per_request_thresholds_are_validated_like_the_setting(
    client: TestClient, thresholds: object, needle: str
) -> None:
    response = client.post("/v1/score", json={"text": "hello", "thresholds": thresholds})
    assert response.status_code == 422
    assert needle in response.text


def test_the_docs_page_needs_no_network(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
