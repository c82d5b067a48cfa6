"""Errors carry their HTTP status; `render` is the one place that writes Composio's envelope.

Every non-2xx JSON body is
`{"error": {"message", "code", "slug", "status", "request_id", "suggested_fix"?, "errors"?}}`.
`code` is a numeric code in Composio's style (not the HTTP status); `slug` is `<Domain>_<Name>`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("tenantry.errors")


class AppError(Exception):
    status: int = 500
    code: int = 901
    slug: str = "Server_InternalError"
    default_message: ClassVar[str] = "Internal server error"
    # The official client retries 409s; one that retrying cannot fix says so.
    retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str | None = None,
        *,
        suggested_fix: str | None = None,
        errors: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.suggested_fix = suggested_fix
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        super().__init__(self.message)


class InvalidRequest(AppError):
    status, code, slug = 400, 800, "Request_ValidationError"
    default_message = "The request is not valid"


class Unauthenticated(AppError):
    status, code, slug = 401, 801, "Auth_InvalidApiKey"
    default_message = "A valid API key is required"


class Forbidden(AppError):
    status, code, slug = 403, 802, "Auth_Forbidden"
    default_message = "This key may not do that"


class NotFound(AppError):
    status, code, slug = 404, 1803, "Resource_NotFound"
    default_message = "Not found"


class ProjectNotFound(NotFound):
    code, slug = 1803, "Project_ResourceNotFound"
    default_message = "Project not found"


class ToolkitNotFound(NotFound):
    code, slug = 1103, "Toolkit_NotFound"
    default_message = "Toolkit not found"


class AuthConfigNotFound(NotFound):
    code, slug = 1903, "AuthConfig_ResourceNotFound"
    default_message = "Auth config not found"


class ConnectedAccountNotFound(NotFound):
    code, slug = 606, "ConnectedAccount_ResourceNotFound"
    default_message = "Connected account not found"


class Conflict(AppError):
    status, code, slug = 409, 1804, "Resource_Conflict"
    default_message = "The request conflicts with the current state"
    retryable = False


class ProjectNameTaken(Conflict):
    code, slug = 1805, "Project_NameAlreadyExists"
    default_message = "A project with this name already exists in the organization"


class AliasTaken(Conflict):
    code, slug = 1809, "ConnectedAccount_AliasAlreadyExists"
    default_message = "This alias is already used by another account of the same user and toolkit"


class InvalidTransition(Conflict):
    code, slug = 1810, "ConnectedAccount_InvalidStatusTransition"
    default_message = "The account's status does not allow this change"


class RouteNotFound(NotFound):
    code, slug = 900, "Route_NotFound"
    default_message = "No route matches this method and path"


class ErrorBody(BaseModel):
    message: str
    code: int
    slug: str
    status: int
    request_id: str
    suggested_fix: str | None = None
    errors: list[str] | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: the errors it can answer, documented in the OpenAPI."""
    documented: dict[int | str, dict[str, Any]] = {}
    for error in (InvalidRequest, *errors):
        entry = documented.setdefault(error.status, {"model": ErrorEnvelope, "description": ""})
        entry["description"] = "; ".join(filter(None, [entry["description"], error.default_message]))
    return documented


def request_id_of(request: Request) -> str:
    """The caller's x-request-id when it sent a sane one, else a fresh one."""
    given = request.headers.get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isprintable():
        return given
    return f"req_{uuid.uuid4().hex}"


def render(request: Request, error: AppError) -> Response:
    request_id = request_id_of(request)
    body: dict[str, Any] = {
        "message": error.message,
        "code": error.code,
        "slug": error.slug,
        "status": error.status,
        "request_id": request_id,
    }
    if error.suggested_fix:
        body["suggested_fix"] = error.suggested_fix
    if error.errors:
        body["errors"] = error.errors
    headers = {"x-request-id": request_id, **error.headers}
    if not error.retryable:
        headers["x-should-retry"] = "false"
    return JSONResponse({"error": body}, status_code=error.status, headers=headers)


def _field_path(location: Sequence[Any]) -> str:
    # ("body", "config", "log_visibility_setting") -> "config.log_visibility_setting"
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[0] if location else "request")


def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = []
    for item in exc.errors():
        field = _field_path(item.get("loc", ()))
        message = item.get("msg", "is invalid")
        if item.get("type") == "extra_forbidden":
            message = "is not a known field"
        elif item.get("type") == "json_invalid":
            field, message = "body", "is not valid JSON"
        problems.append(f"{field}: {message}")
    summary = "Invalid request: " + "; ".join(problems) if problems else "Invalid request"
    return render(request, InvalidRequest(summary, errors=problems))


def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        return render(request, RouteNotFound())
    # Framework errors other than 404 (405, 413, ...) keep their status inside our envelope.
    error = AppError(str(exc.detail), headers=exc.headers)
    error.status, error.code, error.slug = exc.status_code, 900, "Request_Error"
    return render(request, error)


def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The exception goes to the log (never the request body or headers, which may hold keys).
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return render(request, AppError())


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, lambda request, exc: render(request, exc))
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
