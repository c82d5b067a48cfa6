"""What a toolkit is: the immutable description the catalog serves and other domains validate against.

A toolkit is read from a catalog file (the built-in one shipped in `data/`, and the operator's
TENANTRY_TOOLKITS_FILE), validated once at startup, and never changes while the process runs.
Auth schemes left without explicit fields get the standard fields of their mode, so every
`AuthSchemeSpec` a caller sees lists exactly what an auth config and a connection need.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field as PydanticField,
    PrivateAttr,
    SecretStr,
    StringConstraints,
    model_validator,
)

from tenantry.errors import InvalidRequest


class AuthMode(StrEnum):
    """Composio's auth schemes (client 1.43.0 and spec v3.1), spelled as on the wire."""

    OAUTH2 = "OAUTH2"
    OAUTH1 = "OAUTH1"
    API_KEY = "API_KEY"
    BASIC = "BASIC"
    BEARER_TOKEN = "BEARER_TOKEN"
    NO_AUTH = "NO_AUTH"
    BASIC_WITH_JWT = "BASIC_WITH_JWT"
    GOOGLE_SERVICE_ACCOUNT = "GOOGLE_SERVICE_ACCOUNT"
    SERVICE_ACCOUNT = "SERVICE_ACCOUNT"
    BILLCOM_AUTH = "BILLCOM_AUTH"
    CALCOM_AUTH = "CALCOM_AUTH"
    SAML = "SAML"
    DCR_OAUTH = "DCR_OAUTH"
    CIMD_OAUTH = "CIMD_OAUTH"
    S2S_OAUTH2 = "S2S_OAUTH2"


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")]
Text = Annotated[str, StringConstraints(max_length=2000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _http_url(value: str) -> str:
    # Base URLs may hold `{field}` placeholders filled from a connection, so they are checked
    # as text: an http(s) scheme and a host, nothing a URL parser would reject for the braces.
    if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _no_placeholders(value: str) -> str:
    if _PLACEHOLDER.search(value):
        raise ValueError("may not contain {placeholders}")
    return value


def moment(value: date | datetime) -> datetime:
    """A date or datetime (TOML writes both) as an aware UTC datetime; naive ones are UTC."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Url = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_http_url)]
FixedUrl = Annotated[Url, AfterValidator(_no_placeholders)]
Moment = Annotated[datetime, AfterValidator(moment)]

# Fields whose names say they hold credentials. A field can always say otherwise with `is_secret`.
_SECRET_WORDS = ("secret", "password", "token", "private_key", "api_key", "apikey", "credentials")
_PUBLIC_NAMES = frozenset({"client_id", "consumer_key", "username", "subdomain", "scopes", "oauth_redirect_uri"})


def looks_secret(name: str) -> bool:
    """Whether a field called `name` holds a credential, when its definition does not say."""
    lowered = name.lower()
    return lowered not in _PUBLIC_NAMES and any(word in lowered for word in _SECRET_WORDS)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Field(_Frozen):
    """One value an auth config or a connection needs (Composio's `expected_input_fields` item)."""

    name: FieldName
    display_name: Name
    type: Literal["string", "integer", "number", "boolean"] = "string"
    description: Text = ""
    required: bool = False
    default: str | None = None
    # Decides masking everywhere this value is shown; inferred from the name when not given.
    is_secret: bool

    @model_validator(mode="before")
    @classmethod
    def _infer_secret(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("is_secret") is None and isinstance(data.get("name"), str):
            return {**data, "is_secret": looks_secret(data["name"])}
        return data


class Injection(_Frozen):
    """One place a connection's credential goes in every request to the toolkit's API.

    `value` is a template over the connection's fields, e.g. "Bearer {api_key}"; OAuth2 adds
    `{access_token}`, and `{basic}` is base64 of "username:password" (HTTP Basic).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    location: Literal["header", "query"] = PydanticField(alias="in")
    name: Annotated[str, StringConstraints(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}$")]
    value: Annotated[str, StringConstraints(min_length=1, max_length=1000)]

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(_PLACEHOLDER.findall(self.value))


# Template values computed from a connection rather than stored in one of its fields.
COMPUTED_CREDENTIALS = {"access_token", "basic"}
_STANDARD_INJECTIONS: dict[str, tuple[Injection, ...]] = {
    "OAUTH2": (Injection(location="header", name="Authorization", value="Bearer {access_token}"),),
    "API_KEY": (Injection(location="header", name="Authorization", value="Bearer {api_key}"),),
    "BEARER_TOKEN": (Injection(location="header", name="Authorization", value="Bearer {token}"),),
    "BASIC": (Injection(location="header", name="Authorization", value="Basic {basic}"),),
    "BASIC_WITH_JWT": (Injection(location="header", name="Authorization", value="Basic {basic}"),),
    "NO_AUTH": (),
}


class AuthSchemeSpec(_Frozen):
    """One way to authenticate to a toolkit, with the fields each stage needs."""

    mode: AuthMode
    # Composio's `auth_config_details[].name`, e.g. "github_oauth2"; derived from the slug when empty.
    name: Annotated[str, StringConstraints(max_length=100)] = ""
    # Developer credentials, given when an auth config is created (client_id, client_secret, ...).
    auth_config_fields: tuple[Field, ...] = ()
    # End-user credentials and settings, given when a connected account is initiated.
    connection_fields: tuple[Field, ...] = ()
    # Overrides the toolkit's base_url for this scheme (e.g. a per-tenant host for BASIC).
    base_url: Url | None = None
    auth_hint_url: FixedUrl | None = None
    # Where the credential goes in requests to the API; the mode's standard place when not given.
    inject: tuple[Injection, ...] | None = None

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name == name), None)

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.auth_config_fields + self.connection_fields

    @property
    def secret_field_names(self) -> frozenset[str]:
        return frozenset(field.name for field in self.fields if field.is_secret)

    @property
    def injections(self) -> tuple[Injection, ...] | None:
        """Where the credential goes; None when this server cannot make requests with this scheme."""
        if self.inject is not None:
            return self.inject
        standard = _STANDARD_INJECTIONS.get(self.mode.value)
        known = {field.name for field in self.connection_fields} | COMPUTED_CREDENTIALS
        if standard is None or any(set(injection.placeholders) - known for injection in standard):
            # Custom fields without an `inject` saying where they go: nothing to send.
            return None
        return standard

    @model_validator(mode="after")
    def _field_names_are_unique(self) -> AuthSchemeSpec:
        for group in ("auth_config_fields", "connection_fields"):
            names = [field.name for field in getattr(self, group)]
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                raise ValueError(f"{group} names a field twice: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _injections_use_known_values(self) -> AuthSchemeSpec:
        known = {field.name for field in self.connection_fields} | COMPUTED_CREDENTIALS
        for injection in self.inject or ():
            unknown = sorted(set(injection.placeholders) - known)
            if unknown:
                raise ValueError(
                    f"inject {injection.name} uses {{{', '.join(unknown)}}}, which is not a connection field"
                )
        return self


class OAuth2Spec(_Frozen):
    """The provider's OAuth 2.0 endpoints and how to talk to them."""

    authorize_url: FixedUrl
    token_url: FixedUrl
    revoke_url: FixedUrl | None = None
    default_scopes: tuple[Annotated[str, StringConstraints(min_length=1, max_length=500)], ...] = ()
    # Most providers join scopes with a space (RFC 6749); some (Slack, Linear) want commas.
    scope_separator: Literal[" ", ","] = " "
    pkce: bool = False
    # How the client authenticates at the token endpoint: in the form body, or HTTP Basic.
    token_auth_method: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    # Sent with every authorization request, e.g. Google's access_type=offline.
    authorize_params: dict[str, str] = PydanticField(default_factory=dict)

    @model_validator(mode="after")
    def _reserved_params_are_ours(self) -> OAuth2Spec:
        reserved = {"client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope"}
        clashes = sorted(reserved & set(self.authorize_params))
        if clashes:
            raise ValueError(f"authorize_params may not set {', '.join(clashes)}; the server sets them")
        return self


class OAuth1Spec(_Frozen):
    """The provider's OAuth 1.0a endpoints."""

    request_token_url: FixedUrl
    authorize_url: FixedUrl
    access_token_url: FixedUrl
    signature_method: Literal["HMAC-SHA1", "RSA-SHA1", "PLAINTEXT"] = "HMAC-SHA1"


class ManagedApp(_Frozen):
    """The operator's own OAuth app, used by auth configs created with `use_composio_managed_auth`."""

    client_id: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    # SecretStr keeps the value out of reprs, logs and validation messages; read it with
    # get_secret_value() only where the token endpoint is called.
    client_secret: SecretStr
    # The scopes the managed app requests; the toolkit's default scopes when not given.
    scopes: tuple[Annotated[str, StringConstraints(min_length=1, max_length=500)], ...] | None = None

    @model_validator(mode="after")
    def _secret_is_not_empty(self) -> ManagedApp:
        if not self.client_secret.get_secret_value():
            raise ValueError("client_secret may not be empty")
        return self


class ArgumentLocation(StrEnum):
    """Where a tool argument goes in the HTTP request."""

    path = "path"
    query = "query"
    header = "header"
    body = "body"


class Argument(_Frozen):
    """An argument placed explicitly: its location, and its name on the wire when that differs."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    location: ArgumentLocation = PydanticField(alias="in")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
_WIRE_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}$")


class ToolRequest(_Frozen):
    """The HTTP request a tool makes against its toolkit's base URL.

    `path` is relative to the base URL and may hold `{argument}` placeholders. Each argument goes
    where `arguments` says; one it does not mention goes into the path when the path names it,
    else into the query string (GET, HEAD, DELETE) or the body (other methods).
    """

    method: HttpMethod = "GET"
    path: Annotated[str, StringConstraints(max_length=2000)] = ""
    arguments: dict[str, ArgumentLocation | Argument] = PydanticField(default_factory=dict)
    # An argument whose value is the whole body (an array, say) rather than one property of it.
    body_argument: str | None = None
    body_encoding: Literal["json", "form"] = "json"
    # Sent with every call of the tool, e.g. an API version header; never a credential.
    headers: dict[str, Annotated[str, StringConstraints(max_length=1000)]] = PydanticField(default_factory=dict)

    @property
    def path_placeholders(self) -> tuple[str, ...]:
        return tuple(_PLACEHOLDER.findall(self.path))

    def placement(self, argument: str) -> tuple[ArgumentLocation, str]:
        """Where `argument` goes and under which name."""
        declared = self.arguments.get(argument)
        if isinstance(declared, Argument):
            return declared.location, declared.name or argument
        if declared is not None:
            return declared, argument
        if argument in self.path_placeholders:
            return ArgumentLocation.path, argument
        if self.method in ("GET", "HEAD", "DELETE"):
            return ArgumentLocation.query, argument
        return ArgumentLocation.body, argument

    @model_validator(mode="after")
    def _consistent(self) -> ToolRequest:
        if "://" in self.path or "?" in self.path or "#" in self.path:
            raise ValueError("path is relative to the toolkit's base URL and has no query or fragment")
        if self.path and not self.path.startswith("/"):
            raise ValueError("path must start with /")
        placeholders = self.path_placeholders
        for name in placeholders:
            location, _ = self.placement(name)
            if location is not ArgumentLocation.path:
                raise ValueError(f"path uses {{{name}}}, but arguments puts {name} in the {location.value}")
        for name in self.arguments:
            location, wire = self.placement(name)
            if location is ArgumentLocation.path and wire not in placeholders and name not in placeholders:
                raise ValueError(f"argument {name} goes in the path, which has no {{{name}}}")
            if location is ArgumentLocation.header and not _WIRE_NAME.match(wire):
                raise ValueError(f"argument {name}: {wire!r} is not a valid header name")
        for header in self.headers:
            if not _WIRE_NAME.match(header):
                raise ValueError(f"headers: {header!r} is not a valid header name")
        if self.body_argument is not None:
            if self.method in ("GET", "HEAD"):
                raise ValueError(f"body_argument: a {self.method} request has no body")
            if self.placement(self.body_argument)[0] is not ArgumentLocation.body:
                raise ValueError("body_argument must be an argument that goes in the body")
        return self


def _schema_problem(schema: dict[str, Any]) -> str | None:
    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        return f"is not a valid JSON Schema{f' at {where}' if where else ''}: {exc.message}"
    return None


class Tool(_Frozen):
    """A tool of a toolkit: what it takes and returns (JSON Schema), and the request it makes."""

    slug: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_]{0,127}$")]
    name: Name
    description: Text = ""
    input_parameters: dict[str, Any] = PydanticField(default_factory=dict)
    output_parameters: dict[str, Any] = PydanticField(default_factory=dict)
    tags: tuple[Annotated[str, StringConstraints(min_length=1, max_length=100)], ...] = ()
    # The OAuth scopes the tool needs, as the provider names them (listed, not enforced).
    scopes: tuple[Annotated[str, StringConstraints(min_length=1, max_length=500)], ...] = ()
    deprecated: bool = False
    # None for a tool that is only listed (it cannot be executed).
    request: ToolRequest | None = None

    _validator: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _valid_schemas(self) -> Tool:
        for name in ("input_parameters", "output_parameters"):
            problem = _schema_problem(getattr(self, name))
            if problem:
                raise ValueError(f"{name} {problem}")
        kind = self.input_parameters.get("type")
        if kind not in (None, "object"):
            raise ValueError("input_parameters must describe an object (type = \"object\")")
        properties = self.input_parameters.get("properties")
        if self.request is not None and isinstance(properties, dict) and properties:
            named = set(self.request.arguments) | set(self.request.path_placeholders)
            if self.request.body_argument:
                named.add(self.request.body_argument)
            unknown = sorted(named - set(properties))
            if unknown:
                raise ValueError(f"request names arguments that input_parameters lacks: {', '.join(unknown)}")
        return self

    def model_post_init(self, context: Any) -> None:
        schema = self.input_parameters or {"type": "object"}
        self._validator = validator_for(schema, default=Draft202012Validator)(schema)

    def argument_problems(self, arguments: dict[str, Any]) -> list[str]:
        """What is wrong with `arguments` for this tool, one `arguments.<path>: problem` each."""
        problems = []
        for error in sorted(self._validator.iter_errors(arguments), key=lambda error: list(error.absolute_path)):
            path = ".".join(["arguments", *(str(part) for part in error.absolute_path)])
            problems.append(_describe(error, path))
        return problems


def _describe(error: Any, path: str) -> str:
    # Messages name the rule, never the value given, which may be a secret.
    rule, expected = error.validator, error.validator_value
    if rule == "required":
        missing = [name for name in expected if isinstance(error.instance, dict) and name not in error.instance]
        return f"{path}.{missing[0] if missing else '?'}: is required"
    if rule == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"{path}: must be of type {' or '.join(str(kind) for kind in kinds)}"
    if rule == "enum":
        return f"{path}: must be one of {', '.join(json.dumps(value) for value in expected)[:300]}"
    if rule == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {}))) if isinstance(error.instance, dict) else []
        return f"{path}.{extra[0] if extra else '?'}: is not an argument of this tool"
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "pattern", "format", "const", "multipleOf"):
        return f"{path}: must satisfy {rule} {json.dumps(expected)[:200]}"
    return f"{path}: does not match the tool's input schema ({rule})"


class Category(_Frozen):
    slug: Slug
    name: Name


def _standard_fields(mode: str, default_scopes: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The fields a scheme of `mode` has unless its definition lists its own."""

    def field(name: str, display_name: str, description: str, *, required: bool = True, **rest: Any) -> dict[str, Any]:
        return {"name": name, "display_name": display_name, "description": description, "required": required, **rest}

    redirect_uri = field(
        "oauth_redirect_uri",
        "Redirect URI",
        "The redirect URI registered with the provider; this server's OAuth callback when empty.",
        required=False,
    )
    if mode == AuthMode.OAUTH2:
        return {
            "auth_config_fields": [
                field("client_id", "Client ID", "Client ID of your OAuth app"),
                field("client_secret", "Client secret", "Client secret of your OAuth app"),
                field(
                    "scopes",
                    "Scopes",
                    "Scopes to request, comma separated",
                    required=False,
                    default=",".join(default_scopes) or None,
                ),
                redirect_uri,
            ]
        }
    if mode == AuthMode.OAUTH1:
        return {
            "auth_config_fields": [
                field("consumer_key", "Consumer key", "Consumer key (API key) of your OAuth app"),
                field("consumer_secret", "Consumer secret", "Consumer secret (API secret) of your OAuth app"),
                redirect_uri,
            ]
        }
    if mode == AuthMode.API_KEY:
        return {"connection_fields": [field("api_key", "API key", "The API key of the account to connect")]}
    if mode == AuthMode.BEARER_TOKEN:
        return {"connection_fields": [field("token", "Token", "An access token of the account to connect")]}
    if mode in (AuthMode.BASIC, AuthMode.BASIC_WITH_JWT):
        return {
            "connection_fields": [
                field("username", "Username", "Username of the account to connect"),
                field("password", "Password", "Password of the account to connect"),
            ]
        }
    if mode == AuthMode.GOOGLE_SERVICE_ACCOUNT:
        return {"connection_fields": [field("credentials_json", "Service account JSON", "The service account key file, as JSON")]}
    return {}


class Toolkit(_Frozen):
    """A toolkit of the catalog."""

    slug: Slug
    name: Name
    description: Text = ""
    logo: Annotated[str, StringConstraints(max_length=2048)] = ""
    app_url: FixedUrl | None = None
    auth_guide_url: FixedUrl | None = None
    categories: tuple[Category, ...] = ()
    # The toolkit's API base URL; `{field}` placeholders are filled from the connection.
    base_url: Url | None = None
    auth_schemes: tuple[AuthSchemeSpec, ...]
    oauth2: OAuth2Spec | None = None
    oauth1: OAuth1Spec | None = None
    managed_app: ManagedApp | None = None
    # Hosts besides the base URL's that tool requests and proxy calls may reach, e.g.
    # "uploads.example.com" or "*.example.com" (one label), optionally with ":port".
    allowed_hosts: tuple[Annotated[str, StringConstraints(pattern=r"^(\*\.)?[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$")], ...] = ()
    tools: tuple[Tool, ...] = ()
    version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,40}$")]
    created_at: Moment
    updated_at: Moment
    # Deprecated toolkits still resolve by slug but leave the list unless include_deprecated.
    deprecated: bool = False
    # Whether the toolkit came with Tenantry or from the operator's file (overrides count as the operator's).
    origin: Literal["builtin", "operator"] = "builtin"

    @model_validator(mode="before")
    @classmethod
    def _standard_scheme_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("auth_schemes"), (list, tuple)):
            return data
        oauth2 = data.get("oauth2")
        scopes = oauth2.get("default_scopes") if isinstance(oauth2, dict) else None
        scopes = [scope for scope in scopes if isinstance(scope, str)] if isinstance(scopes, (list, tuple)) else []
        schemes = []
        for scheme in data["auth_schemes"]:
            if isinstance(scheme, dict) and isinstance(scheme.get("mode"), str):
                standard = _standard_fields(scheme["mode"], scopes)
                scheme = {**standard, **scheme}
            schemes.append(scheme)
        return {**data, "auth_schemes": schemes}

    @model_validator(mode="after")
    def _consistent(self) -> Toolkit:
        modes = [scheme.mode for scheme in self.auth_schemes]
        if not modes:
            raise ValueError("auth_schemes needs at least one scheme (NO_AUTH when there is nothing to give)")
        repeated = sorted({mode for mode in modes if modes.count(mode) > 1})
        if repeated:
            raise ValueError(f"auth_schemes lists {', '.join(repeated)} more than once")
        if AuthMode.OAUTH2 in modes and self.oauth2 is None:
            raise ValueError("an OAUTH2 scheme needs an oauth2 table (authorize_url, token_url, ...)")
        if self.oauth2 is not None and AuthMode.OAUTH2 not in modes:
            raise ValueError("oauth2 is set but auth_schemes has no OAUTH2 scheme")
        if AuthMode.OAUTH1 in modes and self.oauth1 is None:
            raise ValueError("an OAUTH1 scheme needs an oauth1 table (request_token_url, authorize_url, access_token_url)")
        if self.managed_app is not None and AuthMode.OAUTH2 not in modes:
            raise ValueError("managed_app needs an OAUTH2 scheme")
        tool_slugs = [tool.slug for tool in self.tools]
        if len(set(tool_slugs)) != len(tool_slugs):
            raise ValueError("tools lists a slug more than once")
        for scheme in self.auth_schemes:
            url = scheme.base_url or self.base_url
            names = {field.name for field in scheme.fields}
            unknown = sorted(set(_PLACEHOLDER.findall(url or "")) - names)
            if unknown:
                raise ValueError(
                    f"base URL of the {scheme.mode} scheme uses {{{', '.join(unknown)}}}, "
                    "which is not one of its fields"
                )
        return self

    def scheme(self, mode: AuthMode | str) -> AuthSchemeSpec | None:
        """The scheme of this toolkit with that mode, or None when the toolkit has no such scheme."""
        return next((scheme for scheme in self.auth_schemes if scheme.mode == mode), None)

    @property
    def modes(self) -> tuple[AuthMode, ...]:
        return tuple(scheme.mode for scheme in self.auth_schemes)

    @property
    def no_auth(self) -> bool:
        return AuthMode.NO_AUTH in self.modes

    @property
    def managed_modes(self) -> tuple[AuthMode, ...]:
        """The schemes an auth config may use with `use_composio_managed_auth`."""
        return (AuthMode.OAUTH2,) if self.managed_app is not None else ()

    @property
    def managed_scopes(self) -> tuple[str, ...]:
        if self.managed_app is None:
            return ()
        if self.managed_app.scopes is not None:
            return self.managed_app.scopes
        return self.oauth2.default_scopes if self.oauth2 else ()

    def require_managed_app(self) -> ManagedApp:
        """The operator's OAuth app for this toolkit; a 400 naming the toolkit when there is none."""
        if self.managed_app is None:
            raise InvalidRequest(
                f"Toolkit '{self.slug}' has no managed OAuth app on this server, "
                "so use_composio_managed_auth is not available for it",
                suggested_fix=(
                    "Create the auth config with type use_custom_auth and your own client_id and "
                    f"client_secret, or ask the operator to configure toolkits.{self.slug}.managed_app "
                    "in TENANTRY_TOOLKITS_FILE"
                ),
                errors=[f"auth_config.type: toolkit {self.slug} has no managed auth"],
            )
        return self.managed_app

    def base_url_for(self, mode: AuthMode | str) -> str | None:
        """The API base URL for connections of that scheme, placeholders still in it."""
        scheme = self.scheme(mode)
        return (scheme.base_url if scheme else None) or self.base_url

    @property
    def legacy_id(self) -> str:
        """A stable UUID for Composio's deprecated `toolkitId`, the same on every server."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tenantry:toolkit:{self.slug}"))


