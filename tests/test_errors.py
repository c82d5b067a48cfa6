"""Every non-2xx body is Composio's error envelope, framework errors included."""

from __future__ import annotations

import httpx

from tests.factories import Org


def assert_envelope(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert {"message", "code", "slug", "status", "request_id"} <= set(error)
    assert error["status"] == status and isinstance(error["code"], int)
    assert error["request_id"] == response.headers["x-request-id"]
    return error


class TestEnvelope:
    async def test_unknown_route(self, client: httpx.AsyncClient) -> None:
        assert_envelope(await client.get("/no/such/route"), 404)

    async def test_wrong_method(self, client: httpx.AsyncClient, org: Org) -> None:
        assert_envelope(await client.put("/org/owner/project/new", headers=org.headers), 405)

    async def test_body_that_is_not_json(self, client: httpx.AsyncClient, org: Org) -> None:
        response = await client.post(
            "/org/owner/project/new",
            content=b"{not json",
            headers={**org.headers, "content-type": "application/json"},
        )
        error = assert_envelope(response, 400)
        assert error["errors"] == ["body: is not valid JSON"]

    async def test_missing_body(self, client: httpx.AsyncClient, org: Org) -> None:
        error = assert_envelope(await client.post("/org/owner/project/new", headers=org.headers), 400)
        assert "body" in str(error["message"])

    async def test_callers_request_id_is_echoed(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/org/project/config", headers={"x-request-id": "trace-123"})
        assert assert_envelope(response, 401)["request_id"] == "trace-123"

    async def test_openapi_documents_the_routes_and_the_envelope(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/../../openapi.json")).json()
        assert "/api/v3.1/org/owner/project/new" in document["paths"]
        create = document["paths"]["/api/v3.1/org/owner/project/new"]["post"]
        assert {"400", "401", "409"} <= set(create["responses"])
        assert "ErrorEnvelope" in document["components"]["schemas"]
