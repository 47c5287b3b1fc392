"""The request metrics at ``/metrics``: the five series of prometheus-fastapi-instrumentator's default
instrumentation, under the same names, help texts, labels and buckets (dashboards read them as before), but
recorded by the service's ``Guard`` in the one pass every request makes anyway (issue 24). The instrumentator's
own middleware matched every route again and built a ``Request``, a ``Response`` and an ``Info`` per request;
here a route's name is looked up once per method and path, and each label set's children once.

The instrumentator still serves ``/metrics`` (``Instrumentator.expose``), its multiprocess mode included.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, Summary
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import HTTPConnection
from starlette.types import Scope

# prometheus_fastapi_instrumentator.metrics.default's buckets, +Inf added as it adds it.
HIGHR_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30, 60)
LOWR_BUCKETS = (0.1, 0.5, 1)
INF = float("inf")
# Client-chosen paths and methods make new keys: past these sizes a cache starts again from empty.
MAX_HANDLERS = 1024
MAX_LABEL_SETS = 4096


class RequestMetrics:
    """``handler(scope)`` before a request runs (its templated route, "none" when no route matches, None when
    excluded), ``record(...)`` after it: ``http_requests_total`` (method, status as "2xx", handler),
    ``http_request_size_bytes`` and ``http_response_size_bytes`` (handler; the Content-Length headers),
    ``http_request_duration_highr_seconds`` (no labels) and ``http_request_duration_seconds`` (method,
    handler), as the instrumentator's default instrumentation writes them."""

    def __init__(self, registry: CollectorRegistry, excluded_handlers: Sequence[str] = ()) -> None:
        self.excluded = [re.compile(pattern) for pattern in excluded_handlers]
        self.total = Counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            ("method", "status", "handler"),
            registry=registry,
        )
        self.request_size = Summary(
            "http_request_size_bytes",
            "Content length of incoming requests by handler. Only value of header is respected. Otherwise ignored."
            " No percentile calculated. ",
            ("handler",),
            registry=registry,
        )
        self.response_size = Summary(
            "http_response_size_bytes",
            "Content length of outgoing responses by handler. Only value of header is respected. Otherwise ignored."
            " No percentile calculated. ",
            ("handler",),
            registry=registry,
        )
        self.latency_highr = Histogram(
            "http_request_duration_highr_seconds",
            "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
            buckets=(*HIGHR_BUCKETS, INF),
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
            ("method", "handler"),
            buckets=(*LOWR_BUCKETS, INF),
            registry=registry,
        )
        self._handlers: dict[tuple[str, str, str], str | None] = {}
        self._children: dict[tuple[str, str, str], tuple[Counter, Summary, Summary, Histogram]] = {}

    def handler(self, scope: Scope) -> str | None:
        """The handler label of an HTTP request, or None when it is not counted (an excluded handler). The
        instrumentator's own rule (``get_route_name`` against the app's routes), remembered per method and
        path: the routes do not change once the app serves."""
        key = (scope["method"], scope["path"], scope.get("root_path", ""))
        try:
            return self._handlers[key]
        except KeyError:
            pass
        connection = HTTPConnection(scope)
        name = get_route_name(connection, should_include_root_path=False)
        excluded = any(pattern.search(name or connection.url.path) for pattern in self.excluded)
        handler = None if excluded else name or "none"
        if len(self._handlers) >= MAX_HANDLERS:
            self._handlers.clear()
        self._handlers[key] = handler
        return handler

    def record(
        self, method: str, handler: str, status: int, request_bytes: int, response_bytes: int, seconds: float
    ) -> None:
        group = f"{str(status)[0]}xx"
        key = (method, handler, group)
        children = self._children.get(key)
        if children is None:
            children = (
                self.total.labels(method, group, handler),
                self.request_size.labels(handler),
                self.response_size.labels(handler),
                self.latency.labels(method, handler),
            )
            if len(self._children) < MAX_LABEL_SETS:
                self._children[key] = children
        total, request_size, response_size, latency = children
        total.inc()
        request_size.observe(request_bytes)
        response_size.observe(response_bytes)
        self.latency_highr.observe(seconds)
        latency.observe(seconds)
