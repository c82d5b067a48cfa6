"""Every execution leaves a log; with dont_store_data, only its audit fields; old logs are deleted."""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tenantry.db import unit_of_work
from tenantry.kit.time import utcnow
from tenantry.logs import service as logs
from tenantry.models import ToolExecutionLog, UsageEvent
from tests.factories import ProjectWithKey, create_org, create_project, without_request_id
from tests.fixtures.server import Server
from tests.tools.helpers import connect, execute
from tests.vault.raw import stored_bytes


async def search(client: httpx.AsyncClient, project: ProjectWithKey, **body: object) -> httpx.Response:
    return await client.post("/logs/tool_execution", json=body, headers=project.headers)


class TestWhatALogHolds:
    async def test_audit_fields_payload_and_timings(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        account = await connect(client, project, "localbearer")
        marker = f"log-{secrets.token_hex(4)}"
        executed = (await execute(client, project, "LOCALBEARER_GET_ITEM", {"item": marker}, connected_account_id=account.id,
                                  headers={"x-request-id": f"req-{marker}"})).json()
        detail = (await client.get(f"/logs/tool_execution/{executed['log_id']}", headers=project.headers)).json()
        assert detail["id"] == executed["log_id"] and detail["type"] == "tool.execution"
        assert detail["status"] == "success" and detail["level"] == "info"
        assert detail["message"] == "LOCALBEARER_GET_ITEM succeeded"
        assert detail["metadata"]["connected_account_id"] == account.id and detail["metadata"]["user_id"] == account.user_id
        assert detail["metadata"]["toolkit_slug"] == "localbearer" and detail["metadata"]["http_status"] == 200
        assert detail["timings"]["end_time"] - detail["timings"]["start_time"] == detail["metrics"]["duration_ms"]
        assert detail["source"]["host"] == "api" and detail["context"]["request_id"] == f"req-{marker}"
        assert detail["data"]["request"]["arguments"] == {"item": marker}
        assert detail["data"]["response"]["data"]["echo"]["path"].endswith(marker)
        assert account.secrets[0] not in str(detail)

    async def test_a_failed_execution_is_an_error_log(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        account = await connect(client, project, "localbearer")
        executed = (await execute(client, project, "LOCALBEARER_FAIL", {"code": 500}, connected_account_id=account.id)).json()
        detail = (await client.get(f"/logs/tool_execution/{executed['log_id']}", headers=project.headers)).json()
        assert detail["status"] == "failed" and detail["level"] == "error"
        assert detail["message"] == "LOCALBEARER_FAIL failed: The API answered HTTP 500: the API failed with 500"

    async def test_another_projects_log_is_a_404_like_a_missing_one(
        self, client: httpx.AsyncClient, project: ProjectWithKey, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        executed = (await execute(client, project, "LOCALNOAUTH_LIST")).json()
        intruder = await create_project(client, await create_org(sessionmaker))
        stolen = await client.get(f"/logs/tool_execution/{executed['log_id']}", headers=intruder.headers)
        missing = await client.get("/logs/tool_execution/log_000000000000", headers=intruder.headers)
        assert stolen.status_code == missing.status_code == 404
        assert without_request_id(stolen.json()) == without_request_id(missing.json())
        assert executed["log_id"] not in (await search(client, intruder)).text


class TestSearch:
    async def test_filters_time_range_and_cursor(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        account = await connect(client, project, "localbearer")
        ids = []
        for code in (200, 404, 200, 500, 200):
            tool, arguments = ("LOCALBEARER_FAIL", {"code": code}) if code != 200 else ("LOCALBEARER_GET_ITEM", {"item": "x"})
            ids.append((await execute(client, project, tool, arguments, connected_account_id=account.id)).json()["log_id"])
        await execute(client, project, "LOCALNOAUTH_LIST")

        failed = (await search(client, project, filters=[{"field": "status", "operator": "==", "value": "failed"}])).json()
        assert [log["id"] for log in failed["logs"]] == [ids[3], ids[1]] and failed["next_cursor"] is None

        by_account = [{"field": "connected_account_id", "operator": "==", "value": account.id}]
        first = (await search(client, project, filters=by_account, limit=2)).json()
        second = (await search(client, project, filters=by_account, limit=2, cursor=first["next_cursor"])).json()
        third = (await search(client, project, filters=by_account, limit=2, cursor=second["next_cursor"])).json()
        assert [log["id"] for page in (first, second, third) for log in page["logs"]] == ids[::-1]
        assert third["next_cursor"] is None

        not_bearer = (await search(client, project, filters=[{"field": "tool_slug", "operator": "not_contains", "value": "bearer"}])).json()
        assert [log["metadata"]["tool_slug"] for log in not_bearer["logs"]] == ["LOCALNOAUTH_LIST"]

        now_ms = int(utcnow().timestamp() * 1000)
        future = (await search(client, project, time_range={"from": now_ms + 60_000, "to": now_ms + 120_000})).json()
        assert future["logs"] == []

    async def test_bad_searches_name_the_field(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        unknown = await search(client, project, filters=[{"field": "secret", "operator": "==", "value": "x"}])
        assert unknown.status_code == 400 and unknown.json()["error"]["errors"][0].startswith("filters.0.field")
        backwards = await search(client, project, time_range={"from": 2000, "to": 1000})
        assert backwards.status_code == 400 and backwards.json()["error"]["errors"] == ["time_range.from: must be before time_range.to"]
        too_many = await search(client, project, limit=101)
        assert too_many.status_code == 400


class TestDontStoreData:
    async def test_neither_arguments_nor_response_reach_the_database(
        self, client: httpx.AsyncClient, project: ProjectWithKey, sessionmaker: async_sessionmaker[AsyncSession],
        database_url: str, server: Server,
    ) -> None:
        await client.patch("/org/project/config", json={"log_visibility_setting": "dont_store_data"}, headers=project.headers)
        account = await connect(client, project, "localbearer")
        argument = f"arg-{secrets.token_hex(8)}"
        note = f"note-{secrets.token_hex(8)}"
        executed = (await execute(client, project, "LOCALBEARER_CREATE_ITEM", {"item": argument, "note": note},
                                  connected_account_id=account.id)).json()
        failed = (await execute(client, project, "LOCALBEARER_FAIL", {"code": 418}, connected_account_id=account.id)).json()
        proxied = await client.post("/tools/execute/proxy", headers=project.headers, json={
            "endpoint": f"/echo/{argument}-proxy", "method": "POST", "connected_account_id": account.id, "body": {"note": note}})
        assert executed["successful"] and executed["data"]["echo"]["body"] == {"note": note} and proxied.status_code == 200
        # The response said "the API failed with 418"; the stored message may only say the status.
        raw = await stored_bytes(sessionmaker, database_url)
        for value in (argument, note, "the API failed with 418"):
            assert value.encode() not in raw, f"{value} was stored"
            assert value not in server.log()

        detail = (await client.get(f"/logs/tool_execution/{executed['log_id']}", headers=project.headers)).json()
        assert detail["data"] == {} and detail["metadata"]["data_stored"] is False
        assert detail["metadata"]["connected_account_id"] == account.id and detail["metadata"]["tool_slug"] == "LOCALBEARER_CREATE_ITEM"
        failure = (await client.get(f"/logs/tool_execution/{failed['log_id']}", headers=project.headers)).json()
        assert failure["message"] == "LOCALBEARER_FAIL failed: The API answered HTTP 418" and failure["status"] == "failed"

        # Switching back stores from then on, and brings nothing back.
        await client.patch("/org/project/config", json={"log_visibility_setting": "show_all"}, headers=project.headers)
        again = (await client.get(f"/logs/tool_execution/{executed['log_id']}", headers=project.headers)).json()
        assert again["data"] == {}
        later = (await execute(client, project, "LOCALBEARER_GET_ITEM", {"item": argument}, connected_account_id=account.id)).json()
        stored = (await client.get(f"/logs/tool_execution/{later['log_id']}", headers=project.headers)).json()
        assert stored["data"]["request"]["arguments"] == {"item": argument}

    async def test_the_database_decides_even_when_a_workers_cache_is_stale(
        self, client: httpx.AsyncClient, project: ProjectWithKey, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        from tenantry.logs.repository import Entry

        # A change committed elsewhere that this writer has not heard of: the insert reads it.
        await client.patch("/org/project/config", json={"log_visibility_setting": "dont_store_data"}, headers=project.headers)
        log_id = logs.new_log_id()
        async with unit_of_work(sessionmaker) as session:
            await logs.record(session, Entry(
                log_id=log_id, project_id=project.id, kind="tool", tool_slug="T", toolkit_slug="t",
                connected_account_id=None, auth_config_id=None, user_id=None, session_id=None, request_id=None,
                started_at=utcnow(), duration_ms=1, status="failed", message="T failed: secret detail",
                private_message="T failed", http_status=500, source="api", payload={"request": {"arguments": {"a": 1}}},
            ))
        async with unit_of_work(sessionmaker) as session:
            row = await session.get(ToolExecutionLog, log_id)
            assert row is not None and row.payload is None and row.message == "T failed"
            metered = await session.scalar(select(func.count()).select_from(UsageEvent).where(UsageEvent.log_id == log_id))
            assert metered == 1


class TestRetention:
    async def test_logs_past_retention_are_deleted_and_usage_kept(
        self, client: httpx.AsyncClient, project: ProjectWithKey, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        old = (await execute(client, project, "LOCALNOAUTH_LIST")).json()["log_id"]
        recent = (await execute(client, project, "LOCALNOAUTH_LIST")).json()["log_id"]
        # Reading a log writes the server's queued ones, so both rows are there to age.
        assert (await client.get(f"/logs/tool_execution/{old}", headers=project.headers)).status_code == 200
        async with unit_of_work(sessionmaker) as session:
            await session.execute(update(ToolExecutionLog).where(ToolExecutionLog.id == old).values(created_at=utcnow() - timedelta(days=366)))
        assert await logs.delete_expired(sessionmaker, retention_days=365) >= 1
        assert (await client.get(f"/logs/tool_execution/{old}", headers=project.headers)).status_code == 404
        assert (await client.get(f"/logs/tool_execution/{recent}", headers=project.headers)).status_code == 200
        async with unit_of_work(sessionmaker) as session:
            assert await session.scalar(select(func.count()).select_from(UsageEvent).where(UsageEvent.log_id == old)) == 1
