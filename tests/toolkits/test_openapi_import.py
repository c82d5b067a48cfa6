"""`tenantry toolkits import-openapi`: an OpenAPI 3 document becomes a toolkit whose tools run."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tenantry.toolkits.catalog import load_catalog
from tenantry.toolkits.spec import ArgumentLocation
from tests.factories import create_auth_config, create_org, create_project
from tests.fixtures.oauth_provider import Provider
from tests.fixtures.server import Server, start_server

DOCUMENT = """
openapi: 3.0.3
info:
  title: Imported Items
  description: A small API described in OpenAPI.
servers:
  - url: https://{region}.items.example/v2
    variables:
      region: {default: eu}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
    session: {type: apiKey, in: cookie, name: sid}
    login:
      type: oauth2
      flows:
        authorizationCode:
          authorizationUrl: https://login.items.example/authorize
          tokenUrl: https://login.items.example/token
          scopes: {items.read: read, items.write: write}
  parameters:
    Trace: {name: X-Trace, in: header, schema: {type: string}}
  schemas:
    Item:
      type: object
      required: [name]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string, example: lamp}
        price: {type: number, nullable: true}
        parent: {$ref: '#/components/schemas/Item'}
paths:
  /items/{itemId}:
    parameters:
      - {name: itemId, in: path, required: true, schema: {type: string}}
    get:
      operationId: getItem
      summary: Get an item
      tags: [items]
      security: [{login: [items.read]}]
      parameters:
        - {name: limit, in: query, schema: {type: integer, minimum: 1}}
        - $ref: '#/components/parameters/Trace'
        - {name: sid, in: cookie, schema: {type: string}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}
    delete:
      responses: {'204': {description: gone}}
  /items:
    post:
      operationId: createItem
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}
      responses: {'201': {description: made}}
  /items/{itemId}/tags:
    put:
      operationId: setTags
      parameters:
        - {name: itemId, in: path, required: true, schema: {type: string}}
      requestBody:
        content: {application/json: {schema: {type: array, items: {type: string}}}}
      responses: {'200': {description: ok}}
  /uploads:
    post:
      operationId: upload
      requestBody:
        content: {multipart/form-data: {schema: {type: object}}}
      responses: {'200': {description: ok}}
  /search:
    post:
      operationId: search
      requestBody:
        content: {application/x-www-form-urlencoded: {schema: {type: object, properties: {q: {type: string}}}}}
      responses: {'200': {description: ok}}
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tenantry", "toolkits", "import-openapi", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "items.yaml"
    path.write_text(DOCUMENT)
    return path


class TestConversion:
    def test_one_tool_per_operation_with_arguments_placed(self, document: Path, tmp_path: Path) -> None:
        output = tmp_path / "imported.toml"
        done = run(str(document), "-o", str(output))
        assert done.returncode == 0, done.stderr
        assert "cookie parameter sid left out" in done.stderr and "session (apiKey/cookie) is not supported" in done.stderr
        assert "POST /uploads: only JSON and form bodies are supported" in done.stderr
        toolkit = load_catalog(output).require("imported_items")
        assert toolkit.base_url == "https://eu.items.example/v2"
        assert [scheme.mode.value for scheme in toolkit.auth_schemes] == ["API_KEY", "OAUTH2"]
        assert toolkit.scheme("API_KEY").injections[0].name == "X-Api-Key"
        assert toolkit.oauth2 is not None and toolkit.oauth2.default_scopes == ("items.read", "items.write")
        slugs = [tool.slug for tool in toolkit.tools]
        assert slugs == [
            "IMPORTED_ITEMS_GET_ITEM", "IMPORTED_ITEMS_DELETE_ITEMS_ITEM_ID", "IMPORTED_ITEMS_CREATE_ITEM",
            "IMPORTED_ITEMS_SET_TAGS", "IMPORTED_ITEMS_SEARCH",
        ]
        get, _, create, tags, search = toolkit.tools
        assert get.request.path == "/items/{item_id}" and get.scopes == ("items.read",) and get.tags == ("items",)
        assert get.request.placement("item_id") == (ArgumentLocation.path, "item_id")
        assert get.request.placement("limit") == (ArgumentLocation.query, "limit")
        assert get.request.placement("x_trace") == (ArgumentLocation.header, "X-Trace")
        assert get.input_parameters["required"] == ["item_id"]
        assert get.output_parameters["properties"]["price"]["type"] == ["number", "null"]
        # A schema that contains itself is cut where it recurs.
        assert get.output_parameters["properties"]["parent"] == {}
        assert "id" not in create.input_parameters["properties"] and create.input_parameters["required"] == ["name"]
        assert create.input_parameters["properties"]["name"]["examples"] == ["lamp"]
        assert tags.request.body_argument == "body" and tags.input_parameters["properties"]["body"]["type"] == "array"
        assert search.request.body_encoding == "form"
        assert create.argument_problems({"name": 3}) == ["arguments.name: must be of type string"]

    def test_json_output_and_refusals(self, document: Path, tmp_path: Path) -> None:
        done = run(str(document), "--json", "--slug", "items2", "--base-url", "http://127.0.0.1:9/api")
        assert done.returncode == 0, done.stderr
        imported = json.loads(done.stdout)["toolkits"]["items2"]
        assert imported["base_url"] == "http://127.0.0.1:9/api" and imported["tools"][0]["slug"] == "ITEMS2_GET_ITEM"
        assert tomllib.loads(run(str(document)).stdout)["toolkits"]["imported_items"]["name"] == "Imported Items"
        builtin = run(str(document), "--slug", "github")
        assert builtin.returncode == 2 and "built-in toolkit" in builtin.stderr
        relative = tmp_path / "relative.json"
        relative.write_text(json.dumps({"openapi": "3.1.0", "info": {"title": "R"}, "servers": [{"url": "/v1"}], "paths": {}}))
        refused = run(str(relative))
        assert refused.returncode == 2 and "--base-url" in refused.stderr
        swagger = tmp_path / "swagger.json"
        swagger.write_text(json.dumps({"swagger": "2.0"}))
        assert run(str(swagger)).returncode == 2
        existing = tmp_path / "exists.toml"
        existing.write_text("")
        assert run(str(document), "-o", str(existing)).returncode == 2


@pytest.fixture(scope="module")
def imported_server(server_env: dict[str, str], oauth_provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("imported")
    (directory / "items.yaml").write_text(DOCUMENT)
    output = directory / "imported.toml"
    done = run(str(directory / "items.yaml"), "--base-url", f"{oauth_provider.base_url}/api/imported", "-o", str(output))
    assert done.returncode == 0, done.stderr
    env = {**server_env, "TENANTRY_TOOLKITS_FILE": os.pathsep.join([server_env["TENANTRY_TOOLKITS_FILE"], str(output)])}
    server = start_server(env, directory / "server.log")
    yield server
    server.stop()


@pytest.fixture
async def imported_client(imported_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{imported_server.base_url}/api/v3.1", timeout=30) as http:
        yield http


class TestImportedToolsRun:
    async def test_execute_an_imported_tool(self, imported_client: httpx.AsyncClient, oauth_provider: Provider, sessionmaker) -> None:  # type: ignore[no-untyped-def]
        project = await create_project(imported_client, await create_org(sessionmaker))
        auth_config_id = await create_auth_config(imported_client, project, "imported_items", type="use_custom_auth", authScheme="API_KEY")
        key = f"imported-{secrets.token_hex(6)}"
        created = await imported_client.post("/connected_accounts", headers=project.headers, json={
            "auth_config": {"id": auth_config_id},
            "connection": {"user_id": "u", "state": {"authScheme": "API_KEY", "val": {"status": "ACTIVE", "api_key": key}}},
        })
        marker = f"it-{secrets.token_hex(4)}"
        executed = await imported_client.post("/tools/execute/IMPORTED_ITEMS_GET_ITEM", headers=project.headers, json={
            "connected_account_id": created.json()["id"], "arguments": {"item_id": marker, "limit": 2, "x_trace": "t"},
        })
        assert executed.json()["successful"] is True, executed.text
        [received] = oauth_provider.api.received(marker)
        assert received["path"] == f"/api/imported/items/{marker}" and received["query"] == [["limit", "2"]]
        assert received["headers"]["x-api-key"] == key and received["headers"]["x-trace"] == "t"
        created_item = await imported_client.post("/tools/execute/IMPORTED_ITEMS_CREATE_ITEM", headers=project.headers, json={
            "connected_account_id": created.json()["id"], "arguments": {"name": marker, "price": None},
        })
        assert created_item.json()["successful"] is True, created_item.text
        posted = [seen for seen in oauth_provider.api.requests if seen["path"] == "/api/imported/items" and seen["method"] == "POST"]
        assert posted[-1]["body"] == {"name": marker, "price": None}
