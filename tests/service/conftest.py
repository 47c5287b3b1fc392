import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from boundaryline.settings import Settings
from service.app import create_app

API_KEY = "test-key-0123456789abcdef"
# The host Starlette's TestClient sends ("http://testserver"), beside the default localhost names.
TEST_HOSTS = [*Settings.model_fields["allowed_hosts"].get_default(call_default_factory=True), "testserver"]


@pytest.fixture(autouse=True)
def test_client_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``Settings`` a test here makes (or a process it starts) lets the TestClient's host in; the
    default stays the localhost names only."""
    monkeypatch.setenv("BOUNDARYLINE_ALLOWED_HOSTS", json.dumps(TEST_HOSTS))


@pytest.fixture
def service_settings(tiny_project: Settings) -> Settings:
    return tiny_project.model_copy(
        update={
            "api_key": SecretStr(API_KEY),
            "max_text_chars": 500,
            "max_batch_messages": 5,
            "feedback_rate_limit": "1000/minute",  # test_concurrent_feedback_keeps_every_row posts 90 at once
        }
    )


@pytest.fixture
def client(service_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(service_settings)) as test_client:  # a context manager, so the lifespan runs
        yield test_client
