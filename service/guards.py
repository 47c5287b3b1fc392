"""What every request passes before a route sees it (issue 23): a bound on the body, counted while it is read,
and the headers every answer carries. Both plain ASGI (no ``BaseHTTPMiddleware``: it would buffer bodies and
run the route in another task). The allowed host names are checked by Starlette's ``TrustedHostMiddleware``."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boundaryline.settings import SettingsProblem

# On every answer, JSON, HTML or a static file: the browser takes the declared type and never guesses another
# (a JSON answer quoting a message is never run as a script or a page), and no page of ours is ever framed.
EVERY_ANSWER = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def body_limit_detail(limit: int) -> str:
    return f"request body over {limit:,} bytes (BOUNDARYLINE_MAX_REQUEST_BYTES)"


class StartWatch:
    """A ``send`` that remembers whether the response has started: after that, no other answer can be sent."""

    def __init__(self, send: Send) -> None:
        self.send, self.started = send, False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)


class BodyTooLarge(HTTPException):
    """Raised from ``receive()`` once the body passes the limit. An ``HTTPException``, so that FastAPI lets it
    through its body reading (anything else becomes a 400 there) and answers it as a JSON 413; the middleware
    answers it itself when it comes out of the app before an answer has started."""

    def __init__(self, limit: int) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, detail=body_limit_detail(limit))


class BodyLimit:
    """Refuse a request body longer than ``limit`` bytes with a 413 naming the limit (never echoing the body):
    at once when ``Content-Length`` says so, before a byte is read; otherwise (a chunked body, or a
    ``Content-Length`` that lies short) by counting the bytes as ``receive()`` yields them, so that at most the
    limit and one chunk are ever held, whatever the client goes on sending."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self.refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        watched = StartWatch(send)
        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if watched.started:
                raise
            await self.refuse(scope, receive, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The client may still be sending: the server closes the connection after an answer to an unread body.
        answer = JSONResponse({"detail": body_limit_detail(self.limit)}, status_code=status.HTTP_413_CONTENT_TOO_LARGE)
        await answer(scope, receive, send)


class SecurityHeaders:
    """Add ``EVERY_ANSWER``'s headers to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in EVERY_ANSWER.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, add_headers)


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
