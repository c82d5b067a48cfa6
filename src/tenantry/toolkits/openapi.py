"""An OpenAPI 3 document turned into a catalog toolkit: one tool per operation.

The result is the toolkit's table of an operator file (docs/toolkits.md), ready to be written as
TOML or JSON. Schemas are inlined (local `$ref`s resolved, cycles cut), OpenAPI 3.0's `nullable`
and `example` become JSON Schema, and each parameter or body property becomes an argument placed
where the operation wants it. What cannot be expressed (cookie parameters, multipart bodies,
OpenID Connect) is left out and reported, never silently guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "head")
MAX_DEPTH = 12
# Keywords of OpenAPI's schema object that JSON Schema does not have, or that say nothing to a tool.
_DROPPED = frozenset({"nullable", "discriminator", "xml", "externalDocs", "example", "deprecated"})


class OpenApiError(Exception):
    """The document cannot be turned into a toolkit; the message says why."""


@dataclass
class Conversion:
    slug: str
    toolkit: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def load_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise OpenApiError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(text)
        else:
            import yaml

            document = yaml.safe_load(text)
    except (ValueError, ImportError) as exc:
        raise OpenApiError(f"{path} is not valid JSON or YAML: {exc}") from None
    if not isinstance(document, dict):
        raise OpenApiError(f"{path} does not hold an OpenAPI document")
    return document


def _snake(text: str) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def toolkit_slug(title: str) -> str:
    slug = _snake(title)[:64].strip("_")
    return slug or "imported"


class _Schemas:
    """Resolves local references and rewrites OpenAPI schemas as JSON Schema."""

    def __init__(self, document: Mapping[str, Any], warnings: list[str]) -> None:
        self._document = document
        self._warnings = warnings

    def resolve(self, node: Any, seen: tuple[str, ...] = ()) -> tuple[Any, tuple[str, ...]]:
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            reference = node["$ref"]
            if not reference.startswith("#/"):
                raise OpenApiError(f"{reference}: only references inside the document are supported")
            if reference in seen:
                return None, seen
            target: Any = self._document
            for part in reference[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    raise OpenApiError(f"{reference} points at nothing")
                target = target[part]
            node, seen = target, (*seen, reference)
        return node, seen

    def schema(self, node: Any, seen: tuple[str, ...] = (), depth: int = 0) -> dict[str, Any]:
        resolved, seen = self.resolve(node, seen)
        if resolved is None or depth > MAX_DEPTH:
            # A recursive or very deep schema: its inner part takes anything.
            return {}
        if not isinstance(resolved, Mapping):
            return {}
        result: dict[str, Any] = {}
        for key, value in resolved.items():
            if key in _DROPPED or key.startswith("x-") or value is None:
                continue
            if key in ("properties", "patternProperties", "$defs", "definitions") and isinstance(value, Mapping):
                result[key] = {name: self.schema(item, seen, depth + 1) for name, item in value.items()}
            elif key in ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else") and isinstance(value, Mapping):
                result[key] = self.schema(value, seen, depth + 1)
            elif key in ("allOf", "anyOf", "oneOf", "prefixItems") and isinstance(value, list):
                result[key] = [self.schema(item, seen, depth + 1) for item in value]
            elif key == "enum" and isinstance(value, list):
                result[key] = [item for item in value if item is not None]
            else:
                result[key] = value
        if resolved.get("nullable") is True and isinstance(result.get("type"), str):
            result["type"] = [result["type"], "null"]
        if "example" in resolved and resolved["example"] is not None and "examples" not in result:
            result["examples"] = [resolved["example"]]
        return result


def _auth_schemes(document: Mapping[str, Any], schemas: _Schemas, warnings: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    declared = (document.get("components") or {}).get("securitySchemes") or {}
    schemes: list[dict[str, Any]] = []
    oauth2: dict[str, Any] | None = None
    modes: set[str] = set()
    for name, raw in declared.items():
        spec, _ = schemas.resolve(raw)
        kind = (spec or {}).get("type")
        mode: str | None = None
        scheme: dict[str, Any] = {}
        if kind == "apiKey" and spec.get("in") in ("header", "query"):
            mode = "API_KEY"
            scheme["inject"] = [{"in": spec["in"], "name": spec["name"], "value": "{api_key}"}]
        elif kind == "http" and str(spec.get("scheme", "")).lower() == "bearer":
            mode = "BEARER_TOKEN"
        elif kind == "http" and str(spec.get("scheme", "")).lower() == "basic":
            mode = "BASIC"
        elif kind == "oauth2" and isinstance((spec.get("flows") or {}).get("authorizationCode"), Mapping):
            flow = spec["flows"]["authorizationCode"]
            mode = "OAUTH2"
            oauth2 = {
                "authorize_url": flow.get("authorizationUrl"),
                "token_url": flow.get("tokenUrl"),
                "default_scopes": list(flow.get("scopes") or {}),
            }
        if mode is None:
            warnings.append(f"security scheme {name} ({kind}{'/' + str(spec.get('in')) if kind == 'apiKey' else ''}) is not supported; left out")
            continue
        if mode in modes:
            warnings.append(f"security scheme {name}: a {mode} scheme was already taken from an earlier one; left out")
            continue
        modes.add(mode)
        schemes.append({"mode": mode, "name": f"{_snake(name)}"[:100], **scheme})
    if not schemes:
        schemes.append({"mode": "NO_AUTH"})
    return schemes, oauth2


def _base_url(document: Mapping[str, Any], override: str | None) -> str:
    if override:
        return override.rstrip("/")
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0], Mapping) or not servers[0].get("url"):
        raise OpenApiError("the document names no server; give the API's base URL with --base-url")
    url = str(servers[0]["url"])
    for variable, spec in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + variable + "}", str((spec or {}).get("default", "")))
    if not re.match(r"^https?://", url):
        raise OpenApiError(f"the server URL {url!r} is not absolute; give the API's base URL with --base-url")
    return url.rstrip("/")


def _json_content(content: Mapping[str, Any]) -> tuple[str, Any] | None:
    for media_type, body in content.items():
        kind = media_type.split(";")[0].strip().lower()
        if kind == "application/json" or kind.endswith("+json"):
            return "json", (body or {}).get("schema", {})
    for media_type, body in content.items():
        if media_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            return "form", (body or {}).get("schema", {})
    return None


def _tool(
    slug: str, path: str, method: str, item: Mapping[str, Any], operation: Mapping[str, Any], schemas: _Schemas, warnings: list[str]
) -> dict[str, Any] | None:
    where = f"{method.upper()} {path}"
    properties: dict[str, Any] = {}
    required: list[str] = []
    arguments: dict[str, Any] = {}
    renamed_path = path
    parameters: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(operation.get("parameters") or [])]:
        parameter, _ = schemas.resolve(raw)
        if isinstance(parameter, Mapping) and parameter.get("name") and parameter.get("in"):
            parameters[(parameter["in"], parameter["name"])] = parameter

    def argument_name(wanted: str, prefix: str) -> str:
        name = _snake(wanted) or prefix
        if name in properties:
            name = f"{prefix}_{name}"
        while name in properties:
            name += "_"
        return name

    for (location, wire), parameter in parameters.items():
        if location == "cookie":
            warnings.append(f"{where}: cookie parameter {wire} left out")
            continue
        if location not in ("path", "query", "header"):
            continue
        name = argument_name(wire, location)
        schema = schemas.schema(parameter.get("schema", {}))
        if parameter.get("description") and "description" not in schema:
            schema["description"] = str(parameter["description"])[:2000]
        properties[name] = schema
        if location == "path" or parameter.get("required"):
            required.append(name)
        if location == "path":
            renamed_path = renamed_path.replace("{" + wire + "}", "{" + name + "}")
            arguments[name] = "path"
        else:
            arguments[name] = {"in": location, "name": wire} if name != wire else location

    body_argument = None
    body_encoding = "json"
    request_body, _ = schemas.resolve(operation.get("requestBody"))
    if isinstance(request_body, Mapping):
        found = _json_content(request_body.get("content") or {})
        if found is None:
            warnings.append(f"{where}: only JSON and form bodies are supported; operation left out")
            return None
        body_encoding, raw_schema = found
        schema = schemas.schema(raw_schema)
        body_required = bool(request_body.get("required"))
        fields = schema.get("properties") if schema.get("type") in (None, "object") else None
        if isinstance(fields, Mapping) and fields:
            for wire, field_schema in fields.items():
                if isinstance(field_schema, Mapping) and field_schema.get("readOnly"):
                    continue
                name = argument_name(wire, "body")
                properties[name] = field_schema
                if body_required and wire in (schema.get("required") or []):
                    required.append(name)
                arguments[name] = {"in": "body", "name": wire} if name != wire else "body"
        else:
            body_argument = argument_name("body", "request")
            properties[body_argument] = schema
            arguments[body_argument] = "body"
            if body_required:
                required.append(body_argument)

    output: dict[str, Any] = {}
    responses = operation.get("responses") or {}
    for status in ("200", "201", "202", "2XX", "default"):
        response, _ = schemas.resolve(responses.get(status))
        if isinstance(response, Mapping):
            found = _json_content(response.get("content") or {})
            if found is not None:
                output = schemas.schema(found[1])
                break

    security = operation.get("security") or []
    scopes = sorted({scope for requirement in security if isinstance(requirement, Mapping) for values in requirement.values() for scope in values or []})
    input_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        input_schema["required"] = list(dict.fromkeys(required))
    request: dict[str, Any] = {"method": method.upper(), "path": renamed_path if renamed_path != "/" else ""}
    if arguments:
        request["arguments"] = arguments
    if body_argument:
        request["body_argument"] = body_argument
    if body_encoding != "json":
        request["body_encoding"] = body_encoding
    summary = str(operation.get("summary") or "").strip()
    tool: dict[str, Any] = {
        "slug": slug,
        "name": (summary or str(operation.get("operationId") or where))[:100],
        "description": str(operation.get("description") or summary or where)[:2000],
        "input_parameters": input_schema,
        "output_parameters": output,
        "request": request,
    }
    if operation.get("tags"):
        tool["tags"] = [str(tag)[:100] for tag in operation["tags"]]
    if scopes:
        tool["scopes"] = scopes
    if operation.get("deprecated"):
        tool["deprecated"] = True
    return tool


def convert(document: Mapping[str, Any], *, slug: str | None = None, name: str | None = None, base_url: str | None = None) -> Conversion:
    """The toolkit an OpenAPI 3 document describes, as an operator-file table (not yet validated)."""
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        raise OpenApiError("only OpenAPI 3 documents are supported (this one has no `openapi: 3.x`)")
    info = document.get("info") or {}
    title = str(info.get("title") or "Imported API")
    slug = slug or toolkit_slug(title)
    warnings: list[str] = []
    schemas = _Schemas(document, warnings)
    auth_schemes, oauth2 = _auth_schemes(document, schemas, warnings)
    prefix = slug.upper().replace("-", "_")
    tools: list[dict[str, Any]] = []
    taken: set[str] = set()
    for path, raw_item in (document.get("paths") or {}).items():
        item, _ = schemas.resolve(raw_item)
        if not isinstance(item, Mapping):
            continue
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping):
                continue
            base = _snake(str(operation.get("operationId") or f"{method} {path}")).upper()
            tool_slug = f"{prefix}_{base}"[:128]
            candidate, number = tool_slug, 2
            while candidate in taken:
                candidate, number = f"{tool_slug[:120]}_{number}", number + 1
            tool = _tool(candidate, path, method, item, operation, schemas, warnings)
            if tool is not None:
                taken.add(candidate)
                tools.append(tool)
    toolkit: dict[str, Any] = {
        "name": (name or title)[:100],
        "description": str(info.get("description") or info.get("summary") or title)[:2000],
        "categories": [],
        "base_url": _base_url(document, base_url),
        "auth_schemes": auth_schemes,
    }
    if oauth2 is not None:
        toolkit["oauth2"] = oauth2
    toolkit["tools"] = tools
    if not tools:
        warnings.append("the document has no operations this server can call")
    return Conversion(slug, toolkit, warnings)
