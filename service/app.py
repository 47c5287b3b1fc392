"""``create_app()``: the FastAPI application. Run with ``uvicorn service.app:create_app --factory``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, GCCollector, PlatformCollector, ProcessCollector
from prometheus_fastapi_instrumentator import Instrumentator

import boundaryline
from boundaryline.registry import ModelError
from boundaryline.settings import Settings, get_settings
from service.routes import api_router, health, web
from service.state import CurrentModel, ServiceState

log = logging.getLogger("boundaryline.service")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load and verify the model once; requests share it. A bad model leaves the app up but not ready."""
    state: ServiceState = app.state.service
    # Scoring is CPU-bound: one dedicated thread keeps it off the event loop (measured faster than
    # FastAPI's threadpool in docs/benchmarks.md) and, under the GIL, more threads would not help.
    state.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="score")
    try:
        state.model = CurrentModel(state.settings)
        log.info("serving model %s", state.model.get().version)
    except (ModelError, FileNotFoundError) as error:
        state.model_error = str(error)
        log.error("no model in service: %s", error)
    yield
    state.executor.shutdown(wait=True)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app, serving with ``settings`` (default: the process settings from the environment)."""
    app = FastAPI(
        title="boundaryline",
        version=boundaryline.__version__,
        summary="Is this networking message professional, pestering, or an inappropriate proposition?",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    app.include_router(api_router)
    app.include_router(web.router)  # the review page at /
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    # Request counts and latency histograms per route at /metrics, plus the predicted-label counter.
    # Each app gets its own registry, so several apps in one process (tests) never share counters.
    registry = CollectorRegistry()
    for collector in (GCCollector, PlatformCollector, ProcessCollector):
        collector(registry=registry)
    predictions = Counter(
        "boundaryline_predictions", "Messages scored, by predicted label", ["label", "flagged"], registry=registry
    )
    app.state.service = ServiceState(settings=settings or get_settings(), predictions=predictions)
    Instrumentator(excluded_handlers=["/metrics"], registry=registry).instrument(app).expose(
        app, include_in_schema=False
    )
    return app
