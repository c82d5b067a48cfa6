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
from starlette.routing import Match, Mount

from tenantry.kit import request_id

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

    @classmethod
    def field(cls, field: str, problem: str) -> InvalidRequest:
        """A 400 that names the one field at fault, as framework validation errors do."""
        return cls(f"{field}: {problem}", errors=[f"{field}: {problem}"])


class Unauthenticated(AppError):
    status, code, slug = 401, 801, "Auth_InvalidApiKey"
    default_message = "A valid API key is required"


class Forbidden(AppError):
    status, code, slug = 403, 802, "Auth_Forbidden"
    default_message = "This key may not do that"


class NotFound(AppError):
    status, code, slug = 404, 1803, "Resource_NotFound"
    default_message = "Not found"


class PayloadTooLarge(AppError):
    status, code, slug = 413, 900, "Request_PayloadTooLarge"
    default_message = "The request body is too large"


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


class McpServerNotFound(NotFound):
    code, slug = 2301, "Mcp_ServerNotFound"
    default_message = "MCP server not found"


class McpServerNameTaken(Conflict):
    code, slug = 2302, "Mcp_NameAlreadyExists"
    default_message = "An MCP server with this name already exists in the project"


class WebhookSubscriptionNotFound(NotFound):
    code, slug = 2401, "WebhookSubscription_ResourceNotFound"
    default_message = "Webhook subscription not found"


class WebhookMessageNotFound(NotFound):
    code, slug = 2402, "WebhookMessage_ResourceNotFound"
    default_message = "Webhook message not found"


class WebhookSubscriptionExists(Conflict):
    code, slug = 2403, "WebhookSubscription_AlreadyExists"
    default_message = "This project already has a webhook subscription"


class MissingPermission(Forbidden):
    code, slug = 803, "Auth_MissingPermission"
    default_message = "This API key's scopes do not allow this request"


class RoleForbidden(Forbidden):
    code, slug = 804, "Auth_RoleForbidden"
    default_message = "Your role in this organization does not allow this"


class OrganizationNotFound(NotFound):
    code, slug = 2200, "Organization_ResourceNotFound"
    default_message = "Organization not found"


class ApiKeyNotFound(NotFound):
    code, slug = 1806, "ApiKey_ResourceNotFound"
    default_message = "API key not found"


class ApiKeyNameTaken(Conflict):
    code, slug = 1807, "ApiKey_NameAlreadyExists"
    default_message = "Another live key of this project has this name"


class TooManyApiKeys(Conflict):
    code, slug = 1808, "ApiKey_LimitReached"
    default_message = "This project has as many live keys as it may have"


class OrgApiKeyNameTaken(Conflict):
    code, slug = 2201, "OrgApiKey_NameAlreadyExists"
    default_message = "Another live organization API key has this name"


class TooManyOrgApiKeys(Conflict):
    code, slug = 2202, "OrgApiKey_LimitReached"
    default_message = "This organization has as many live organization API keys as it may have"


class MemberAlreadyExists(Conflict):
    code, slug = 2001, "Team_MemberAlreadyExists"
    default_message = "This person is already a member of the organization"


class OrgMemberNotFound(NotFound):
    code, slug = 2002, "Team_MemberNotFound"
    default_message = "Member not found"


class LastAdmin(Conflict):
    code, slug = 2003, "Team_LastAdminRequired"
    default_message = "An organization must keep at least one admin"


class MemberInOtherOrganizations(Conflict):
    code, slug = 2004, "Team_MemberInOtherOrganizations"
    default_message = "This member also belongs to other organizations, so a link from this one cannot set their password"


class InvitationUnusable(AppError):
    """A one-time dashboard link that is unknown, replaced, used or expired (shown as a page, not JSON)."""

    status, code, slug = 404, 2005, "Team_InvitationNotValid"
    default_message = "This link is not valid"
    retryable = False


class ToolNotFound(NotFound):
    code, slug = 1106, "Tool_NotFound"
    default_message = "Tool not found"


class NoActiveConnection(InvalidRequest):
    code, slug = 1811, "ActionExecute_NoActiveConnection"
    default_message = "The user has no active connected account for this toolkit"


class AccountNotActive(InvalidRequest):
    code, slug = 1812, "ConnectedAccount_NotActive"
    default_message = "The connected account is not active"


class ToolNotAllowed(Forbidden):
    code, slug = 1813, "ActionExecute_ToolNotAllowed"
    default_message = "The auth config does not allow this tool"


class UpstreamFailed(AppError):
    status, code, slug = 502, 1814, "ProxyExecute_UpstreamError"
    default_message = "The toolkit's API could not be reached"
    # The call may have had an effect upstream; a blind retry could repeat it.
    retryable = False


class LogNotFound(NotFound):
    code, slug = 2101, "Log_NotFound"
    default_message = "Log not found"


class RateLimited(AppError):
    status, code, slug = 429, 1429, "Request_RateLimitExceeded"
    default_message = "Rate limit exceeded"


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
    # The id the request-id middleware chose, so the envelope, the header and the audit log agree.
    chosen = request_id.current()
    if chosen is not None:
        return chosen
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


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path: Starlette's 405 names only those of the first
    route that matched it, and FastAPI makes a route per method. (The front door answers the API's
    own 405s; this is for the rest, such as the dashboard's pages.)"""
    routes = getattr(request.scope.get("router"), "routes", ())
    allowed = []
    for method in _METHODS:
        probe = {**request.scope, "method": method}
        # A mounted app decides its own methods.
        if any(not isinstance(route, Mount) and route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        return render(request, RouteNotFound())
    # Framework errors other than 404 (405, 413, ...) keep their status inside our envelope.
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    error = AppError(str(exc.detail), headers=headers)
    error.status, error.code, error.slug = exc.status_code, 900, "Request_Error"
    return render(request, error)


def unexpected(request: Request, exc: Exception) -> Response:
    # The exception goes to the log (never the request body or headers, which may hold keys).
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return render(request, AppError())


def install(app: FastAPI) -> None:
    # Async, because Starlette runs a plain function handler on a worker thread.
    async def app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return render(request, exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _validation_error(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return _http_error(request, exc)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
