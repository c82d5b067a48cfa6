"""Composio's project config: the ten fields of reference §3.8/§8, on the wire as Composio names them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, model_validator

from tenantry.kit.inputs import Choice, JsonObject, NoNul, RequestBody


class LogVisibility(StrEnum):
    show_all = "show_all"
    dont_store_data = "dont_store_data"


_URL = TypeAdapter(HttpUrl)
HTTPS_PATTERN = "^https://"


def _https_url(value: str) -> str:
    # The schema's pattern, and then a URL that parses.
    if not value.startswith("https://"):
        raise ValueError("must be an https URL")
    _URL.validate_python(value)
    return value


HttpsUrl = Annotated[
    str,
    Field(max_length=2048, json_schema_extra={"format": "uri", "pattern": HTTPS_PATTERN}),
    NoNul,
    AfterValidator(_https_url),
]
DisplayName = Annotated[str, Field(min_length=1, max_length=100), NoNul]
ExpirySeconds = Annotated[int, Field(ge=1, le=86400)]


NULLABLE_FIELDS = frozenset({"logo_url", "display_name", "oauth_callback_verifier_url", "theme"})


def _null_only_where_taken(schema: dict[str, Any]) -> None:
    """The other fields may be left out but not sent as null: the schema says so, as the validator does."""
    for name, field in schema.get("properties", {}).items():
        if name in NULLABLE_FIELDS:
            continue
        field.pop("default", None)
        variants = field.get("anyOf")
        if variants and {"type": "null"} in variants:
            kept = [variant for variant in variants if variant != {"type": "null"}]
            del field["anyOf"]
            if len(kept) == 1:
                field.update(kept[0])
            else:
                field["anyOf"] = kept


class ProjectConfig(BaseModel):
    """A project's settings."""

    is_2FA_enabled: bool
    logo_url: str | None
    display_name: str | None
    mask_secret_keys_in_connected_account: bool
    log_visibility_setting: Choice[LogVisibility]
    require_mcp_api_key: bool
    is_composio_link_enabled_for_managed_auth: bool
    signed_url_file_expiry_in_seconds: int
    oauth_callback_verifier_url: str | None
    theme: dict[str, Any] | None


class ProjectConfigUpdate(RequestBody):
    """Any subset of the settings; fields left out keep their value. `null` clears the nullable ones."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_null_only_where_taken)

    is_2FA_enabled: bool | None = None
    logo_url: HttpsUrl | None = None
    display_name: DisplayName | None = None
    mask_secret_keys_in_connected_account: bool | None = None
    log_visibility_setting: Choice[LogVisibility] | None = None
    require_mcp_api_key: bool | None = None
    is_composio_link_enabled_for_managed_auth: bool | None = None
    signed_url_file_expiry_in_seconds: ExpirySeconds | None = None
    oauth_callback_verifier_url: HttpsUrl | None = None
    theme: JsonObject | None = None

    @model_validator(mode="after")
    def _only_nullable_fields_take_null(self) -> ProjectConfigUpdate:
        for name in self.model_fields_set - NULLABLE_FIELDS:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, as plain values."""
        return self.model_dump(mode="json", exclude_unset=True)


class ProjectConfigInitial(ProjectConfigUpdate):
    """The `config` of a project create: Composio requires these three inside it."""

    is_2FA_enabled: bool
    mask_secret_keys_in_connected_account: bool
    log_visibility_setting: Choice[LogVisibility]
