"""Toolkits on the wire, in the shapes composio-client 1.43.0 parses (`toolkit_*_response.py`).

Only these models reach a response; they have no place for a managed app's client secret.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from tenantry.kit.time import Timestamp


class SortBy(StrEnum):
    usage = "usage"
    alphabetically = "alphabetically"


class ManagedBy(StrEnum):
    composio = "composio"
    project = "project"
    all = "all"


class Provenance(StrEnum):
    native = "native"
    custom = "custom"
    all = "all"


class ListedCategory(BaseModel):
    id: str
    name: str


class _Meta(BaseModel):
    created_at: Timestamp
    updated_at: Timestamp
    description: str
    logo: str
    app_url: str | None
    tools_count: int
    triggers_count: int
    version: str


class ToolkitListMeta(_Meta):
    categories: list[ListedCategory]


class ListedDeprecated(BaseModel):
    toolkit_id: str = Field(serialization_alias="toolkitId")


class ListedToolkit(BaseModel):
    """A toolkit as the list shows it."""

    slug: str
    name: str
    meta: ToolkitListMeta
    auth_schemes: list[str]
    composio_managed_auth_schemes: list[str]
    no_auth: bool
    type: Literal["native", "custom"]
    auth_guide_url: str | None
    is_local_toolkit: bool = False
    deprecated: ListedDeprecated


class ToolkitList(BaseModel):
    items: list[ListedToolkit]
    next_cursor: str | None
    total_pages: int
    current_page: int
    total_items: int


class CategoryRef(BaseModel):
    slug: str
    name: str


class ToolkitMeta(_Meta):
    # The list names a category's slug `id`, the retrieve names it `slug`, as Composio does.
    categories: list[CategoryRef]
    available_versions: list[str]


class InputField(BaseModel):
    name: str
    display_name: str = Field(serialization_alias="displayName")
    type: str
    description: str
    required: bool
    default: str | None
    is_secret: bool
    legacy_template_name: str | None = None


class FieldGroup(BaseModel):
    required: list[InputField]
    optional: list[InputField]


class SchemeFields(BaseModel):
    auth_config_creation: FieldGroup
    connected_account_initiation: FieldGroup


class ProviderUrls(BaseModel):
    authorization_url: str | None
    token_url: str | None


class AuthConfigDetail(BaseModel):
    """What creating an auth config, and connecting an account, with one scheme takes."""

    mode: str
    name: str
    fields: SchemeFields
    auth_hint_url: str | None
    deprecated_auth_provider_details: ProviderUrls | None
    proxy: None = None


class ScopeCeiling(BaseModel):
    available: list[str]


class ManagedAuth(BaseModel):
    mode: str
    scopes: ScopeCeiling


class Deprecated(BaseModel):
    toolkit_id: str = Field(serialization_alias="toolkitId")
    raw_proxy_info_by_auth_schemes: list[dict[str, Any]] = Field(serialization_alias="rawProxyInfoByAuthSchemes")
    get_current_user_endpoint: str | None = Field(default=None, serialization_alias="getCurrentUserEndpoint")


class ToolkitDetail(BaseModel):
    """One toolkit, with what each of its auth schemes needs."""

    slug: str
    name: str
    type: Literal["native", "custom"]
    enabled: bool = True
    is_local_toolkit: bool = False
    meta: ToolkitMeta
    auth_schemes: list[str]
    composio_managed_auth_schemes: list[str]
    composio_managed_auth: list[ManagedAuth]
    no_auth: bool
    auth_config_details: list[AuthConfigDetail]
    auth_guide_url: str | None
    base_url: str | None
    get_current_user_endpoint: str | None = None
    get_current_user_endpoint_method: str | None = None
    deprecated: Deprecated


class CategoryList(BaseModel):
    items: list[ListedCategory]
    next_cursor: str | None = None
    total_pages: int = 1
    current_page: int = 1
    total_items: int
