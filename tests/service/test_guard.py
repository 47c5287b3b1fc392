"""The one-pass ``Guard`` (issue 24) does what the five middlewares before it did: the request metrics are
exactly the ones prometheus-fastapi-instrumentator's middleware records, on the same requests; every answer,
errors included, carries the headers; the hosts and route names it remembers stay bounded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator

from boundaryline.settings import Settings
from service import guards, metrics
from service.app import create_app
from service.guards import Guard
from service.schemas import MessageIn, ScoreRequest
from tests.service.conftest import API_KEY

LIMIT = 10_000
OVERSIZE = json.dumps({"text": "a" * (2 * LIMIT)}).encode()


def requests_of_every_kind(client: TestClient) -> dict[str, Any]:
    """One request of each kind of answer the service gives, by what it should get."""
    return {
        "200 score": client.post("/v1/score", json={"text": "Coffee next week?"}),
        "200 score again": client.post("/v1/score", json={"text": "Dinner, just us?", "explain": True}),
        "200 batch": client.post("/v1/score", json={"messages": [{"text": "Hi"}, {"text": "Drinks?"}]}),
        "200 health": client.get("/healthz"),
        "200 ready": client.get("/readyz"),
        "200 page": client.get("/"),
        "200 static": client.get("/static/review.css"),
        "200 docs asset": client.get("/docs-assets/swagger-ui.css"),
        "200 feedback list": client.get("/v1/feedback", headers={"X-API-Key": API_KEY}),
        "200 metrics, not counted": client.get("/metrics"),
        "401": client.get("/v1/feedback"),
        "404": client.get("/nowhere"),
        "404, not counted": client.get("/nowhere/metrics"),
        "404 templated": client.get("/web/plots/v9/confusion.png"),
        "405": client.put("/v1/score", json={"text": "hello"}),
        "413 declared": client.post("/v1/score", content=OVERSIZE, headers={"content-type": "application/json"}),
        "413 chunked": client.post(
            "/v1/score", content=iter([OVERSIZE[:8000], OVERSIZE[8000:]]), headers={"content-type": "application/json"}
        ),
        "422": client.post("/v1/score", json={}),
        "400 host": client.get("/healthz", headers={"host": "evil.example"}),
    }


@pytest.fixture
def guarded(service_settings: Settings) -> Iterator[tuple[TestClient, CollectorRegistry]]:
    """The service, and around it the instrumentator's own middleware (where it was before the guard, outside
    every other) recording into a registry of its own: the reference for the guard's metrics."""
    app = create_app(service_settings.model_copy(update={"max_request_bytes": LIMIT}))
    reference = CollectorRegistry()
    Instrumentator(excluded_handlers=["/metrics"], registry=reference).instrument(app)
    with TestClient(app) as client:
        yield client, reference


def http_series(exposition: str) -> list[str]:
    """The lines of the request metrics, durations without their values (they differ from one clock reading
    to the next); their label sets, buckets included, stay."""
    lines = []
    for line in exposition.splitlines():
        if "http_" not in line or "_created" in line:
            continue
        if line.startswith("http_request_duration") and ("_bucket" in line or "_sum" in line):
            line = line.rsplit(" ", 1)[0]
        lines.append(line)
    return sorted(lines)


def test_the_request_metrics_are_the_instrumentators(guarded: tuple[TestClient, CollectorRegistry]) -> None:
    client, reference = guarded
    answers = requests_of_every_kind(client)
    assert {what: answer.status_code for what, answer in answers.items()} == {what: int(what[:3]) for what in answers}
    ours = http_series(client.get("/metrics").text)
    theirs = http_series(generate_latest(reference).decode())
    assert ours == theirs
    assert any('handler="/v1/score",method="POST",status="2xx"' in line for line in ours)
    assert not any("/metrics" in line for line in ours)  # excluded, as it was


def test_an_internal_error_is_counted_and_carries_the_headers(
    guarded: tuple[TestClient, CollectorRegistry], caplog: pytest.LogCaptureFixture
) -> None:
    client, reference = guarded
    scorer = client.app.state.service.model.get()  # type: ignore[attr-defined]

    def explode(texts: list[str], **kwargs: object) -> None:
        raise ValueError("boom")

    scorer.score = explode
    answer = client.post("/v1/score", json={"text": "hello"})
    assert answer.status_code == 500 and answer.json() == {"detail": "internal error"}
    assert (answer.headers["x-content-type-options"], answer.headers["x-frame-options"]) == ("nosniff", "DENY")
    assert "internal error on POST /v1/score: ValueError" in caplog.text
    ours = http_series(client.get("/metrics").text)
    assert ours == http_series(generate_latest(reference).decode())
    assert any('handler="/v1/score",method="POST",status="5xx"' in line for line in ours)


def test_every_answer_carries_the_headers_once(guarded: tuple[TestClient, CollectorRegistry]) -> None:
    client, _ = guarded
    for what, answer in requests_of_every_kind(client).items():
        assert answer.headers.get_list("x-content-type-options") == ["nosniff"], what
        assert answer.headers.get_list("x-frame-options") == ["DENY"], what


def test_an_answer_that_sets_a_header_keeps_its_own() -> None:
    async def framed(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"X-Frame-Options", b"SAMEORIGIN")]})
        await send({"type": "http.response.body", "body": b""})

    headers, length = guards.every_answer([(b"X-Frame-Options", b"SAMEORIGIN"), (b"content-length", b"12")])
    assert headers == [(b"X-Frame-Options", b"SAMEORIGIN"), (b"content-length", b"12"), guards.EVERY_ANSWER_RAW[0]]
    assert length == 12
    answer = TestClient(Guard(framed, allowed_hosts=["testserver"], limit=LIMIT)).get("/")  # no lifespan
    assert answer.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def find_guard(client: TestClient) -> Guard:
    layer: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, Guard):
        layer = layer.app
    return layer


def test_the_hosts_it_remembers_are_bounded(service_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guards, "MAX_KNOWN_HOSTS", 4)
    with TestClient(create_app(service_settings)) as client:
        for port in range(10):
            assert client.get("/healthz", headers={"host": f"localhost:{port}"}).status_code == 200
            assert client.get("/healthz", headers={"host": f"evil.example:{port}"}).status_code == 400
        known = find_guard(client).known_hosts
        assert 0 < len(known) <= 4 and not any(b"evil" in host for host in known)


def test_the_route_names_it_remembers_are_bounded(service_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "MAX_HANDLERS", 4)
    with TestClient(create_app(service_settings)) as client:
        for n in range(10):
            assert client.get(f"/nowhere/{n}").status_code == 404
        guard = find_guard(client)
        assert guard.metrics is not None and 0 < len(guard.metrics._handlers) <= 4
        assert 'http_requests_total{handler="none",method="GET",status="4xx"} 10.0' in client.get("/metrics").text


def test_one_message_is_the_message_it_was_sent_as() -> None:
    """``ScoreRequest.items()`` builds the one message without validating it again: the same message."""
    fields = {
        "text": "Following up again",
        "id": "m1",
        "explain": True,
        "history": [{"direction": "incoming", "time": "2026-03-02T09:00:00Z", "text": "Hi"}],
        "time": "2026-03-05T09:00:00Z",
        "channel": "email",
    }
    (item,) = ScoreRequest.model_validate(fields).items()
    expected = MessageIn.model_validate(fields)
    assert item.model_dump() == expected.model_dump() and item.model_fields_set == expected.model_fields_set


def test_a_content_length_too_long_for_int_is_refused_as_too_large() -> None:
    """A Content-Length of thousands of digits (int() refuses over 4,300) is a 413, counted, not an error."""
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never reached
        raise AssertionError("the request went through")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    registry = CollectorRegistry()
    guard = Guard(app, allowed_hosts=["*"], limit=LIMIT, metrics=metrics.RequestMetrics(registry))
    headers = [(b"host", b"localhost"), (b"content-length", b"9" * 5000), (b"content-type", b"application/json")]
    scope = {"type": "http", "method": "POST", "path": "/v1/score", "root_path": "", "headers": headers,
             "query_string": b"", "app": SimpleNamespace(routes=[])}  # fmt: skip
    asyncio.run(guard(scope, receive, send))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert 'http_requests_total{handler="none",method="POST",status="4xx"} 1.0' in generate_latest(registry).decode()
