"""Turning a tool's arguments, or a proxy request, into the HTTP request to make."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from tenantry.errors import InvalidRequest
from tenantry.toolkits.spec import ArgumentLocation, Tool, ToolRequest
from tenantry.tools import schemas
from tenantry.tools.credentials import Credential
from tenantry.tools.outbound import Call

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _form(values: dict[str, Any]) -> bytes:
    pairs = []
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, _scalar(item)))
    return urlencode(pairs).encode()


def join(base_url: str, path: str) -> str:
    if not path:
        return base_url
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def tool_call(tool: Tool, spec: ToolRequest, base_url: str, arguments: dict[str, Any], credential: Credential) -> Call:
    """The request `tool` makes with these (already validated) arguments."""
    path_values: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = dict(spec.headers)
    body: dict[str, Any] = {}
    whole_body: Any = None
    for name, value in arguments.items():
        location, wire = spec.placement(name)
        if value is None and location is not ArgumentLocation.body:
            # Nothing to put in a path, query or header; a body property may be null on purpose.
            continue
        if location is ArgumentLocation.path:
            path_values[wire] = quote(_scalar(value), safe="")
        elif location is ArgumentLocation.query:
            query.extend((wire, _scalar(item)) for item in (value if isinstance(value, list) else [value]))
        elif location is ArgumentLocation.header:
            text = _scalar(value)
            if "\r" in text or "\n" in text:
                raise InvalidRequest.field(f"arguments.{name}", "a header value may not contain line breaks")
            headers[wire] = text
        elif name == spec.body_argument:
            whole_body = value
        else:
            body[wire] = value
    missing = [name for name in spec.path_placeholders if name not in path_values]
    if missing:
        raise InvalidRequest.field(f"arguments.{missing[0]}", "is required (it is part of the request path)")
    path = spec.path
    for name, value in path_values.items():
        path = path.replace("{" + name + "}", value)
    content = None
    if spec.body_argument in arguments or body:
        payload = whole_body if spec.body_argument in arguments else body
        if spec.body_encoding == "form" and isinstance(payload, dict):
            content, headers["Content-Type"] = _form(payload), FORM_TYPE
        else:
            content, headers["Content-Type"] = json.dumps(payload).encode(), JSON_TYPE
    headers.update(credential.headers)
    credential_names = {name for name, _ in credential.query}
    query = [(name, value) for name, value in query if name not in credential_names]
    return Call(
        method=spec.method,
        url=join(base_url, path),
        query=[*query, *credential.query],
        headers=headers,
        content=content,
        credential_query=list(credential.query),
    )


def proxy_call(request: schemas.ProxyRequest, base_url: str, credential: Credential) -> Call:
    """The request a proxy call asks for; the endpoint is absolute or below the base URL."""
    endpoint = request.endpoint
    if "://" in endpoint:
        try:
            url = httpx.URL(endpoint)
        except httpx.InvalidURL:
            raise InvalidRequest.field("endpoint", "is not a valid URL") from None
        if url.scheme not in ("http", "https"):
            raise InvalidRequest.field("endpoint", "must be an http(s) URL or a path")
        target = endpoint
    else:
        target = join(base_url, endpoint)
    headers: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    for index, parameter in enumerate(request.parameters):
        if parameter.type == "header":
            if "\r" in parameter.value or "\n" in parameter.value:
                raise InvalidRequest.field(f"parameters[{index}].value", "a header value may not contain line breaks")
            headers[parameter.name] = parameter.value
        else:
            query.append((parameter.name, parameter.value))
    content = None
    if request.binary_body is not None:
        if not isinstance(request.binary_body, schemas.BinaryBodyBase64):
            raise InvalidRequest.field("binary_body.url", "is not supported; send the bytes as binary_body.base64")
        try:
            content = base64.b64decode(request.binary_body.base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest.field("binary_body.base64", "is not valid base64") from None
        headers.setdefault("Content-Type", request.binary_body.content_type or "application/octet-stream")
    elif request.body is not None:
        if isinstance(request.body, str):
            content = request.body.encode()
        else:
            content = json.dumps(request.body).encode()
            headers.setdefault("Content-Type", JSON_TYPE)
    # The caller's own headers and parameters never replace the credential.
    for name in credential.headers:
        for given in [key for key in headers if key.lower() == name.lower()]:
            del headers[given]
    credential_names = {name for name, _ in credential.query}
    query = [(name, value) for name, value in query if name not in credential_names]
    headers.update(credential.headers)
    return Call(
        method=request.method,
        url=target,
        query=[*query, *credential.query],
        headers=headers,
        content=content,
        credential_query=list(credential.query),
    )
