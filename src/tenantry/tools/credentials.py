"""Putting a connected account's credential into a request, and keeping it out of every answer."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tenantry.toolkits.spec import AuthSchemeSpec, Toolkit

REDACTED = "[REDACTED]"
# OAuth token fields: secret whatever the scheme's field list says.
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")
# Shorter values would turn ordinary text into redactions without protecting anything real.
MIN_SCRUBBED_LENGTH = 4
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class CredentialProblem(Exception):
    """The account cannot authenticate a request (a field is missing, the scheme is unsupported)."""


@dataclass(frozen=True)
class Credential:
    # Kept out of repr(), so no traceback or debug print shows them.
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    query: list[tuple[str, str]] = field(default_factory=list, repr=False)
    # Every value that must not reach the caller: the account's secrets and what was made of them.
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def scrub(self, value: Any) -> Any:
        """`value` (JSON-like, text or bytes) with every secret replaced by [REDACTED]."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            for secret in self.secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, bytes):
            for secret in self.secrets:
                value = value.replace(secret.encode(), REDACTED.encode())
            return value
        if isinstance(value, dict):
            return {self.scrub(key): self.scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        return value


NO_CREDENTIAL = Credential()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _values(scheme: AuthSchemeSpec, stored: dict[str, Any]) -> dict[str, str]:
    values = {key: _text(value) for key, value in stored.items() if value is not None and not isinstance(value, (dict, list))}
    if "username" in values or "password" in values:
        pair = f"{values.get('username', '')}:{values.get('password', '')}"
        values["basic"] = base64.b64encode(pair.encode()).decode()
    return values


def credential_for(scheme: AuthSchemeSpec, stored: dict[str, Any]) -> Credential:
    """Where `stored` (a connection's fields and tokens) goes in requests made with `scheme`."""
    injections = scheme.injections
    if injections is None:
        raise CredentialProblem(f"this server cannot make requests with {scheme.mode.value} accounts")
    values = _values(scheme, stored)
    headers: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    rendered: list[str] = []
    for injection in injections:
        missing = [name for name in injection.placeholders if not values.get(name)]
        if missing:
            raise CredentialProblem(f"the connected account has no {missing[0]}, which its {scheme.mode.value} requests need")
        value = _PLACEHOLDER.sub(lambda match: values[match.group(1)], injection.value)
        rendered.append(value)
        if injection.location == "header":
            headers[injection.name] = value
        else:
            query.append((injection.name, value))
    secret_names = scheme.secret_field_names | set(TOKEN_FIELDS) | {"basic"}
    secrets = {values[name] for name in secret_names if name in values} | set(rendered)
    # Longest first, so a secret that contains another is replaced whole.
    ordered = sorted((secret for secret in secrets if len(secret) >= MIN_SCRUBBED_LENGTH), key=len, reverse=True)
    return Credential(headers=headers, query=query, secrets=tuple(ordered))


def base_url_for(toolkit: Toolkit, scheme: AuthSchemeSpec | None, stored: dict[str, Any]) -> str | None:
    """The toolkit's API base URL for this account, `{placeholders}` filled from its fields."""
    template = toolkit.base_url_for(scheme.mode) if scheme else toolkit.base_url
    if template is None:
        return None

    def fill(match: re.Match[str]) -> str:
        value = stored.get(match.group(1))
        if value in (None, ""):
            raise CredentialProblem(f"the connected account has no {match.group(1)}, which the toolkit's base URL needs")
        return quote(_text(value), safe="")

    return _PLACEHOLDER.sub(fill, template)
