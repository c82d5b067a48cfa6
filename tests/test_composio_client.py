"""Composio's own Python client (`composio-client`), pointed at a live Tenantry by its base URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from composio_client import AsyncComposio, NotFoundError
from pydantic import BaseModel

from tests.factories import ProjectWithKey
from tests.fixtures.server import Server


def assert_complete(model: Any, where: str = "response") -> None:
    """Every field the client's model requires came back (its parser would silently leave it None)."""
    if isinstance(model, list):
        for index, item in enumerate(model):
            assert_complete(item, f"{where}[{index}]")
        return
    if not isinstance(model, BaseModel):
        return
    for name, field in type(model).model_fields.items():
        if field.is_required():
            assert name in model.model_fields_set, f"{where}.{name} is missing"
        if name in model.model_fields_set:
            assert_complete(getattr(model, name), f"{where}.{name}")


@pytest.fixture
async def composio(server: Server, project: ProjectWithKey) -> AsyncIterator[AsyncComposio]:
    async with AsyncComposio(api_key=project.api_key, base_url=server.base_url, max_retries=0) as client:
        yield client


class TestAuthConfigs:
    async def test_every_call(self, composio: AsyncComposio) -> None:
        created = await composio.auth_configs.create(
            toolkit={"slug": "github"},
            auth_config={
                "type": "use_custom_auth",
                "auth_scheme": "OAUTH2",
                "name": "GitHub via client",
                "credentials": {"client_id": "Iv1.client", "client_secret": "client-secret-value", "scopes": ["repo"]},
            },
        )
        assert_complete(created)
        auth_config_id = created.auth_config.id

        listed = await composio.auth_configs.list(toolkit_slug="github")
        assert_complete(listed)
        assert [item.id for item in listed.items] == [auth_config_id]

        retrieved = await composio.auth_configs.retrieve(auth_config_id)
        assert_complete(retrieved)
        assert retrieved.name == "GitHub via client" and retrieved.credentials["client_secret"] == "clie..."

        await composio.auth_configs.update(auth_config_id, type="custom", credentials={"client_secret": "rotated-secret"})
        await composio.auth_configs.update_status("DISABLED", nanoid=auth_config_id)
        assert (await composio.auth_configs.retrieve(auth_config_id)).status == "DISABLED"
        await composio.auth_configs.update_status("ENABLED", nanoid=auth_config_id)

        deleted = await composio.auth_configs.delete(auth_config_id)
        assert_complete(deleted)
        with pytest.raises(NotFoundError):
            await composio.auth_configs.retrieve(auth_config_id)


class TestConnectedAccounts:
    async def test_every_call(self, composio: AsyncComposio) -> None:
        auth_config = await composio.auth_configs.create(
            toolkit={"slug": "stripe"}, auth_config={"type": "use_custom_auth", "auth_scheme": "API_KEY"}
        )
        created = await composio.connected_accounts.create(
            auth_config={"id": auth_config.auth_config.id},
            connection={"user_id": "client-user", "state": {"authScheme": "API_KEY", "val": {"status": "ACTIVE", "api_key": "sk_test_client_1"}}},
        )
        assert_complete(created)
        assert created.status == "ACTIVE"

        listed = await composio.connected_accounts.list(user_ids=["client-user", "nobody"], statuses=["ACTIVE", "EXPIRED"], toolkit_slugs=["stripe"])
        assert_complete(listed)
        assert [item.id for item in listed.items] == [created.id]

        retrieved = await composio.connected_accounts.retrieve(created.id)
        assert_complete(retrieved)
        assert retrieved.state.auth_scheme == "API_KEY" and retrieved.state.val.status == "ACTIVE"

        updated = await composio.connected_accounts.update_status(created.id, enabled=False)
        assert_complete(updated)
        assert (await composio.connected_accounts.retrieve(created.id)).status == "INACTIVE"

        deleted = await composio.connected_accounts.delete(created.id)
        assert_complete(deleted)
        assert (await composio.connected_accounts.list(user_ids=["client-user"])).items == []

    async def test_oauth_initiation_reads_as_the_sdk_reads_it(self, composio: AsyncComposio) -> None:
        auth_config = await composio.auth_configs.create(
            toolkit={"slug": "localoauth"},
            auth_config={"type": "use_custom_auth", "auth_scheme": "OAUTH2", "credentials": {"client_id": "c", "client_secret": "s3cret-value"}},
        )
        created = await composio.connected_accounts.create(auth_config={"id": auth_config.auth_config.id}, connection={"user_id": "u"})
        # composio's SDK reads exactly these two attributes after initiating (reference §3.2).
        assert created.connection_data.val.status == "INITIATED"
        assert created.connection_data.val.redirect_url.startswith("http://127.0.0.1:")
