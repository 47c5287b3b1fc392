"""What every request passes before a route sees it (issues 23 and 24), in one plain-ASGI ``Guard`` (no
``BaseHTTPMiddleware``: it would buffer bodies and run the route in another task): the request metrics, the
headers every answer carries, the allowed host names (decided by Starlette's ``TrustedHostMiddleware``), a bound
on the body, counted while it is read, and the error boundary."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import traceback
from collections.abc import Iterable, Sequence
from time import perf_counter

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boundaryline.settings import SettingsProblem
from service.metrics import RequestMetrics

log = logging.getLogger("boundaryline.service")
# On every answer, JSON, HTML or a static file: the browser takes the declared type and never guesses another
# (a JSON answer quoting a message is never run as a script or a page), and no page of ours is ever framed.
EVERY_ANSWER = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
EVERY_ANSWER_RAW = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in EVERY_ANSWER.items()]
MAX_KNOWN_HOSTS = 256  # Host headers remembered as allowed (any port of an allowed name is one more)


def body_limit_detail(limit: int) -> str:
    return f"request body over {limit:,} bytes (BOUNDARYLINE_MAX_REQUEST_BYTES)"


class BodyTooLarge(HTTPException):
    """Raised from ``receive()`` once the body passes the limit. An ``HTTPException``, so that FastAPI lets it
    through its body reading (anything else becomes a 400 there) and answers it as a JSON 413; the guard
    answers it itself when it comes out of the app before an answer has started."""

    def __init__(self, limit: int) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, detail=body_limit_detail(limit))


class Guard:
    """What every HTTP request passes, in one pass of plain ASGI (five layers before, issue 24), in this order:

    1. the request metrics (``RequestMetrics``) count it, whatever answers it, the refusals below included;
    2. every answer gets ``EVERY_ANSWER``'s headers, unless it sets them itself;
    3. the ``Host`` header must be one of ``allowed_hosts`` (Starlette's ``TrustedHostMiddleware`` decides, and
       answers a 400; a host it let through is remembered, so it decides once per host);
    4. a body longer than ``limit`` bytes is refused with a 413 naming the limit (never echoing the body): at
       once when ``Content-Length`` says so, before a byte is read; otherwise (a chunked body, or a
       ``Content-Length`` that lies short) by counting the bytes as ``receive()`` yields them, so that at most
       the limit and one chunk are ever held, whatever the client goes on sending;
    5. any error the app did not turn into an HTTP answer becomes a plain 500, logged by its type and the line
       that raised it. Never the exception's message or a traceback: either may quote the request, and
       message text never reaches the logs.
    """

    def __init__(
        self, app: ASGIApp, *, allowed_hosts: Sequence[str], limit: int, metrics: RequestMetrics | None = None
    ) -> None:
        self.app = app
        self.allowed_hosts = list(allowed_hosts)
        self.limit = limit
        self.metrics = metrics
        self.any_host = "*" in self.allowed_hosts
        self.known_hosts: set[bytes] = set()  # Host headers let through already
        self.websocket = TrustedHostMiddleware(app, allowed_hosts=self.allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await (self.websocket if scope["type"] == "websocket" else self.app)(scope, receive, send)
            return
        begin = perf_counter()
        handler = self.metrics.handler(scope) if self.metrics is not None else None
        host = declared = None
        for name, value in scope["headers"]:  # the first of each, as ``Headers.get`` reads them
            if name == b"host":
                host = value if host is None else host
            elif name == b"content-length":
                declared = value if declared is None else declared
        declared_length = None
        if declared is not None and declared.isdigit():  # over 18 digits: over any limit (int() refuses 4,300)
            declared_length = int(declared) if len(declared) <= 18 else self.limit + 1
        started, status_code, response_bytes, received = False, 500, 0, 0

        async def guarded_send(message: Message) -> None:
            nonlocal started, status_code, response_bytes
            if message["type"] == "http.response.start":
                started, status_code = True, message["status"]
                message["headers"], response_bytes = every_answer(message.get("headers", []))
            await send(message)

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        try:
            if not (self.any_host or host in self.known_hosts) and not await self.host_allowed(
                host, scope, receive, guarded_send
            ):
                return
            if declared_length is not None and declared_length > self.limit:
                await self.refuse(scope, receive, guarded_send)
                return
            await self.app(scope, counted_receive, guarded_send)
        except Exception as error:
            if isinstance(error, BodyTooLarge) and not started:
                await self.refuse(scope, receive, guarded_send)
                return
            frame = traceback.extract_tb(error.__traceback__)[-1]
            log.error(
                "internal error on %s %s: %s at %s:%d in %s",
                scope["method"], scope["path"], type(error).__name__, frame.filename, frame.lineno or 0, frame.name,
            )  # fmt: skip
            if not started:
                await JSONResponse({"detail": "internal error"}, status_code=500)(scope, receive, guarded_send)
        finally:
            if handler is not None and self.metrics is not None:
                length = declared_length or 0
                self.metrics.record(
                    scope["method"], handler, status_code, length, response_bytes, perf_counter() - begin
                )

    async def host_allowed(self, host: bytes | None, scope: Scope, receive: Receive, send: Send) -> bool:
        """Whether ``TrustedHostMiddleware`` lets the request through; when it does not, it has answered."""
        allowed = False

        async def let_through(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal allowed
            allowed = True

        await TrustedHostMiddleware(let_through, allowed_hosts=self.allowed_hosts)(scope, receive, send)
        if allowed and host is not None:
            if len(self.known_hosts) >= MAX_KNOWN_HOSTS:  # client-chosen (any port of an allowed name)
                self.known_hosts.clear()
            self.known_hosts.add(host)
        return allowed

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The client may still be sending: the server closes the connection after an answer to an unread body.
        answer = JSONResponse({"detail": body_limit_detail(self.limit)}, status_code=status.HTTP_413_CONTENT_TOO_LARGE)
        await answer(scope, receive, send)


def every_answer(headers: Iterable[tuple[bytes, bytes]]) -> tuple[list[tuple[bytes, bytes]], int]:
    """The headers of an answer with ``EVERY_ANSWER``'s added where missing, and its Content-Length (0 when
    it has none, as the request metrics count it)."""
    headers = list(headers)
    names = set()
    length = None
    for name, value in headers:
        name = name.lower()
        names.add(name)
        if name == b"content-length" and length is None:
            length = value
    headers.extend(header for header in EVERY_ANSWER_RAW if header[0] not in names)
    return headers, int(length) if length is not None and length.isdigit() else 0


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_policy(page: str) -> str:
    """The Content-Security-Policy of the API docs page ``page``: its own script and style files, the inline
    script that starts Swagger UI (allowed by its hash, nothing else inline), the images its style sheet
    carries as ``data:`` URLs, and calls to this origin only (the OpenAPI document, "Try it out")."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    ]
    return (
        f"default-src 'none'; script-src 'self' {' '.join(hashes)}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def check_allowed_hosts(hosts: list[str]) -> list[str]:
    """The hosts as ``TrustedHostMiddleware`` takes them, or ``SettingsProblem`` in one line (Starlette would
    only fail an assertion at the first request)."""
    for host in hosts:
        wildcard = host.startswith("*") and host != "*"
        if not host or "*" in host[1:] or (wildcard and not host.startswith("*.")):
            raise SettingsProblem(
                f"BOUNDARYLINE_ALLOWED_HOSTS: {host!r} is not a host name; expected names such as 'localhost',"
                " '127.0.0.1' or '*.example.org' (a leading '*.' matches every subdomain, '*' any host)"
            )
    return hosts
