"""Shared by the toolkit tests: the shipped catalog's order, an operator file, and small readers."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

# Written only into the operator file; no response or log of the server may ever contain it.
MANAGED_CLIENT_SECRET = f"tk-managed-secret-{secrets.token_hex(12)}"
MANAGED_CLIENT_ID = "tenantry-test-github-app"

OPERATOR_FILE = f"""
released_at = 2026-12-01

[categories]
internal = "Internal Tools"

# A managed app and narrower scopes for a built-in toolkit; the rest of github stays as shipped.
[toolkits.github]
description = "GitHub, as this operator runs it."

[toolkits.github.oauth2]
default_scopes = ["read:user", "repo"]

[toolkits.github.managed_app]
client_id = "{MANAGED_CLIENT_ID}"
client_secret = "{MANAGED_CLIENT_SECRET}"

[toolkits.stripe]
enabled = false

[toolkits.sendgrid]
deprecated = true

[toolkits.acme]
name = "Acme CRM"
description = "The in-house CRM."
logo = "https://assets.acme.example/logo.svg"
app_url = "https://crm.acme.example"
categories = ["internal", "crm"]
base_url = "https://{{tenant}}.crm.acme.example/api/v2"

[[toolkits.acme.auth_schemes]]
mode = "OAUTH2"
connection_fields = [
  {{ name = "tenant", display_name = "Tenant", description = "Your Acme tenant", required = true }},
]

[[toolkits.acme.auth_schemes]]
mode = "API_KEY"
connection_fields = [
  {{ name = "tenant", display_name = "Tenant", required = true }},
  {{ name = "api_key", display_name = "API key", required = true }},
  {{ name = "region", display_name = "Region", default = "eu" }},
]

[toolkits.acme.oauth2]
authorize_url = "https://login.acme.example/oauth/authorize"
token_url = "https://login.acme.example/oauth/token"
default_scopes = ["contacts.read", "contacts.write"]
pkce = true

[toolkits.acme.managed_app]
client_id = "acme-managed"
client_secret = "{MANAGED_CLIENT_SECRET}"
scopes = ["contacts.read"]

[[toolkits.acme.tools]]
slug = "ACME_LIST_CONTACTS"
name = "List contacts"
description = "Lists the tenant's contacts."
input_parameters = {{ type = "object", properties = {{ limit = {{ type = "integer" }} }} }}

[[toolkits.acme.tools]]
slug = "ACME_CREATE_CONTACT"
name = "Create a contact"
"""


BUILTIN_ORDER = [
    "github", "gmail", "googlecalendar", "slack", "notion", "linear", "jira", "hubspot",
    "airtable", "asana", "stripe", "openai", "sendgrid", "twilio", "hackernews",
]
SECRET_NAMES = {"client_secret", "api_key", "token", "password", "consumer_secret"}
PUBLIC_NAMES = {"client_id", "subdomain", "username", "scopes", "oauth_redirect_uri", "consumer_key"}


async def list_toolkits(builtin_client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await builtin_client.get("/toolkits", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def every_slug(builtin_client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    slugs: list[str] = []
    cursor = None
    while True:
        page = await list_toolkits(builtin_client, headers, **params, **({"cursor": cursor} if cursor else {}))
        slugs += [item["slug"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return slugs


def fields_by_name(detail: dict[str, Any], mode: str, stage: str) -> dict[str, dict[str, Any]]:
    scheme = next(item for item in detail["auth_config_details"] if item["mode"] == mode)
    group = scheme["fields"][stage]
    return {field["name"]: field for field in group["required"] + group["optional"]}


def assert_validation_error(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["slug"] == "Request_ValidationError" and error["status"] == 400
    assert any(item.startswith(f"{field}:") for item in error["errors"]), error
