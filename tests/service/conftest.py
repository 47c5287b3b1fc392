from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from boundaryline.settings import Settings
from service.app import create_app

API_KEY = "test-key-0123456789abcdef"


@pytest.fixture
def service_settings(tiny_project: Settings) -> Settings:
    return tiny_project.model_copy(
        update={"api_key": SecretStr(API_KEY), "max_text_chars": 500, "max_batch_messages": 5}
    )


@pytest.fixture
def client(service_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(service_settings)) as test_client:  # a context manager, so the lifespan runs
        yield test_client
