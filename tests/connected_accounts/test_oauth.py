"""OAuth2 for real, against the loopback provider: initiate, consent, callback, refresh, expiry; and link pages."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.auth.principal import capability_principal
from tenantry.connected_accounts import service
from tenantry.connected_accounts.repository import ConnectedAccountRepository
from tenantry.db import unit_of_work
from tenantry.kit.time import utcnow
from tenantry.models import ConnectedAccount
from tests.factories import ProjectWithKey, create_auth_config
from tests.fixtures.oauth_provider import CLIENT_ID, CLIENT_SECRET, Provider

CALLBACK = "https://app.example.com/after-connect"


@pytest.fixture
async def oauth_config(client: httpx.AsyncClient, project: ProjectWithKey) -> str:
    return await create_auth_config(
        client, project, "localoauth", type="use_custom_auth", authScheme="OAUTH2",
        credentials={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )


async def initiate(client: httpx.AsyncClient, project: ProjectWithKey, auth_config_id: str) -> dict[str, object]:
    body = {"auth_config": {"id": auth_config_id}, "connection": {"user_id": "enduser", "callback_url": CALLBACK}}
    response = await client.post("/connected_accounts", json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def consent(redirect_url: str) -> httpx.Response:
    """What the end user's browser does: visit the provider, follow it back to our callback."""
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(redirect_url)
        assert at_provider.status_code in (302, 307), at_provider.text
        return await browser.get(at_provider.headers["location"])


async def unmask(client: httpx.AsyncClient, project: ProjectWithKey) -> None:
    await client.patch("/org/project/config", json={"mask_secret_keys_in_connected_account": False}, headers=project.headers)


class TestAuthorizationCode:
    async def test_initiation_points_at_the_provider_with_state_and_pkce(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_config: str, oauth_provider: Provider
    ) -> None:
        created = await initiate(client, project, oauth_config)
        assert created["status"] == "INITIATED"
        val = created["connectionData"]["val"]  # type: ignore[index]
        assert val["status"] == "INITIATED" and created["redirect_url"] == val["redirectUrl"]
        url = urlsplit(val["redirectUrl"])
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{oauth_provider.base_url}/authorize"
        assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
        assert query["scope"] == "read write" and len(query["state"]) >= 32
        assert query["code_challenge_method"] == "S256" and query["code_challenge"]
        assert query["redirect_uri"].endswith("/api/v3.1/toolkits/auth/callback")
        assert "code_verifier" not in str(created)

    async def test_the_whole_flow_ends_active_and_back_at_the_callback_url(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_config: str, oauth_provider: Provider
    ) -> None:
        created = await initiate(client, project, oauth_config)
        landed = await consent(str(created["redirect_url"]))
        assert landed.status_code == 303
        back = urlsplit(landed.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
        assert parse_qs(back.query) == {"status": ["success"], "connected_account_id": [created["id"]]}

        detail = (await client.get(f"/connected_accounts/{created['id']}", headers=project.headers)).json()
        assert detail["status"] == "ACTIVE" and detail["state"]["val"]["access_token"].endswith("...")
        await unmask(client, project)
        detail = (await client.get(f"/connected_accounts/{created['id']}", headers=project.headers)).json()
        assert detail["state"]["val"]["access_token"] == oauth_provider.issued_access_tokens[-1]
        assert detail["state"]["val"]["token_type"] == "Bearer"
        assert "redirectUrl" not in detail["state"]["val"]

    async def test_a_state_works_once(self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_config: str) -> None:
        created = await initiate(client, project, oauth_config)
        async with httpx.AsyncClient() as browser:
            callback = (await browser.get(str(created["redirect_url"]))).headers["location"]
            assert (await browser.get(callback)).status_code == 303
            replay = await browser.get(callback)
        assert replay.status_code == 400 and "already used" in replay.text

    async def test_provider_refusal_fails_the_account(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_config: str, server
    ) -> None:  # type: ignore[no-untyped-def]
        created = await initiate(client, project, oauth_config)
        state = parse_qs(urlsplit(str(created["redirect_url"])).query)["state"][0]
        async with httpx.AsyncClient() as browser:
            landed = await browser.get(f"{server.base_url}/api/v3.1/toolkits/auth/callback", params={"state": state, "error": "access_denied"})
        assert parse_qs(urlsplit(landed.headers["location"]).query)["status"] == ["failed"]
        detail = (await client.get(f"/connected_accounts/{created['id']}", headers=project.headers)).json()
        assert detail["status"] == "FAILED" and "refused" in detail["status_reason"]

    async def test_unfinished_initiations_expire_after_ten_minutes(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_config: str, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        late, swept = await initiate(client, project, oauth_config), await initiate(client, project, oauth_config)
        async with unit_of_work(sessionmaker) as session:
            await session.execute(
                update(ConnectedAccount)
                .where(ConnectedAccount.id.in_([late["id"], swept["id"]]))
                .values(initiation_expires_at=utcnow() - timedelta(seconds=1))
            )
        landed = await consent(str(late["redirect_url"]))
        assert parse_qs(urlsplit(landed.headers["location"]).query)["error"] == ["expired"]
        assert await service.fail_stale_initiations(sessionmaker) >= 1
        for created in (late, swept):
            detail = (await client.get(f"/connected_accounts/{created['id']}", headers=project.headers)).json()
            assert detail["status"] == "FAILED"
            assert detail["status_reason"] == "Connection initiation did not complete within 10 minutes"

    async def test_managed_app(self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_provider: Provider) -> None:
        auth_config_id = await create_auth_config(client, project, "localmanaged", type="use_composio_managed_auth")
        created = await initiate(client, project, auth_config_id)
        assert (await consent(str(created["redirect_url"]))).status_code == 303
        assert (await client.get(f"/connected_accounts/{created['id']}", headers=project.headers)).json()["status"] == "ACTIVE"


class TestRefresh:
    async def _active(self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_config: str, provider: Provider) -> str:
        provider.access_token_lifetime = 30  # inside the refresh margin: every use refreshes
        try:
            created = await initiate(client, project, oauth_config)
            await consent(str(created["redirect_url"]))
        finally:
            provider.access_token_lifetime = 3600
        return str(created["id"])

    async def test_an_expired_access_token_is_refreshed_before_use(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_config: str, oauth_provider: Provider,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        account_id = await self._active(client, project, oauth_config, oauth_provider)
        first_token = oauth_provider.issued_access_tokens[-1]
        async with unit_of_work(sessionmaker) as session:
            principal = capability_principal(project.id)
            loaded = await ConnectedAccountRepository(session, principal).get(account_id, for_update=True)
            assert loaded is not None
            account, credentials = await service.credentials_for_use(session, principal, loaded)
        assert credentials is not None and credentials["access_token"] != first_token
        assert credentials["access_token"] == oauth_provider.issued_access_tokens[-1]
        await unmask(client, project)
        detail = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()
        assert detail["state"]["val"]["access_token"] == credentials["access_token"]

    async def test_a_rejected_refresh_expires_the_account(
        self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_config: str, oauth_provider: Provider,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        account_id = await self._active(client, project, oauth_config, oauth_provider)
        oauth_provider.revoke_refresh_tokens()
        async with unit_of_work(sessionmaker) as session:
            principal = capability_principal(project.id)
            loaded = await ConnectedAccountRepository(session, principal).get(account_id, for_update=True)
            assert loaded is not None
            account, credentials = await service.credentials_for_use(session, principal, loaded)
        assert credentials is None
        detail = (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()
        assert detail["status"] == "EXPIRED"
        assert detail["status_reason"].startswith("Permanent auth error during token refresh")
        assert "expired_at" in detail["state"]["val"]


class TestLinkPages:
    async def test_api_key_form(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        response = await client.post(
            "/connected_accounts/link", json={"auth_config_id": auth_config_id, "user_id": "u-9", "callback_url": CALLBACK}, headers=project.headers
        )
        assert response.status_code == 201
        link = response.json()
        assert link["link_token"].startswith("lt_") and link["redirect_url"].endswith(link["link_token"])
        async with httpx.AsyncClient() as browser:
            page = await browser.get(link["redirect_url"])
            assert page.status_code == 200 and 'name="api_key"' in page.text and 'type="password"' in page.text
            assert page.headers["cache-control"] == "no-store"
            empty = await browser.post(link["redirect_url"], data={"api_key": ""})
            assert empty.status_code == 400 and "Please fill in" in empty.text
            done = await browser.post(link["redirect_url"], data={"api_key": "sk_live_linkpage1"})
            assert done.status_code == 303
            assert parse_qs(urlsplit(done.headers["location"]).query)["connected_account_id"] == [link["connected_account_id"]]
            again = await browser.get(link["redirect_url"])
            assert again.status_code == 400
        detail = (await client.get(f"/connected_accounts/{link['connected_account_id']}", headers=project.headers)).json()
        assert detail["status"] == "ACTIVE" and detail["user_id"] == "u-9" and detail["state"]["val"]["api_key"] == "sk_l..."

    async def test_oauth_link_goes_through_the_provider(self, client: httpx.AsyncClient, project: ProjectWithKey, oauth_config: str) -> None:
        response = await client.post("/connected_accounts/link", json={"auth_config_id": oauth_config, "user_id": "u-1"}, headers=project.headers)
        link = response.json()
        async with httpx.AsyncClient() as browser:
            to_provider = await browser.get(link["redirect_url"])
            assert to_provider.status_code == 303
            landed = await consent(to_provider.headers["location"])
        assert landed.status_code == 200 and "Connected" in landed.text
        assert (await client.get(f"/connected_accounts/{link['connected_account_id']}", headers=project.headers)).json()["status"] == "ACTIVE"
