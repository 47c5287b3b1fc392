"""The service's guards of issue 23, each pinned by a test: the body limit counted while it is read, the rate
limit on corrections, the allowed hosts, the headers every answer carries, and one metrics folder per service."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from boundaryline import cli
from boundaryline.files import fresh_folder
from boundaryline.settings import Settings, get_settings
from service.app import create_app
from tests.service.conftest import API_KEY
from tests.service.test_metrics_workers import WORKER, _sum

AUTH = {"X-API-Key": API_KEY}
MARKER = "ZANZIBAR-7731"  # stands for private message text: never echoed back
LIMIT = 100_000
LIMIT_DETAIL = "request body over 100,000 bytes (BOUNDARYLINE_MAX_REQUEST_BYTES)"
DEFAULT_HOSTS = Settings.model_fields["allowed_hosts"].get_default(call_default_factory=True)


@pytest.fixture
def limited(service_settings: Settings) -> Iterator[TestClient]:
    """A service with a 100 kB body limit and three corrections a minute per caller."""
    settings = service_settings.model_copy(update={"max_request_bytes": LIMIT, "feedback_rate_limit": "3/minute"})
    with TestClient(create_app(settings)) as client:
        yield client


def oversize_body() -> bytes:
    """A score request with a history far over the limit (a copy of the 280 MB request, smaller)."""
    history = [{"direction": "incoming", "text": f"{MARKER} " + "a" * 10_000}] * 30
    return json.dumps({"text": f"{MARKER} hello", "history": history}).encode()


# ---------------------------------------------------------------- 1. the request body limit


@pytest.mark.parametrize("length", ["declared", "chunked"])
def test_a_body_over_the_limit_is_a_413_naming_the_limit(limited: TestClient, length: str) -> None:
    body = oversize_body()
    assert len(body) > LIMIT
    # bytes: httpx sends Content-Length; a generator: Transfer-Encoding chunked, no Content-Length
    content: Any = body if length == "declared" else (body[i : i + 8192] for i in range(0, len(body), 8192))
    response = limited.post("/v1/score", content=content, headers={"content-type": "application/json"})
    sent = response.request.headers
    assert ("content-length" in sent) == (length == "declared"), sent
    assert response.status_code == 413, response.text
    assert response.json() == {"detail": LIMIT_DETAIL}
    assert MARKER not in response.text
    small = limited.post("/v1/score", json={"text": f"{MARKER} hello", "history": [{"direction": "incoming"}]})
    assert small.status_code == 200, small.text


def call_asgi(app: Any, headers: list[tuple[bytes, bytes]], total: int, chunk: int = 65_536) -> tuple[int, Any, int]:
    """POST /v1/score straight into the ASGI app, the body from a receive() that would yield ``total`` bytes;
    returns (status, the JSON answer, the bytes the app pulled)."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= total:
            return {"type": "http.disconnect"}
        pulled += chunk
        return {"type": "http.request", "body": b"a" * chunk, "more_body": pulled < total}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/score",
        "raw_path": b"/v1/score",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


def test_an_oversize_body_is_never_read_whole(service_settings: Settings) -> None:
    """A chunked body of 100 times the limit: the app stops pulling at the chunk that passes the limit."""
    app = create_app(service_settings.model_copy(update={"max_request_bytes": LIMIT}))
    status, answer, pulled = call_asgi(app, [], total=100 * LIMIT)
    assert (status, answer) == (413, {"detail": LIMIT_DETAIL})
    assert pulled <= LIMIT + 65_536


def test_a_declared_oversize_body_is_refused_before_a_byte_is_read(service_settings: Settings) -> None:
    app = create_app(service_settings.model_copy(update={"max_request_bytes": LIMIT}))
    status, answer, pulled = call_asgi(app, [(b"content-length", str(100 * LIMIT).encode())], total=100 * LIMIT)
    assert (status, answer, pulled) == (413, {"detail": LIMIT_DETAIL}, 0)


def test_the_default_limit_fits_the_largest_batch(service_settings: Settings) -> None:
    """A full batch of the longest texts, every character two UTF-8 bytes, is under the default limit."""
    defaults = Settings.model_construct()
    text = "é" * defaults.max_text_chars
    batch = {"messages": [{"text": text, "id": "x" * 200, "explain": True} for _ in range(defaults.max_batch_messages)]}
    assert len(json.dumps(batch, ensure_ascii=False).encode()) < defaults.max_request_bytes


# ---------------------------------------------------------------- 2. the rate limit on corrections


def post_correction(client: TestClient, n: int, headers: dict[str, str] | None = None) -> Any:
    body = {"text": f"note {n}", "label": "professional", "id": f"fb-{n}"}
    return client.post("/v1/feedback", json=body, headers=headers)


def test_corrections_over_the_limit_get_a_429_with_retry_after(limited: TestClient) -> None:
    assert [post_correction(limited, n, AUTH).status_code for n in range(3)] == [201, 201, 201]
    over = post_correction(limited, 3, AUTH)
    assert over.status_code == 429, over.text
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert "3/minute" in over.json()["detail"] and "BOUNDARYLINE_FEEDBACK_RATE_LIMIT" in over.json()["detail"]
    # a review is a correction too; the list is not limited
    review = limited.post("/v1/feedback/fb-0/review", json={"decision": "accepted"}, headers=AUTH)
    assert review.status_code == 429 and "retry-after" in review.headers
    assert limited.get("/v1/feedback", headers=AUTH).status_code == 200
    # another caller (no key: its address) has its own count, and gets its 401
    assert post_correction(limited, 4).status_code == 401


def test_wrong_keys_are_limited_without_shutting_out_the_right_one(limited: TestClient) -> None:
    wrong = {"X-API-Key": "not-the-key-0123456789"}
    assert [post_correction(limited, n, wrong).status_code for n in range(4)] == [401, 401, 401, 429]
    assert post_correction(limited, 9, AUTH).status_code == 201


def test_the_rate_limit_keeps_a_hash_of_the_key_never_the_key(limited: TestClient) -> None:
    post_correction(limited, 0, AUTH)
    storage = limited.app.state.service.feedback_limit.limiter.storage  # type: ignore[attr-defined]
    kept = repr(vars(storage))
    assert API_KEY not in kept and hashlib.sha256(API_KEY.encode()).hexdigest() in kept


@pytest.mark.parametrize("limit", ["lots", "0/minute", "60/minute;10/second", ""])
def test_a_bad_rate_limit_stops_the_service_with_one_line(
    service_settings: Settings, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        create_app(service_settings.model_copy(update={"feedback_rate_limit": limit}))
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"BOUNDARYLINE_FEEDBACK_RATE_LIMIT={limit!r}" in err and "60/minute" in err


# ---------------------------------------------------------------- 3. the allowed hosts


def test_the_default_hosts_are_the_localhost_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BOUNDARYLINE_ALLOWED_HOSTS")
    assert Settings(root=tmp_path).allowed_hosts == ["localhost", "127.0.0.1", "::1", "[::1]"]


@pytest.mark.parametrize(
    ("host", "status"),
    [("evil.example", 400), ("testserver", 400), ("localhost", 200), ("127.0.0.1:8000", 200), ("[::1]:8000", 200)],
)
def test_only_the_allowed_hosts_are_answered(service_settings: Settings, host: str, status: int) -> None:
    settings = service_settings.model_copy(update={"allowed_hosts": DEFAULT_HOSTS})
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        response = client.get("/healthz", headers={"host": host})
        assert response.status_code == status, response.text
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("host", ["evil.*.example", "*example.org", ""])
def test_a_bad_host_pattern_stops_the_service_with_one_line(
    service_settings: Settings, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    with pytest.raises(SystemExit):
        create_app(service_settings.model_copy(update={"allowed_hosts": ["localhost", host]}))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "BOUNDARYLINE_ALLOWED_HOSTS" in err


# ---------------------------------------------------------------- 4. the headers every answer carries


def test_every_answer_says_nosniff_and_no_framing(limited: TestClient) -> None:
    answers = {
        "json": limited.get("/healthz"),
        "page": limited.get("/"),
        "docs": limited.get("/docs"),
        "static": limited.get("/static/review.css"),
        "docs asset": limited.get("/docs-assets/swagger-ui.css"),
        "metrics": limited.get("/metrics"),
        "404": limited.get("/nowhere"),
        "413": limited.post("/v1/score", content=oversize_body()),
        "422": limited.post("/v1/score", json={}),
        "host 400": limited.get("/healthz", headers={"host": "evil.example"}),
    }
    for what, response in answers.items():
        assert response.headers.get("x-content-type-options") == "nosniff", what
        assert response.headers.get("x-frame-options") == "DENY", what
        assert len(response.headers.get_list("x-content-type-options")) == 1, what


def test_the_docs_page_allows_exactly_what_it_loads(client: TestClient) -> None:
    page = client.get("/docs")
    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in str(policy) and "http" not in str(policy)
    # its files come from this origin...
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs-assets/") for s in sources), sources
    # ...and its one inline script is allowed by its hash, nothing else inline
    (inline,) = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert policy["script-src"] == f"'self' 'sha256-{digest}'"
    assert policy["style-src"] == "'self'" and policy["connect-src"] == "'self'"


def test_the_review_page_cannot_be_framed(client: TestClient) -> None:
    page = client.get("/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


# ---------------------------------------------------------------- 5. one metrics folder per service


def test_each_service_cleans_only_its_own_metrics_folder(service_settings: Settings) -> None:
    first = fresh_folder(service_settings.service_metrics_dir(8001))
    (first / "counter_1234.db").write_bytes(b"counts of the service on 8001")
    second = fresh_folder(service_settings.service_metrics_dir(8002))
    assert first != second == service_settings.service_metrics_dir(8002)
    assert (first / "counter_1234.db").exists(), "starting the second service removed the first one's counts"
    assert fresh_folder(service_settings.service_metrics_dir(8001)) == first and not any(first.iterdir())


def test_two_services_count_apart(tiny_trained: Settings, tmp_path: Path) -> None:
    """The service on 8001 scores once, then one on 8002 starts and scores; a worker of 8001 reports its own
    two predictions, the other service's neither wiped nor added."""
    settings = tiny_trained.model_copy(update={"root": tmp_path})  # reports/metrics/ under a private root
    env = {**os.environ, "BOUNDARYLINE_ROOT": str(tiny_trained.root)}
    root = Path(__file__).parents[2]

    def worker(folder: Path, *args: str) -> str:
        run = [sys.executable, "-c", WORKER, *args]
        environment = env | {"PROMETHEUS_MULTIPROC_DIR": str(folder)}
        done = subprocess.run(run, env=environment, cwd=root, check=True, capture_output=True, text=True, timeout=120)
        return done.stdout

    first = fresh_folder(settings.service_metrics_dir(8001))
    worker(first)
    second = fresh_folder(settings.service_metrics_dir(8002))
    worker(second)
    report = worker(first, "report")
    assert _sum(report, "boundaryline_predictions_total") == 2
    assert _sum(report, "http_requests_total", handler="/v1/score", method="POST") == 2


def test_serving_on_two_ports_keeps_two_metrics_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`boundaryline serve --workers 2` on 8001, then on 8002 (uvicorn itself left out): the second start
    leaves the first service's counts where its workers keep them."""
    monkeypatch.setenv("BOUNDARYLINE_ROOT", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # serve sets it: put back as it was afterwards
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: None)
    get_settings.cache_clear()
    folders = []
    try:
        for port in (8001, 8002):
            assert cli.main(["serve", "--port", str(port), "--workers", "2"]) == 0
            folders.append(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
            (folders[-1] / f"counter_{port}.db").write_bytes(b"counts")
    finally:
        get_settings.cache_clear()
    assert folders[0] != folders[1]
    assert (folders[0] / "counter_8001.db").exists(), "starting the second service removed the first one's counts"
