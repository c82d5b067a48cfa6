"""Keeping capability tokens out of the access log.

A few URLs carry a secret themselves: an end user's hosted link page (`/link/{token}`), a member's
sign-in link (`/dashboard/invitations/{token}`), and the OAuth2 callback's one-time `code` and
`state`. Uvicorn's access log writes every request's path and query, so without this filter those
secrets would sit in plaintext in the server's log.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# A path segment that follows one of these is the capability itself.
_TOKEN_IN_PATH = re.compile(r"(/link/|/dashboard/invitations/)[^/?#\s]+")
# Query parameters whose values are secrets wherever they appear.
_SECRET_PARAMETER = re.compile(r"([?&](?:code|state|token|api_key)=)[^&#\s]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """`url` with every capability token it carries replaced by `[redacted]`."""
    return _SECRET_PARAMETER.sub(rf"\g<1>{REDACTED}", _TOKEN_IN_PATH.sub(rf"\g<1>{REDACTED}", url))


class RedactCapabilities(logging.Filter):
    """Rewrites uvicorn access-log records (client, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        arguments = record.args
        if isinstance(arguments, tuple) and len(arguments) >= 3 and isinstance(arguments[2], str):
            record.args = (*arguments[:2], redact_url(arguments[2]), *arguments[3:])
        return True


def install() -> None:
    """Adds the filter to uvicorn's access logger in this process (each worker calls it)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, RedactCapabilities) for existing in access.filters):
        access.addFilter(RedactCapabilities())
