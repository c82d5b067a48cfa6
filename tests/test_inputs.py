"""Client input is held to tenantry.kit.inputs at the edge: no NUL character in any text, and JSON
bodies typed strictly.

The walk over the route table is what keeps it so: a string field or parameter added anywhere
without `NoNul`, or a body schema that is not a `RequestBody`, fails it. The other tests prove over
real HTTP, on both databases, that such a value answers 400 naming the field and stores nothing.
"""

from __future__ import annotations

import datetime
import enum
import functools
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, StringConstraints
from pydantic.fields import FieldInfo

from tenantry.kit import inputs
from tenantry.main import create_app
from tests.factories import Org, ProjectWithKey, create_api_key_account, create_auth_config
from tests.mcp.helpers import INITIALIZE, MCP_HEADERS

# Types whose values cannot carry text.
_SCALARS = (bool, int, float, datetime.datetime, datetime.date, AwareDatetime, type(None))
_CONSTRAINTS = (FieldInfo, StringConstraints, annotated_types.BaseMetadata)


def _problems(annotation: Any, where: str, *, checked: bool, seen: set[type]) -> Iterator[str]:
    """Where in `annotation` text could arrive without passing `NoNul` (`checked`: an outer one covers it)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        if any(item is inputs.NoNul for item in metadata):
            last = max(index for index, item in enumerate(metadata) if item is inputs.NoNul)
            if any(isinstance(item, _CONSTRAINTS) for item in metadata[last + 1 :]):
                yield f"{where}: constraints after NoNul (they would lose their own messages)"
            checked = True
        yield from _problems(base, where, checked=checked, seen=seen)
    elif origin in (Union, types.UnionType):
        for choice in get_args(annotation):
            yield from _problems(choice, where, checked=checked, seen=seen)
    elif origin in (list, set, frozenset, tuple, Sequence):
        for item in get_args(annotation):
            yield from _problems(item, f"{where}[]", checked=checked, seen=seen)
    elif origin in (dict, Mapping):
        key, value = get_args(annotation)
        yield from _problems(key, f"{where} (keys)", checked=checked, seen=seen)
        yield from _problems(value, f"{where}{{}}", checked=checked, seen=seen)
    elif origin is Literal or annotation in _SCALARS or (isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
        return
    elif annotation is str or annotation is Any:
        if not checked:
            yield f"{where}: {getattr(annotation, '__name__', annotation)} without NoNul"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        # NoNul does not look into a model: its fields must check themselves.
        yield from _model_problems(annotation, where, seen)
    else:
        yield f"{where}: {annotation!r} is a type this walk does not know; teach it"


def _model_problems(model: type[BaseModel], where: str, seen: set[type]) -> Iterator[str]:
    if model in seen:
        return
    seen.add(model)
    if not issubclass(model, inputs.RequestBody):
        yield f"{where}: {model.__name__} is not a RequestBody (strict types, checked extra fields)"
    for name, field in model.model_fields.items():
        yield from _field_problems(field, f"{where}.{field.alias or name}", seen)
    if model.model_config.get("extra") == "allow":
        # The values of fields a schema does not name; RequestBody checks their names itself.
        _, value = get_args(typing.get_type_hints(model, include_extras=True)["__pydantic_extra__"])
        yield from _problems(value, f"{where}.<extra>", checked=False, seen=seen)


def _field_problems(field: FieldInfo, where: str, seen: set[type]) -> Iterator[str]:
    annotation = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    yield from _problems(annotation, where, checked=False, seen=seen)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def _api_routes(routes: Sequence[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            # FastAPI keeps some included routers (the dashboard's, with their own route class) whole.
            yield from _api_routes(route.original_router.routes)


@functools.cache
def _routes() -> list[APIRoute]:
    return list(_api_routes(_APP.routes))


# One app for the module: its routes are views that do not outlive it.
_APP = create_app()


def _route_problems(route: APIRoute) -> Iterator[str]:
    label = f"{sorted(route.methods)} {route.path}"
    seen: set[type] = set()
    for dependant in _dependants(route.dependant):
        for kind in ("path", "query", "header", "cookie"):
            for param in getattr(dependant, f"{kind}_params"):
                yield from _field_problems(param.field_info, f"{label} {kind} {param.alias}", seen)
        for param in dependant.body_params:
            yield from _field_problems(param.field_info, f"{label} body", seen)


class TestEveryInputIsChecked:
    def test_the_walk_sees_the_routes(self) -> None:
        # Paths as their routers name them: an included router's prefix may not be part of them.
        paths = {route.path for route in _routes()}
        for wanted in ("/auth_configs", "/connected_accounts/{nanoid}/status", "/dashboard/orgs/{org_id}/members"):
            assert any(path.endswith(wanted) for path in paths), wanted

    @pytest.mark.parametrize("route", _routes(), ids=lambda route: f"{'|'.join(sorted(route.methods))} {route.path}")
    def test_text_passes_no_nul_and_bodies_are_strict(self, route: APIRoute) -> None:
        assert list(_route_problems(route)) == []

    @pytest.mark.parametrize(
        ("annotation", "problem"),
        [
            (str, "x: str without NoNul"),
            (list[str], "x[]: str without NoNul"),
            (dict[str, Any], "x (keys): str without NoNul"),
            (Annotated[str, inputs.NoNul, StringConstraints(max_length=3)], "x: constraints after NoNul"),
        ],
    )
    def test_the_walk_finds_an_unchecked_string(self, annotation: Any, problem: str) -> None:
        assert any(found.startswith(problem) for found in _problems(annotation, "x", checked=False, seen=set()))

    def test_the_walk_finds_a_lax_body(self) -> None:
        class Lax(BaseModel):
            count: int

        assert list(_model_problems(Lax, "body", set())) == ["body: Lax is not a RequestBody (strict types, checked extra fields)"]


NUL_REFUSED = "must not contain the NUL character (U+0000)"


def assert_refused(response: httpx.Response, field: str, problem: str = NUL_REFUSED) -> None:
    """A 400 in the envelope whose errors name `field` and say what is wrong with it."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["slug"] == "Request_ValidationError"
    assert any(item.startswith(f"{field}: ") and problem in item for item in error["errors"]), error["errors"]


class TestNulInABody:
    async def test_auth_config_name(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        body = {"toolkit": {"slug": "stripe"}, "auth_config": {"type": "use_composio_managed_auth", "name": "Stripe\u0000"}}
        assert_refused(await client.post("/auth_configs", json=body, headers=project.headers), "auth_config.use_composio_managed_auth.name")
        assert (await client.get("/auth_configs", headers=project.headers)).json()["items"] == []

    async def test_a_credential_field_name(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        body = {
            "toolkit": {"slug": "stripe"},
            "auth_config": {"type": "use_custom_auth", "authScheme": "API_KEY", "credentials": {"api\u0000key": "x"}},
        }
        response = await client.post("/auth_configs", json=body, headers=project.headers)
        assert_refused(response, "auth_config.use_custom_auth.credentials", f"{NUL_REFUSED} (in a field name)")
        assert (await client.get("/auth_configs", headers=project.headers)).json()["items"] == []

    async def test_connected_account_user_id(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        state = {"authScheme": "API_KEY", "val": {"api_key": "sk_live_abcdefgh"}}
        body = {"auth_config": {"id": auth_config_id}, "connection": {"user_id": "user\u00001", "state": state}}
        assert_refused(await client.post("/connected_accounts", json=body, headers=project.headers), "connection.user_id")
        assert (await client.get("/connected_accounts", headers=project.headers)).json()["items"] == []

    async def test_a_credential_value(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        state = {"authScheme": "API_KEY", "val": {"api_key": "sk_live_\u0000"}}
        body = {"auth_config": {"id": auth_config_id}, "connection": {"user_id": "user-1", "state": state}}
        assert_refused(await client.post("/connected_accounts", json=body, headers=project.headers), "connection.state.val", f"{NUL_REFUSED} (at api_key)")
        assert (await client.get("/connected_accounts", headers=project.headers)).json()["items"] == []

    @pytest.mark.parametrize(
        ("changes", "field", "problem"),
        [
            ({"display_name": "Acme\u0000"}, "display_name", NUL_REFUSED),
            ({"theme": {"colors": ["#fff", "\u0000"]}}, "theme", f"{NUL_REFUSED} (at colors[1])"),
            ({"theme": {"\u0000": "dark"}}, "theme", f"{NUL_REFUSED} (in a key)"),
        ],
    )
    async def test_project_settings(
        self, client: httpx.AsyncClient, project: ProjectWithKey, changes: dict[str, Any], field: str, problem: str
    ) -> None:
        before = (await client.get("/org/project/config", headers=project.headers)).json()
        assert_refused(await client.patch("/org/project/config", json=changes, headers=project.headers), field, problem)
        assert (await client.get("/org/project/config", headers=project.headers)).json() == before

    async def test_project_key_name(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        path = f"/org/owner/project/{project.id}/api_keys"
        before = (await client.get(path, headers=org.headers)).json()
        assert_refused(await client.post(path, json={"name": "ci\u0000"}, headers=org.headers), "name")
        assert (await client.get(path, headers=org.headers)).json() == before

    async def test_org_key_name(self, client: httpx.AsyncClient, org: Org) -> None:
        before = (await client.get("/org/owner/api_keys", headers=org.headers)).json()
        assert_refused(await client.post("/org/owner/api_keys", json={"name": "ci\u0000"}, headers=org.headers), "name")
        assert (await client.get("/org/owner/api_keys", headers=org.headers)).json() == before

    @pytest.mark.parametrize(
        ("member", "field"),
        [
            ({"email": "a\u0000@example.com", "name": "Ann", "role": "developer"}, "email"),
            ({"email": "ann@example.com", "name": "Ann\u0000", "role": "developer"}, "name"),
        ],
    )
    async def test_member(self, client: httpx.AsyncClient, org: Org, member: dict[str, str], field: str) -> None:
        before = (await client.get("/org/owner/members", headers=org.headers)).json()["items"]
        assert_refused(await client.post("/org/owner/members", json=member, headers=org.headers), field)
        assert (await client.get("/org/owner/members", headers=org.headers)).json()["items"] == before

    async def test_tool_arguments(self, client: httpx.AsyncClient, project: ProjectWithKey) -> None:
        body = {"arguments": {"query": {"text": "a\u0000"}}, "user_id": "user-1"}
        response = await client.post("/tools/execute/GITHUB_GET_A_REPOSITORY", json=body, headers=project.headers)
        assert_refused(response, "arguments", f"{NUL_REFUSED} (at query.text)")


class TestNulInAQueryOrPath:
    @pytest.mark.parametrize(
        ("path", "params", "field"),
        [
            ("/connected_accounts", {"user_ids": "user-1,user\u00002"}, "user_ids"),
            ("/auth_configs", {"search": "stripe\u0000"}, "search"),
            ("/auth_configs/ac_%00", {}, "nanoid"),
            ("/connected_accounts/ca_%00", {}, "nanoid"),
            ("/webhook_subscriptions/ws_%00/messages", {}, "id"),
            ("/tools", {"tags": ["a", "b\u0000"]}, "tags"),
        ],
    )
    async def test_project_routes(
        self, client: httpx.AsyncClient, project: ProjectWithKey, path: str, params: dict[str, Any], field: str
    ) -> None:
        assert_refused(await client.get(path, params=params, headers=project.headers), field)

    @pytest.mark.parametrize(
        ("path", "params", "field"),
        [
            ("/org/owner/audit_log", {"actor_id": "ak_\u0000"}, "actor_id"),
            ("/org/owner/audit_log", {"action": "project.deleted,\u0000"}, "action"),
            ("/org/owner/project/pr_%00", {}, "nano_id"),
            ("/org/owner/project/pr_%00/api_keys", {}, "nano_id"),
            ("/org/owner/project/pr_%00/rate_limit", {}, "nano_id"),
        ],
    )
    async def test_org_routes(self, client: httpx.AsyncClient, org: Org, path: str, params: dict[str, Any], field: str) -> None:
        assert_refused(await client.get(path, params=params, headers=org.headers), field)

    @pytest.mark.parametrize(("query", "field"), [("user_id=al%00ice", "user_id"), ("connected_account_ids=ca_1,ca_%00", "connected_account_ids")])
    async def test_the_mcp_endpoints_query(self, client: httpx.AsyncClient, project: ProjectWithKey, query: str, field: str) -> None:
        # The endpoint is a mounted app, outside the route table: it reads its query with the same rule.
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        created = await client.post("/mcp/servers", json={"name": "Nul check", "auth_config_ids": [auth_config_id]}, headers=project.headers)
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{created.json()['mcp_url']}?{query}", json=INITIALIZE, headers={**MCP_HEADERS, **project.headers})
        assert_refused(response, field)
        usage = await client.post("/project/usage/summary", json={"entity_types": ["sessions"]}, headers=project.headers)
        assert usage.json()["entities"]["sessions"]["event_count"] == 0

    async def test_a_path_value_of_a_write(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        response = await client.delete(f"/org/owner/project/{project.id}/api_keys/key%00", headers=org.headers)
        assert_refused(response, "key_id")
        assert (await client.get(f"/org/owner/project/{project.id}", headers=org.headers)).status_code == 200


class TestStrictBodies:
    @pytest.mark.parametrize("enabled", ["off", "no", "false", 0, 1, None])
    async def test_a_boolean_is_a_json_boolean(
        self, client: httpx.AsyncClient, project: ProjectWithKey, enabled: Any
    ) -> None:
        auth_config_id = await create_auth_config(client, project, "stripe", type="use_custom_auth", authScheme="API_KEY")
        account_id = await create_api_key_account(client, project, auth_config_id, "sk_live_abcdefgh")
        response = await client.patch(f"/connected_accounts/{account_id}/status", json={"enabled": enabled}, headers=project.headers)
        assert_refused(response, "enabled", "Input should be a valid boolean")
        assert (await client.get(f"/connected_accounts/{account_id}", headers=project.headers)).json()["status"] == "ACTIVE"

    @pytest.mark.parametrize("limit", [True, "5", 2.0, 2.5])
    async def test_an_integer_is_a_json_integer(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey, limit: Any) -> None:
        path = f"/org/owner/project/{project.id}/rate_limit"
        response = await client.patch(path, json={"requests_per_window": limit}, headers=org.headers)
        assert_refused(response, "requests_per_window", "Input should be a valid integer")
        assert (await client.get(path, headers=org.headers)).json()["source"] == "organization"

    @pytest.mark.parametrize(
        ("changes", "field", "problem"),
        [
            ({"is_2FA_enabled": "true"}, "is_2FA_enabled", "Input should be a valid boolean"),
            ({"signed_url_file_expiry_in_seconds": "60"}, "signed_url_file_expiry_in_seconds", "Input should be a valid integer"),
            ({"display_name": 7}, "display_name", "Input should be a valid string"),
        ],
    )
    async def test_every_field_of_a_body(
        self, client: httpx.AsyncClient, project: ProjectWithKey, changes: dict[str, Any], field: str, problem: str
    ) -> None:
        assert_refused(await client.patch("/org/project/config", json=changes, headers=project.headers), field, problem)

    @pytest.mark.parametrize("moment", ["0", True])
    async def test_a_number_is_a_json_number(self, client: httpx.AsyncClient, project: ProjectWithKey, moment: Any) -> None:
        response = await client.post("/logs/tool_execution", json={"time_range": {"from": moment, "to": 1}}, headers=project.headers)
        assert_refused(response, "time_range.from", "Input should be a valid number")

    async def test_enums_and_date_times_arrive_as_strings(self, client: httpx.AsyncClient, org: Org, project: ProjectWithKey) -> None:
        path = f"/org/owner/project/{project.id}/api_keys"
        created = await client.post(path, json={"name": "ci", "expires_at": "2999-01-01T00:00:00Z"}, headers=org.headers)
        assert created.status_code == 201, created.text
        refused = await client.post(path, json={"name": "ci-2", "expires_at": 32503680000}, headers=org.headers)
        assert_refused(refused, "expires_at", "Input should be a date-time string (ISO 8601)")
        changed = await client.patch("/org/project/config", json={"log_visibility_setting": "dont_store_data"}, headers=project.headers)
        assert changed.status_code == 200 and changed.json()["log_visibility_setting"] == "dont_store_data"

    async def test_query_values_are_still_parsed_from_text(self, client: httpx.AsyncClient, org: Org) -> None:
        response = await client.get("/org/owner/project/list", params={"limit": "1", "deleted": "false"}, headers=org.headers)
        assert response.status_code == 200, response.text
