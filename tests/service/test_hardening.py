"""What an adversarial but fair tester broke in the service (issue 10), each pinned by a test: bad bodies,
message text in logs, broken models, the API key, .env, and the contract against the OpenAPI document."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr, ValidationError

from boundaryline import registry
from boundaryline.settings import PROJECT_ROOT, Settings
from boundaryline.table import TABLE_FILE
from service.app import create_app
from tests.service.conftest import API_KEY

AUTH = {"X-API-Key": API_KEY}
MARKER = "ZANZIBAR-7731"  # stands for private message text: it must never reach a log line


@pytest.mark.parametrize(
    "body",
    [
        '{"messages":{"text":"ZANZIBAR-7731","x":NaN}}',
        '{"text":"hi","id":"\\ud800"}',
        '{"text":"ZANZIBAR-7731 \\udfff"}',
        '{"text": Infinity}',
        '{"text": -Infinity, "id": "ZANZIBAR-7731"}',
        '{"text":"ZANZIBAR-7731","messages":[{"text":"ZANZIBAR-7731"}]}',
        '{"messages":[{"text":"ZANZIBAR-7731","colour":NaN}]}',
        '{"text": "ZANZIBAR-7731", "explain": "yes please"}',
        "ZANZIBAR-7731 is not JSON",
        '{"text":',
    ],
)
def test_bad_bodies_get_a_clear_422_and_never_echo_or_log_the_text(
    client: TestClient, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], body: str
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "body"
    assert MARKER not in response.text
    assert MARKER not in caplog.text + "".join(capfd.readouterr())


def test_an_internal_error_is_a_500_logged_without_the_text(
    client: TestClient, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    scorer = client.app.state.service.model.get()  # type: ignore[attr-defined]

    def explode(texts: list[str], **kwargs: object) -> None:
        raise ValueError(f"cannot score {texts}")  # an exception whose message quotes the request

    scorer.score = explode
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/score", json={"text": f"{MARKER} dinner?"})
        feedback = client.post("/v1/feedback", json={"text": f"{MARKER}", "label": "spam"}, headers=AUTH)
    assert response.status_code == 500 and response.json() == {"detail": "internal error"}
    assert feedback.status_code == 422
    assert "ValueError" in caplog.text  # the log says what failed and where...
    assert MARKER not in caplog.text + "".join(capfd.readouterr())  # ...never with the text


def _corrupt(settings: Settings, version: str) -> bytes:
    """The version's scoring table (what the service loads) changed in its last bytes; its good bytes."""
    path = settings.models_dir / version / TABLE_FILE
    good = path.read_bytes()
    path.write_bytes(good[:-10] + b"0123456789")
    return good


def test_a_bad_model_at_start_is_not_ready_and_recovers(service_settings: Settings) -> None:
    good = _corrupt(service_settings, "v001")
    with TestClient(create_app(service_settings)) as client:
        assert client.get("/readyz").status_code == 503
        assert "sha256" in client.get("/readyz").json()["problem"]
        assert client.post("/v1/score", json={"text": "hi"}).status_code == 503
        assert client.post("/v1/model/reload", headers=AUTH).status_code == 503
        (service_settings.models_dir / "v001" / TABLE_FILE).write_bytes(good)
        assert client.post("/v1/model/reload", headers=AUTH).json() == {"previous": None, "current": "v001"}
        assert client.get("/readyz").json() == {"status": "ready", "model_version": "v001"}


def test_the_last_good_model_keeps_serving_when_the_pointer_goes_bad(
    client: TestClient, service_settings: Settings
) -> None:
    client.app.state.service.model.check_seconds = 0.0  # type: ignore[attr-defined]
    (service_settings.models_dir / registry.CURRENT_FILE).write_text("v999\n")
    for _ in range(3):
        assert client.post("/v1/score", json={"text": "hi"}).json()["model_version"] == "v001"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["model_version"] == "v001"
    assert "v999" in ready.json()["problem"]
    assert client.post("/v1/model/reload", headers=AUTH).status_code == 409
    (service_settings.models_dir / registry.CURRENT_FILE).write_text("v001\n")
    assert client.get("/readyz").json() == {"status": "ready", "model_version": "v001"}


@pytest.mark.parametrize("manifest", ["{not json", "[1, 2, 3]"])
def test_a_broken_manifest_leaves_the_service_up_and_not_ready(service_settings: Settings, manifest: str) -> None:
    (service_settings.models_dir / "v001" / registry.MANIFEST_FILE).write_text(manifest)
    with TestClient(create_app(service_settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "manifest" in ready.json()["problem"]


@pytest.mark.parametrize("key", ["", "short-key"])
def test_an_empty_or_short_api_key_is_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(api_key=SecretStr(key))


def test_env_is_read_from_the_project_root_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(f"BOUNDARYLINE_MODELS_ROOT={tmp_path / 'evil'}\n")
    monkeypatch.chdir(tmp_path)
    assert Settings().models_dir == PROJECT_ROOT / "models"


def test_the_contract_says_what_the_server_does(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    request = schema["components"]["schemas"]["ScoreRequest"]
    assert [branch["required"] for branch in request["oneOf"]] == [["text"], ["messages"]]
    text = request["properties"]["text"]["anyOf"][0]
    assert (text["minLength"], text["maxLength"], text["pattern"]) == (1, 500, r"\S")  # 500: the test settings
    assert request["properties"]["messages"]["anyOf"][0]["maxItems"] == 5
    responses = schema["paths"]["/v1/feedback"]["post"]["responses"]
    assert {"401", "409", "413", "422", "503"} <= set(responses)


# A bounded schemathesis run (its pytest plugin does not yet work with pytest 9, so its plain API):
# generated requests for every operation, 25 each; every response must be one the document describes.
OPERATIONS = [
    "POST /v1/score",
    "GET /v1/model",
    "POST /v1/feedback",
    "GET /v1/feedback",
    "POST /v1/feedback/{feedback_id}/review",
    "POST /v1/model/reload",
    "GET /healthz",
    "GET /readyz",
]


@pytest.mark.parametrize("label", OPERATIONS)
def test_the_server_keeps_to_its_openapi_document(service_settings: Settings, label: str) -> None:
    app = create_app(service_settings)
    with TestClient(app):  # the lifespan loads the model
        operation = schemathesis.openapi.from_asgi("/openapi.json", app).find_operation_by_label(label)
        assert operation is not None, label

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=AUTH)

        check()
