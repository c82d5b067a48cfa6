"""The audit log: every control-plane change, in its own transaction, readable with the org key."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.factories import (
    Org,
    ProjectWithKey,
    create_api_key,
    create_auth_config,
    create_member,
    create_project,
)

AUDIT = "/org/owner/audit_log"
EVENT_FIELDS = {
    "id", "action", "org_id", "project_id", "actor_type", "actor_id", "member_id", "target_type", "target_id",
    "request_id", "details", "created_at",
}


async def events(client: httpx.AsyncClient, org: Org, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(AUDIT, params={"limit": 200, **params}, headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def key_id_of(client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> str:
    listed = (await client.get(f"/org/owner/project/{project.id}/api_keys", headers=org.headers)).json()["items"]
    [key] = [item for item in listed if item["key"].endswith(project.api_key[-4:])]
    return str(key["id"])


class TestRecorded:
    async def test_project_lifecycle_with_actor_time_and_request_id(self, client: httpx.AsyncClient, org: Org) -> None:
        before = int(time.time() * 1000) - 1000
        created = await client.post(
            "/org/owner/project/new", json={"name": "audited-project", "should_create_api_key": True},
            headers={**org.headers, "x-request-id": "req-from-the-client-1"},
        )
        project_id = created.json()["id"]
        deleted = await client.delete(f"/org/owner/project/{project_id}", headers=org.headers)
        restored = await client.post(f"/org/owner/project/{project_id}/restore", headers=org.headers)
        assert restored.status_code == 200, restored.text
        trail = await events(client, org, project_id=project_id)
        assert [event["action"] for event in trail] == ["project.restored", "project.deleted", "project.created"]
        newest = trail[0]
        assert set(newest) == EVENT_FIELDS
        assert newest["org_id"] == org.id and newest["project_id"] == project_id
        assert newest["actor_type"] == "org_key" and newest["actor_id"] and newest["member_id"] is None
        assert (newest["target_type"], newest["target_id"]) == ("project", project_id)
        assert trail[2]["request_id"] == "req-from-the-client-1" == created.headers["x-request-id"]
        assert trail[1]["request_id"] == deleted.headers["x-request-id"]
        assert trail[1]["request_id"].startswith("req_")
        assert trail[2]["details"]["name"] == "audited-project"
        assert trail[1]["details"] == {"name": "audited-project", "revoke_on_delete": False, "revoke_job_id": None}
        assert len({event["request_id"] for event in trail}) == 3
        assert await events(client, org, project_id=project_id, **{"from": before, "to": before}) == []

    async def test_keys_created_revoked_regenerated_and_never_their_value(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey
    ) -> None:
        named = await create_api_key(client, org, project.id, name="ci", scopes={"toolkits": "read"})
        await client.delete(f"/org/owner/project/{project.id}/api_keys/{named['id']}", headers=org.headers)
        regenerated = (
            await client.post(
                f"/org/owner/project/{project.id}/regenerate_api_key", params={"grace_period_seconds": 60}, headers=org.headers
            )
        ).json()
        trail = await events(client, org, project_id=project.id, action="api_key.created,api_key.revoked,api_key.regenerated")
        assert [event["action"] for event in trail] == ["api_key.regenerated", "api_key.revoked", "api_key.created"]
        assert trail[2]["target_id"] == trail[1]["target_id"] == named["id"]
        assert trail[2]["details"] == {"name": "ci", "expires_at": None, "scopes": {"toolkits": "read"}}
        assert trail[0]["target_id"] == regenerated["api_key"]["id"]
        assert trail[0]["details"]["grace_period_seconds"] == 60
        assert trail[0]["details"]["replaced_key_ids"] == [await key_id_of(client, org, project)]
        text = (await client.get(AUDIT, headers=org.headers)).text
        for secret in (named["key"], regenerated["api_key"]["key"], project.api_key):
            assert secret not in text and secret[3:] not in text

    async def test_settings_changes_keep_old_and_new_values(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        await client.patch("/org/project/config", json={"display_name": "Acme", "is_2FA_enabled": False}, headers=project.headers)
        await client.patch("/org/project/config", json={"display_name": "Acme"}, headers=project.headers)
        [event] = await events(client, org, project_id=project.id, action="project_settings.updated")
        assert event["details"] == {"changes": {"display_name": {"old": None, "new": "Acme"}}}
        assert event["actor_type"] == "project_key"
        assert event["actor_id"] == await key_id_of(client, org, project)

    async def test_auth_config_changes_name_fields_never_secret_values(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey
    ) -> None:
        auth_config_id = await create_auth_config(
            client, project, "localoauth", type="use_custom_auth", authScheme="OAUTH2",
            credentials={"client_id": "cid", "client_secret": "first-secret-value-xyz"},
        )
        await client.patch(
            f"/auth_configs/{auth_config_id}", json={"type": "custom", "credentials": {"client_secret": "second-secret-value-xyz"}},
            headers=project.headers,
        )
        await client.patch(f"/auth_configs/{auth_config_id}/DISABLED", headers=project.headers)
        await client.patch(f"/auth_configs/{auth_config_id}/ENABLED", headers=project.headers)
        await client.delete(f"/auth_configs/{auth_config_id}", headers=project.headers)
        trail = await events(client, org, target_id=auth_config_id)
        assert [event["action"] for event in trail] == [
            "auth_config.deleted", "auth_config.enabled", "auth_config.disabled", "auth_config.updated", "auth_config.created",
        ]
        assert trail[3]["details"] == {"fields": ["credentials"]}
        assert all(event["project_id"] == project.id for event in trail)
        text = (await client.get(AUDIT, params={"target_id": auth_config_id}, headers=org.headers)).text
        assert "secret-value-xyz" not in text


    async def test_webhook_subscription_changes_never_their_url_token_or_secret(
        self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey
    ) -> None:
        created = await client.post(
            "/webhook_subscriptions",
            json={"webhook_url": "http://127.0.0.1:9/hook?token=url-token-value-xyz", "enabled_events": []},
            headers=project.headers,
        )
        assert created.status_code == 201, created.text
        subscription_id = created.json()["id"]
        await client.patch(f"/webhook_subscriptions/{subscription_id}", json={"enabled": False}, headers=project.headers)
        rotated = (await client.post(f"/webhook_subscriptions/{subscription_id}/rotate_secret", headers=project.headers)).json()
        await client.delete(f"/webhook_subscriptions/{subscription_id}", headers=project.headers)
        trail = await events(client, org, target_id=subscription_id)
        assert [event["action"] for event in trail] == [
            "webhook_subscription.deleted",
            "webhook_subscription.secret_rotated",
            "webhook_subscription.updated",
            "webhook_subscription.created",
        ]
        assert trail[3]["details"]["webhook_host"] == "127.0.0.1"
        assert trail[2]["details"] == {"fields": ["enabled"]}
        text = (await client.get(AUDIT, params={"target_id": subscription_id}, headers=org.headers)).text
        for secret in ("url-token-value-xyz", created.json()["secret"], rotated["secret"]):
            assert secret not in text


class TestSameTransaction:
    async def test_a_refused_change_leaves_no_event(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        taken = await client.post("/org/owner/project/new", json={"name": project.name}, headers=org.headers)
        assert taken.status_code == 409
        invalid = await client.patch("/org/project/config", json={"signed_url_file_expiry_in_seconds": 0}, headers=project.headers)
        assert invalid.status_code == 400
        actions = [event["action"] for event in await events(client, org)]
        assert actions == ["project.created"]


class TestReading:
    async def test_pages_follow_the_cursor_newest_first(self, client: httpx.AsyncClient, org: Org) -> None:
        created = [(await create_project(client, org, should_create_api_key=False)).id for _ in range(5)]
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            body = (await client.get(AUDIT, params=params, headers=org.headers)).json()
            assert set(body) == {"items", "next_cursor"}
            seen += [event["project_id"] for event in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == created[::-1]

    async def test_another_organizations_events_are_invisible(self, client: httpx.AsyncClient, org: Org, other_org: Org) -> None:
        theirs = await create_project(client, other_org)
        assert await events(client, org) == []
        assert await events(client, org, project_id=theirs.id) == []
        assert len(await events(client, other_org)) == 1

    async def test_a_project_key_cannot_read_it(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        assert (await client.get(AUDIT, headers=project.headers)).status_code == 401

    async def test_admins_read_it_developers_do_not(self, client: httpx.AsyncClient, sessionmaker: Any, org: Org) -> None:
        admin = await create_member(sessionmaker, org, role="admin")
        developer = await create_member(sessionmaker, org, role="developer")
        assert (await client.get(AUDIT, headers=admin.headers)).status_code == 200
        refused = await client.get(AUDIT, headers=developer.headers)
        assert refused.status_code == 403 and refused.json()["error"]["slug"] == "Auth_RoleForbidden"

    @pytest.mark.parametrize(("param", "value"), [("limit", "0"), ("limit", "201"), ("from", "-1"), ("cursor", "nonsense")])
    async def test_bad_parameters_are_400(self, client: httpx.AsyncClient, org: Org, param: str, value: str) -> None:
        response = await client.get(AUDIT, params={param: value}, headers=org.headers)
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0].startswith(f"{param}:")
