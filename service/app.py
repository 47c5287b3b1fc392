"""``create_app()``: the FastAPI application. Run with ``uvicorn service.app:create_app --factory``."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, Counter, GCCollector, PlatformCollector, ProcessCollector
from prometheus_fastapi_instrumentator import Instrumentator

import boundaryline
from boundaryline.settings import Settings, SettingsProblem, get_settings
from service.guards import Guard, check_allowed_hosts, docs_policy
from service.metrics import RequestMetrics
from service.ratelimit import RateLimit
from service.routes import API_PREFIX, API_ROUTERS, health, web
from service.state import CurrentModel, ServiceState

log = logging.getLogger("boundaryline.service")
# Swagger UI 5 (it reads the OpenAPI 3.1 document FastAPI writes; 4.x cannot), as fastapi-offline ships it.
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load and verify the model once; requests share it. No loadable model leaves the app up but not ready."""
    state: ServiceState = app.state.service
    # Scoring is CPU-bound: one dedicated thread keeps it off the event loop (measured faster than
    # FastAPI's threadpool in docs/benchmarks.md) and, under the GIL, more threads would not help.
    state.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="score")
    state.model = CurrentModel(state.settings)
    scorer = state.model.get()
    if scorer is not None:
        log.info("serving model %s", scorer.version)
    yield
    state.executor.shutdown(wait=True)


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    """422 naming every bad field and why, without echoing what was sent (it may be a private message, or a
    value JSON cannot even encode, such as NaN)."""
    assert isinstance(error, RequestValidationError)
    detail = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in error.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def document_limits(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI document states the limits in force (they are settings, so not in the static schemas):
    the longest text and the most messages a call may carry, which the server answers with a 413."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = build()["components"]["schemas"]
            texts = [
                schemas["MessageIn"]["properties"]["text"],
                schemas["FeedbackIn"]["properties"]["text"],
                schemas["ScoreRequest"]["properties"]["text"]["anyOf"][0],
            ]
            for text in texts:
                text["maxLength"] = settings.max_text_chars
            schemas["ScoreRequest"]["properties"]["messages"]["anyOf"][0]["maxItems"] = settings.max_batch_messages
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app, serving with ``settings`` (default: the process settings from the environment)."""
    app = FastAPI(
        title="boundaryline",
        version=boundaryline.__version__,
        summary="Is this networking message professional, pestering, or an inappropriate proposition?",
        lifespan=lifespan,
        docs_url=None,  # served below from the fastapi-offline package's assets, not from a CDN: no network needed
        redoc_url=None,
    )
    for router in API_ROUTERS:  # first: they carry the load, and no other path overlaps theirs
        app.include_router(router, prefix=API_PREFIX)
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="boundaryline API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )
        page.headers["Content-Security-Policy"] = docs_policy(bytes(page.body).decode())
        return page

    app.include_router(health.router)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.include_router(web.router)  # the review page at /
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    # Request counts and latency histograms per route at /metrics (``RequestMetrics``, counted by the guard),
    # plus the predicted-label counter. Each app gets its own registry, so several apps in one process (tests)
    # never share counters. Under several workers (PROMETHEUS_MULTIPROC_DIR, set by `boundaryline serve
    # --workers N`), every worker writes its counts to files there and /metrics sums them all (the
    # instrumentator's expose reads them); the per-process collectors (GC, memory) have no meaning summed, so
    # they are left out then.
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        for collector in (GCCollector, PlatformCollector, ProcessCollector):
            collector(registry=registry)
    predictions = Counter(
        "boundaryline_predictions", "Messages scored, by predicted label", ["label", "flagged"], registry=registry
    )
    try:
        settings = settings or get_settings()
        feedback_limit = RateLimit(settings.feedback_rate_limit)
        allowed_hosts = check_allowed_hosts(settings.allowed_hosts)
    except SettingsProblem as problem:  # refuse to start, in one line (an empty API key, a bad threshold…)
        print(f"boundaryline service: {problem}", file=sys.stderr)
        raise SystemExit(2) from None
    app.state.service = ServiceState(settings=settings, predictions=predictions, feedback_limit=feedback_limit)
    # One pass of plain ASGI for every request, the refusals included: metrics, the headers every answer
    # carries, the Host check, the body limit and the error boundary (service/guards.py).
    metrics = RequestMetrics(registry, excluded_handlers=["/metrics"])
    app.add_middleware(Guard, allowed_hosts=allowed_hosts, limit=settings.max_request_bytes, metrics=metrics)
    document_limits(app, settings)
    Instrumentator(registry=registry).expose(app, include_in_schema=False)
    return app
