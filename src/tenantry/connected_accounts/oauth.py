"""OAuth2 against a toolkit's provider: the authorize URL (with PKCE), code exchange, refresh.

Every call goes to URLs from the operator's catalog, never to one a client supplied, with a
timeout and without following redirects.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from tenantry.kit.time import utcnow

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024


class ProviderRejected(Exception):
    """The provider answered, and said no (a 4xx, or no token in a 2xx)."""


class ProviderUnavailable(Exception):
    """The provider could not be reached or failed (network error, timeout, 5xx)."""


@dataclass(frozen=True)
class OAuthApp:
    """What the exchange needs: the provider's endpoints and the app's credentials."""

    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str | None
    scopes: list[str]
    scope_separator: str
    pkce: bool
    redirect_uri: str
    extra_authorize_params: dict[str, str]
    # client_secret_basic: credentials in an Authorization header instead of the form.
    secret_in_basic_auth: bool = False


@dataclass(frozen=True)
class Initiation:
    state: str
    code_verifier: str | None
    url: str


def _code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def initiate(app: OAuthApp) -> Initiation:
    state = secrets.token_urlsafe(32)
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "state": state,
        **app.extra_authorize_params,
    }
    if app.scopes:
        params["scope"] = app.scope_separator.join(app.scopes)
    verifier = None
    if app.pkce:
        verifier = secrets.token_urlsafe(64)
        params["code_challenge"] = _code_challenge(verifier)
        params["code_challenge_method"] = "S256"
    separator = "&" if "?" in app.authorize_url else "?"
    return Initiation(state, verifier, f"{app.authorize_url}{separator}{urlencode(params)}")


async def _token_request(app: OAuthApp, form: dict[str, str]) -> dict[str, Any]:
    auth = None
    if app.secret_in_basic_auth:
        auth = httpx.BasicAuth(app.client_id, app.client_secret or "")
    else:
        form = {**form, "client_id": app.client_id}
        if app.client_secret:
            form["client_secret"] = app.client_secret
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
            response = await http.post(app.token_url, data=form, auth=auth, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from None
    if response.status_code >= 500:
        raise ProviderUnavailable(f"token endpoint answered {response.status_code}")
    body = _parse(response)
    if response.status_code >= 400 or "access_token" not in body:
        error = body.get("error") or f"HTTP {response.status_code}"
        raise ProviderRejected(str(error)[:200])
    return body


def _parse(response: httpx.Response) -> dict[str, Any]:
    content = response.content[:MAX_TOKEN_RESPONSE_BYTES]
    try:
        parsed = json.loads(content)
        return parsed if isinstance(parsed, dict) else {}
    except ValueError:
        # Some providers (GitHub without Accept) answer form-encoded.
        return dict(httpx.QueryParams(content.decode(errors="replace")))


async def exchange_code(app: OAuthApp, code: str, code_verifier: str | None) -> dict[str, Any]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
    if code_verifier:
        form["code_verifier"] = code_verifier
    return await _token_request(app, form)


async def refresh(app: OAuthApp, refresh_token: str) -> dict[str, Any]:
    return await _token_request(app, {"grant_type": "refresh_token", "refresh_token": refresh_token})


async def revoke(app: OAuthApp, revoke_url: str, token: str, token_type_hint: str) -> None:
    """Revokes a token at the provider (RFC 7009); raises ProviderRejected or ProviderUnavailable."""
    form = {"token": token, "token_type_hint": token_type_hint}
    auth = None
    if app.secret_in_basic_auth:
        auth = httpx.BasicAuth(app.client_id, app.client_secret or "")
    else:
        form["client_id"] = app.client_id
        if app.client_secret:
            form["client_secret"] = app.client_secret
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
            response = await http.post(revoke_url, data=form, auth=auth, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"revocation endpoint unreachable: {type(exc).__name__}") from None
    if response.status_code >= 500:
        raise ProviderUnavailable(f"revocation endpoint answered {response.status_code}")
    if response.status_code >= 400:
        error = _parse(response).get("error") or f"HTTP {response.status_code}"
        raise ProviderRejected(str(error)[:200])


def expiry_of(tokens: dict[str, Any]) -> datetime | None:
    try:
        seconds = int(tokens.get("expires_in") or 0)
    except (TypeError, ValueError):
        return None
    return utcnow() + timedelta(seconds=seconds) if seconds > 0 else None
