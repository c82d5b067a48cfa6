"""Connected accounts of every scheme for the loopback toolkit API (tests/fixtures/tool_api.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories import ProjectWithKey, create_auth_config
from tests.fixtures.oauth_provider import CLIENT_ID, CLIENT_SECRET


@dataclass
class Account:
    id: str
    toolkit: str
    # The values the API must receive, and the caller must never see.
    secrets: list[str]
    user_id: str


async def connect(
    client: httpx.AsyncClient, project: ProjectWithKey, toolkit: str, *, user_id: str | None = None
) -> Account:
    """An ACTIVE account of `toolkit` (one of the local* toolkits), with fresh credentials."""
    user_id = user_id or f"user-{secrets.token_hex(3)}"
    token = secrets.token_urlsafe(18)
    if toolkit == "localtoolsoauth":
        return await connect_oauth(client, project, user_id)
    scheme, val, hidden = {
        "localkeyheader": ("API_KEY", {"api_key": f"kh-{token}"}, [f"kh-{token}"]),
        "localkeyquery": ("API_KEY", {"api_key": f"kq-{token}"}, [f"kq-{token}"]),
        "localbearer": ("BEARER_TOKEN", {"token": f"bt-{token}"}, [f"bt-{token}"]),
        "localbasic": (
            "BASIC",
            {"tenant": "acme", "username": f"user-{token[:6]}", "password": f"pw-{token}"},
            [f"pw-{token}"],
        ),
        "localnoauth": ("NO_AUTH", {}, []),
    }[toolkit]
    auth_config_id = await create_auth_config(client, project, toolkit, type="use_custom_auth", authScheme=scheme)
    body = {
        "auth_config": {"id": auth_config_id},
        "connection": {"user_id": user_id, "state": {"authScheme": scheme, "val": {"status": "ACTIVE", **val}}},
    }
    response = await client.post("/connected_accounts", json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    return Account(response.json()["id"], toolkit, hidden, user_id)


async def connect_oauth(client: httpx.AsyncClient, project: ProjectWithKey, user_id: str) -> Account:
    """An OAuth2 account, through the provider's consent and our callback, as a browser would."""
    auth_config_id = await create_auth_config(
        client, project, "localtoolsoauth", type="use_custom_auth", authScheme="OAUTH2",
        credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    body = {"auth_config": {"id": auth_config_id}, "connection": {"user_id": user_id}}
    created = await client.post("/connected_accounts", json=body, headers=project.headers)
    assert created.status_code == 201, created.text
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(created.json()["redirect_url"])
        landed = await browser.get(at_provider.headers["location"])
        assert landed.status_code in (200, 303), landed.text
    return Account(created.json()["id"], "localtoolsoauth", [], user_id)


async def execute(
    client: httpx.AsyncClient,
    project: ProjectWithKey,
    tool: str,
    arguments: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    return await client.post(
        f"/tools/execute/{tool}", json={"arguments": arguments or {}, **body}, headers={**project.headers, **(headers or {})}
    )
