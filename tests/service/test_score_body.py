"""The score route builds its JSON body directly (no pydantic models on the way out): each body must be
exactly what the documented response models give, ``None`` fields left out; short calls are scored on the
event loop, long ones on the scoring thread, with the same answers."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.schemas import BatchScoreResponse, ScoreResponse

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
HISTORY = [{"direction": "incoming", "time": (T0 + timedelta(days=i)).isoformat()} for i in range(3)]
UNDATED_HISTORY = [{"direction": "incoming"}, {"direction": "outgoing", "text": "Not now, thanks"}]
REQUESTS: list[dict[str, Any]] = [
    {"text": "Coffee next week?"},
    {"text": "Dinner, just the two of us? 😍", "explain": True, "id": "m1"},
    {"text": "Following up again: can we talk?", "time": (T0 + timedelta(days=4)).isoformat(), "history": HISTORY},
    {"text": "Any news on my proposal?", "history": UNDATED_HISTORY, "thresholds": {"pestering": 0.2}},
    {"messages": [{"text": "Coffee next week?", "explain": True}, {"text": "Hi", "id": "b", "history": HISTORY}]},
]


@pytest.mark.parametrize("body", REQUESTS)
def test_the_body_is_the_response_model_without_none(client: TestClient, body: dict[str, Any]) -> None:
    answer = client.post("/v1/score", json=body)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    found = answer.json()
    model = BatchScoreResponse if "messages" in body else ScoreResponse
    assert found == model.model_validate(found).model_dump(mode="json", exclude_none=True)


def test_inline_and_threaded_scoring_answer_alike(client: TestClient, service_settings: Any) -> None:
    threaded = service_settings.model_copy(update={"inline_score_chars": 0})
    with TestClient(create_app(threaded)) as other:
        for body in REQUESTS:
            assert client.post("/v1/score", json=body).json() == other.post("/v1/score", json=body).json()
