"""The sender's history through the API (issue 15): an optional ``history`` weighs the pattern beside the text."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def test_the_api_takes_a_history(client: TestClient) -> None:
    text = "Following up again: can we talk this week?"
    alone = client.post("/v1/score", json={"text": text}).json()
    assert alone["label"] == alone["text_label"] and "pattern" not in alone
    history = [
        {"direction": "incoming", "time": (T0 + i * DAY).isoformat()} for i in range(3)
    ]  # three earlier messages, no reply
    body = {"text": text, "time": (T0 + 4 * DAY).isoformat(), "history": history}
    answer = client.post("/v1/score", json=body).json()
    assert answer["label"] == "pestering" and answer["fired"] in ("pattern", "both")
    assert (
        answer["pattern"]["unanswered"] == 4
        and answer["pattern"]["reason"] == "written 4 times without a reply in 4 days"
    )
    replied = body | {
        "history": [*history, {"direction": "outgoing", "time": (T0 + 3 * DAY).isoformat(), "text": "Sure!"}]
    }
    assert client.post("/v1/score", json=replied).json()["pattern"]["unanswered"] == 1
