"""Project settings with a project key (reference §3.8, §3.9, §8)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import Org, ProjectWithKey, create_org, create_project

DEFAULTS = {
    "is_2FA_enabled": False,
    "logo_url": None,
    "display_name": None,
    "mask_secret_keys_in_connected_account": True,
    "log_visibility_setting": "show_all",
    "require_mcp_api_key": True,
    "is_composio_link_enabled_for_managed_auth": False,
    "signed_url_file_expiry_in_seconds": 3600,
    "oauth_callback_verifier_url": None,
    "theme": None,
}


class TestRead:
    async def test_all_ten_fields_with_their_defaults(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        response = await client.get("/org/project/config", headers=project.headers)
        assert response.status_code == 200
        assert response.json() == DEFAULTS

    @pytest.mark.parametrize(
        ("created_at", "required"),
        [
            (datetime(2025, 6, 1, tzinfo=UTC), False),
            (datetime(2026, 3, 4, 23, 59, 59, tzinfo=UTC), False),
            (datetime(2026, 3, 5, tzinfo=UTC), True),
        ],
    )
    async def test_require_mcp_api_key_follows_the_organizations_age(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        created_at: datetime,
        required: bool,
    ) -> None:
        org = await create_org(sessionmaker, created_at=created_at)
        project = await create_project(client, org)
        settings = (await client.get("/org/project/config", headers=project.headers)).json()
        assert settings["require_mcp_api_key"] is required

    async def test_org_key_is_the_wrong_kind(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        response = await client.get("/org/project/config", headers={"x-api-key": org.api_key})
        assert response.status_code == 401
        assert "x-org-api-key" in response.json()["error"]["suggested_fix"]


class TestUpdate:
    async def test_partial_update_keeps_the_rest(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        changes = {"mask_secret_keys_in_connected_account": False, "log_visibility_setting": "dont_store_data"}
        response = await client.patch("/org/project/config", json=changes, headers=project.headers)
        assert response.status_code == 200
        assert response.json() == DEFAULTS | changes
        assert (await client.get("/org/project/config", headers=project.headers)).json() == DEFAULTS | changes

    async def test_every_field_round_trips(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        changes = {
            "is_2FA_enabled": True,
            "logo_url": "https://cdn.example.com/logo.png",
            "display_name": "Acme Support",
            "mask_secret_keys_in_connected_account": False,
            "log_visibility_setting": "dont_store_data",
            "require_mcp_api_key": False,
            "is_composio_link_enabled_for_managed_auth": True,
            "signed_url_file_expiry_in_seconds": 86400,
            "oauth_callback_verifier_url": "https://verify.example.com/callback",
            "theme": {"primary": "#112233", "mode": "dark"},
        }
        response = await client.patch("/org/project/config", json=changes, headers=project.headers)
        assert response.json() == changes
        assert (await client.get("/org/project/config", headers=project.headers)).json() == changes

    async def test_null_clears_a_nullable_field(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        await client.patch("/org/project/config", json={"display_name": "Acme"}, headers=project.headers)
        response = await client.patch("/org/project/config", json={"display_name": None}, headers=project.headers)
        assert response.json()["display_name"] is None

    async def test_settings_belong_to_the_keys_project_only(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey
    ) -> None:
        sibling = await create_project(client, org)
        await client.patch("/org/project/config", json={"display_name": "Mine"}, headers=project.headers)
        assert (await client.get("/org/project/config", headers=sibling.headers)).json()["display_name"] is None

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"log_visibility_setting": "everything"}, "log_visibility_setting"),
            ({"signed_url_file_expiry_in_seconds": 0}, "signed_url_file_expiry_in_seconds"),
            ({"signed_url_file_expiry_in_seconds": 86401}, "signed_url_file_expiry_in_seconds"),
            ({"logo_url": "http://cdn.example.com/logo.png"}, "logo_url"),
            ({"logo_url": "not a url"}, "logo_url"),
            ({"oauth_callback_verifier_url": "ftp://example.com"}, "oauth_callback_verifier_url"),
            ({"is_2FA_enabled": None}, "is_2FA_enabled"),
            ({"require_mcp_api_key": "sometimes"}, "require_mcp_api_key"),
            ({"display_name": ""}, "display_name"),
            ({"theme": "dark"}, "theme"),
            ({"webhook_url": "https://example.com"}, "webhook_url"),
        ],
    )
    async def test_invalid_values_are_400_naming_the_field(
        self, client: httpx.AsyncClient, project: ProjectWithKey, changes: dict[str, Any], field: str
    ) -> None:
        response = await client.patch("/org/project/config", json=changes, headers=project.headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["slug"] == "Request_ValidationError"
        assert field in error["message"]
        assert (await client.get("/org/project/config", headers=project.headers)).json() == DEFAULTS

    async def test_change_is_seen_by_another_worker(
        self, client: httpx.AsyncClient, other_server, project: ProjectWithKey  # type: ignore[no-untyped-def]
    ) -> None:
        async with httpx.AsyncClient(base_url=f"{other_server.base_url}/api/v3.1") as other:
            assert (await other.get("/org/project/config", headers=project.headers)).json()["display_name"] is None
            await client.patch("/org/project/config", json={"display_name": "Fresh"}, headers=project.headers)
            for _ in range(40):
                if (await other.get("/org/project/config", headers=project.headers)).json()["display_name"] == "Fresh":
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the other worker kept serving the old settings for 2 s")
