from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from boundaryline.settings import Settings, get_settings
from service.app import create_app

API_KEY = "test-key-123"


@pytest.fixture
def service_settings(tiny_project: Settings) -> Settings:
    return tiny_project.model_copy(
        update={"api_key": SecretStr(API_KEY), "max_text_chars": 500, "max_batch_messages": 5}
    )


@pytest.fixture
def client(service_settings: Settings) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: service_settings
    with TestClient(app) as test_client:  # a context manager, so the lifespan runs
        yield test_client
