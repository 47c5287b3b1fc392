"""The review step over HTTP (issue 21): the queue of corrections beside the model's opinion, and accept or
reject, both behind the API key."""

import logging

import pytest
from fastapi.testclient import TestClient

from boundaryline.feedback import FeedbackStore
from boundaryline.settings import Settings
from service.app import create_app
from tests.service.conftest import API_KEY

AUTH = {"X-API-Key": API_KEY}
# An obvious proposition: the tiny model is confident of it, so a "professional" correction contradicts it.
PROPOSITION = "You looked stunning at the conference, let me take you out for dinner, just the two of us"
PLAIN = "Thanks for the call, I will send the slides tomorrow."


def correct(client: TestClient, text: str, label: str, id: str) -> None:
    response = client.post("/v1/feedback", json={"text": text, "label": label, "id": id}, headers=AUTH)
    assert response.status_code == 201, response.text


def queue(client: TestClient) -> dict[str, dict[str, object]]:
    response = client.get("/v1/feedback", headers=AUTH)
    assert response.status_code == 200, response.text
    return {c["id"]: c for c in response.json()["corrections"]}


def test_the_queue_and_a_review_need_the_api_key(client: TestClient) -> None:
    correct(client, PLAIN, "professional", "fb-1")
    decision = {"decision": "accepted"}
    assert client.get("/v1/feedback").status_code == 401
    assert client.get("/v1/feedback", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.post("/v1/feedback/fb-1/review", json=decision).status_code == 401
    assert client.post("/v1/feedback/fb-1/review", json=decision, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/v1/feedback", headers=AUTH).status_code == 200


def test_review_is_off_without_a_configured_key(tiny_project: Settings) -> None:
    with TestClient(create_app(tiny_project)) as client:
        assert client.get("/v1/feedback", headers=AUTH).status_code == 503
        assert client.post("/v1/feedback/x/review", json={"decision": "accepted"}, headers=AUTH).status_code == 503


def test_the_queue_shows_the_model_opinion_and_marks_oldest_first(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    correct(client, PROPOSITION, "professional", "fb-against")
    correct(client, PROPOSITION, "inappropriate_proposition", "fb-same-text")
    correct(client, PLAIN, "professional", "fb-plain")
    with caplog.at_level(logging.DEBUG):
        response = client.get("/v1/feedback", headers=AUTH)
    body = response.json()
    assert body["model_version"] == "v001"
    assert [c["id"] for c in body["corrections"]] == ["fb-against", "fb-same-text", "fb-plain"]
    against, same_text, plain = body["corrections"]
    assert (against["label"], against["model_label"], against["review"]) == (
        "professional",
        "inappropriate_proposition",
        "pending",
    )
    assert against["model_probability"] >= 0.8 and against["probability_of_correction"] < 0.2
    assert against["evidence"] and {"term", "weight"} == set(against["evidence"][0])
    assert against["marks"][0].startswith("contradicts a confident model (inappropriate_proposition, 0.")
    assert against["marks"][1] == "another correction of the same text says inappropriate_proposition"
    # Agreeing with the model, it is marked only for the other correction of its text.
    assert same_text["marks"] == ["another correction of the same text says professional"]
    assert plain["marks"] == [] and plain["reviewed"] is None
    assert "stunning" not in caplog.text and "slides" not in caplog.text  # counts and ids only


def test_accept_and_reject_change_the_review_and_what_a_retrain_merges(
    client: TestClient, service_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    correct(client, PROPOSITION, "professional", "fb-against")
    correct(client, PLAIN, "professional", "fb-plain")
    store = FeedbackStore(service_settings.feedback_path)
    assert store.to_merge() == []  # nothing is merged before a person accepts it

    with caplog.at_level(logging.DEBUG):
        accepted = client.post("/v1/feedback/fb-plain/review", json={"decision": "accepted"}, headers=AUTH)
    assert accepted.status_code == 200
    assert accepted.json()["review"] == "accepted" and accepted.json()["reviewed"]
    assert accepted.json()["model_label"] == "professional"  # the updated correction, with the model's opinion
    assert [i.id for i in store.to_merge()] == ["fb-plain"]
    assert "fb-plain" in caplog.text and "slides" not in caplog.text

    rejected = client.post("/v1/feedback/fb-against/review", json={"decision": "rejected"}, headers=AUTH)
    assert rejected.json()["review"] == "rejected"
    assert rejected.json()["marks"][0].startswith("contradicts a confident model")
    assert [i.id for i in store.to_merge()] == ["fb-plain"]
    assert [i.id for i in store.to_merge(auto_accept=True)] == ["fb-plain"]  # rejected: never merged

    # A mind may change; the queue shows the decisions.
    client.post("/v1/feedback/fb-plain/review", json={"decision": "rejected"}, headers=AUTH)
    assert store.to_merge() == []
    assert {id: c["review"] for id, c in queue(client).items()} == {"fb-against": "rejected", "fb-plain": "rejected"}


def test_an_unknown_or_merged_correction_is_a_404_and_a_bad_decision_a_422(
    client: TestClient, service_settings: Settings
) -> None:
    correct(client, PLAIN, "professional", "fb-plain")
    unknown = client.post("/v1/feedback/nope/review", json={"decision": "accepted"}, headers=AUTH)
    assert unknown.status_code == 404 and "no correction 'nope'" in unknown.json()["detail"]

    bad = client.post("/v1/feedback/fb-plain/review", json={"decision": "maybe"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "decision"]
    assert client.post("/v1/feedback/fb-plain/review", json={}, headers=AUTH).status_code == 422

    store = FeedbackStore(service_settings.feedback_path)
    store.mark_merged(["fb-plain"], "v002")
    merged = client.post("/v1/feedback/fb-plain/review", json={"decision": "rejected"}, headers=AUTH)
    assert merged.status_code == 404 and "merged" in merged.json()["detail"]
    assert queue(client) == {}
    assert [i.review for i in store.items()] == [None]  # nothing was changed
