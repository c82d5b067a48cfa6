"""What a toolkit is: the immutable description the catalog serves and other domains validate against.

A toolkit is read from a catalog file (the built-in one shipped in `data/`, and the operator's
TENANTRY_TOOLKITS_FILE), validated once at startup, and never changes while the process runs.
Auth schemes left without explicit fields get the standard fields of their mode, so every
`AuthSchemeSpec` a caller sees lists exactly what an auth config and a connection need.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field as PydanticField,
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

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name == name), None)

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.auth_config_fields + self.connection_fields

    @property
    def secret_field_names(self) -> frozenset[str]:
        return frozenset(field.name for field in self.fields if field.is_secret)

    @model_validator(mode="after")
    def _field_names_are_unique(self) -> AuthSchemeSpec:
        for group in ("auth_config_fields", "connection_fields"):
            names = [field.name for field in getattr(self, group)]
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                raise ValueError(f"{group} names a field twice: {', '.join(duplicates)}")
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


class Tool(_Frozen):
    """A tool of a toolkit. The catalog only lists and counts them; execution comes later."""

    slug: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_]{0,127}$")]
    name: Name
    description: Text = ""
    input_parameters: dict[str, Any] = PydanticField(default_factory=dict)
    output_parameters: dict[str, Any] = PydanticField(default_factory=dict)


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


