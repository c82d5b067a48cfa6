"""Small factories: an organization written through its service, projects made over HTTP."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.members import service as members
from tenantry.members.schemas import MemberCreate, Role
from tenantry.organizations import service as organizations
from tenantry.organizations.schemas import OrganizationCreate


@dataclass
class Org:
    id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"x-org-api-key": self.api_key}


@dataclass
class ProjectWithKey:
    id: str
    name: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}


async def create_org(
    sessionmaker: async_sessionmaker[AsyncSession], *, created_at: datetime | None = None
) -> Org:
    async with unit_of_work(sessionmaker) as session:
        created = await organizations.create(
            session, OrganizationCreate(name=f"org-{secrets.token_hex(3)}"), created_at=created_at
        )
    return Org(created.id, created.api_key)


@dataclass
class MemberWithKey:
    id: str
    email: str
    org_id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"x-user-api-key": self.api_key}


async def create_member(
    sessionmaker: async_sessionmaker[AsyncSession], org: Org, *, role: str = "developer", email: str | None = None
) -> MemberWithKey:
    """A member of `org` (the same person across organizations when `email` repeats), with a user key."""
    payload = MemberCreate(email=email or f"{secrets.token_hex(4)}@example.com", name="Test Member", role=Role(role))
    async with unit_of_work(sessionmaker) as session:
        created = await members.create(session, org.id, payload)
    return MemberWithKey(created.id, created.email, created.org_id, created.api_key)


async def create_api_key(client: httpx.AsyncClient, org: Org, project_id: str, **body: Any) -> dict[str, Any]:
    """A named project key made over HTTP; `body` may give `expires_at` and `scopes`."""
    payload = {"name": unique_name("key"), **body}
    response = await client.post(f"/org/owner/project/{project_id}/api_keys", json=payload, headers=org.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def unique_name(prefix: str = "project") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


async def create_project(client: httpx.AsyncClient, org: Org, **body: Any) -> ProjectWithKey:
    payload = {"name": unique_name(), "should_create_api_key": True, **body}
    response = await client.post("/org/owner/project/new", json=payload, headers=org.headers)
    assert response.status_code == 200, response.text
    created = response.json()
    return ProjectWithKey(created["id"], created["name"], created["api_key"])


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    """An error body with its per-request id removed, for comparing two errors."""
    error = dict(body["error"])
    error.pop("request_id")
    return error


async def create_auth_config(client: httpx.AsyncClient, project: ProjectWithKey, toolkit: str, **auth_config: Any) -> str:
    body: dict[str, Any] = {"toolkit": {"slug": toolkit}}
    if auth_config:
        body["auth_config"] = auth_config
    response = await client.post("/auth_configs", json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["auth_config"]["id"])


async def create_api_key_account(
    client: httpx.AsyncClient, project: ProjectWithKey, auth_config_id: str, api_key: str, user_id: str = "user-1", **connection: Any
) -> str:
    body = {
        "auth_config": {"id": auth_config_id},
        "connection": {"user_id": user_id, "state": {"authScheme": "API_KEY", "val": {"status": "ACTIVE", "api_key": api_key}}, **connection},
    }
    response = await client.post("/connected_accounts", json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
