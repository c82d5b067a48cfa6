"""How secrets look when a response may not show them whole.

Composio's rule: the first four characters followed by `...` (`sk-l...`), or the literal `REDACTED`
when the value is too short to keep any of it. We also redact values of exactly four characters,
which the prefix rule would otherwise show in full.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

REDACTED = "REDACTED"

# Credential keys that are secret whatever the toolkit says (reference §5, plus OAuth internals).
SECRET_FIELDS = frozenset(
    {
        "access_token", "refresh_token", "id_token", "api_key", "generic_api_key", "generic_secret",
        "generic_token", "bearer_token", "token", "basic_encoded", "password", "proxy_password",
        "client_secret", "oauth_token", "oauth_token_secret", "private_key", "credentials_json",
        "devKey", "sessionId", "code_verifier", "proxy_auth_key", "secret", "api_secret",
        "developer_token", "webhook_signature",
    }
)
# Nested objects whose every value is secret: header and query values carry credentials.
SECRET_CONTAINERS = frozenset({"headers", "query_params"})


def mask(value: Any) -> Any:
    if isinstance(value, str):
        return REDACTED if len(value) <= 4 else f"{value[:4]}..."
    if value is None or isinstance(value, bool):
        return value
    return REDACTED


def mask_fields(values: Mapping[str, Any], secret: Collection[str]) -> dict[str, Any]:
    """A copy of `values` with every secret field (and everything inside a secret container) masked."""
    masked: dict[str, Any] = {}
    for key, value in values.items():
        if key in SECRET_CONTAINERS and isinstance(value, Mapping):
            masked[key] = {inner: mask(inner_value) for inner, inner_value in value.items()}
        elif key in secret or key in SECRET_FIELDS:
            masked[key] = mask(value)
        elif isinstance(value, Mapping):
            # Nested credentials, like Slack's authed_user.access_token.
            masked[key] = mask_fields(value, secret)
        else:
            masked[key] = value
    return masked
