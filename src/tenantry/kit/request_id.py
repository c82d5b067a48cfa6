"""The id of the request being served: in the error envelope, the audit log and every response.

A tiny pure-ASGI middleware picks it once per request (the caller's `x-request-id` when it sent
a sane one, else a fresh `req_…`), keeps it in a context variable so services can read it
without being handed the request, and echoes it in the `x-request-id` response header.
"""

from __future__ import annotations

import itertools
import os
import secrets
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
MAX_LENGTH = 128

_current: ContextVar[str | None] = ContextVar("tenantry_request_id", default=None)
_counter = itertools.count()
_prefix = secrets.token_hex(6)


def _new_prefix() -> None:
    global _prefix
    _prefix = secrets.token_hex(6)


# Re-drawn in a forked child, so two processes never share a prefix.
os.register_at_fork(after_in_child=_new_prefix)


def current() -> str | None:
    """The id of the request this code runs for; None outside a request (background jobs, CLI)."""
    return _current.get()


def acceptable(given: str) -> bool:
    """Whether a caller's id is safe to log and echo: short, printable, one line."""
    return 0 < len(given) <= MAX_LENGTH and given.isprintable()


def fresh() -> str:
    """A new id, unique across processes: a random per-process prefix and a counter.

    Not uuid4: reading the system's randomness on every request cost more than everything
    else this module does.
    """
    return f"req_{_prefix}{next(_counter):020x}"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == HEADER:
                given = value.decode("latin-1")
                request_id = given if acceptable(given) else None
                break
        request_id = request_id or fresh()
        echoed = (HEADER, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or ()
                # The error renderer already names the id; a second header would repeat it.
                for name, _ in headers:
                    if name == HEADER:
                        break
                else:
                    message["headers"] = [*headers, echoed]
            await send(message)

        token = _current.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
