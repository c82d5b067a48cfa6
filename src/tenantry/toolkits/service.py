"""Listing and reading the toolkit catalog in Composio's shapes.

The catalog is the same for every project and fixed for the life of the process, so there is no
repository: pages are slices of the filtered, sorted catalog, and a cursor carries the offset of
the next one.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

from tenantry.errors import InvalidRequest, ToolkitNotFound
from tenantry.toolkits import schemas
from tenantry.toolkits.catalog import Catalog
from tenantry.toolkits.spec import AuthMode, AuthSchemeSpec, Field, Toolkit

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000
LATEST = "latest"


@dataclass(frozen=True)
class ToolkitFilter:
    """The list's query parameters other than paging."""

    category: str | None = None
    search: str | None = None
    sort_by: schemas.SortBy = schemas.SortBy.usage
    managed_by: schemas.ManagedBy = schemas.ManagedBy.all
    type: schemas.Provenance = schemas.Provenance.all
    include_deprecated: bool = False

    def matches(self, toolkit: Toolkit) -> bool:
        # Every catalog toolkit is provided by this server ("native"); projects register none yet.
        if self.managed_by is schemas.ManagedBy.project or self.type is schemas.Provenance.custom:
            return False
        if toolkit.deprecated and not self.include_deprecated:
            return False
        if self.category is not None:
            wanted = self.category.casefold()
            if not any(wanted in (category.slug, category.name.casefold()) for category in toolkit.categories):
                return False
        if self.search:
            needle = self.search.casefold()
            haystack = (toolkit.slug, toolkit.name.casefold(), toolkit.description.casefold())
            if not any(needle in text for text in haystack):
                return False
        return True

    def apply(self, catalog: Catalog) -> list[Toolkit]:
        toolkits = [toolkit for toolkit in catalog.all() if self.matches(toolkit)]
        if self.sort_by is schemas.SortBy.alphabetically:
            toolkits.sort(key=lambda toolkit: (toolkit.name.casefold(), toolkit.slug))
        # "usage" is the catalog's own order: the built-in toolkits most used first, then the operator's.
        return toolkits


@dataclass(frozen=True)
class OffsetCursor:
    page: int
    limit: int
    offset: int

    def encode(self) -> str:
        payload = {"page": self.page, "limit": self.limit, "offset": self.offset}
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()

    @classmethod
    def decode(cls, value: str) -> OffsetCursor:
        try:
            payload = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            cursor = cls(page=int(payload["page"]), limit=int(payload["limit"]), offset=int(payload["offset"]))
        except (binascii.Error, ValueError, KeyError, TypeError):
            cursor = None
        if cursor is None or cursor.page < 1 or not 1 <= cursor.limit <= MAX_PAGE_SIZE or cursor.offset < 0:
            raise InvalidRequest(
                "cursor is not a value this server returned as next_cursor", errors=["cursor: invalid"]
            )
        return cursor


def list_page(
    catalog: Catalog, toolkit_filter: ToolkitFilter, *, limit: int | None, cursor: str | None
) -> schemas.ToolkitList:
    position = OffsetCursor.decode(cursor) if cursor else None
    page_size = limit or (position.limit if position else DEFAULT_PAGE_SIZE)
    offset = position.offset if position else 0
    page = position.page if position else 1
    toolkits = toolkit_filter.apply(catalog)
    shown = toolkits[offset : offset + page_size]
    following = offset + len(shown)
    next_cursor = OffsetCursor(page + 1, page_size, following).encode() if following < len(toolkits) else None
    return schemas.ToolkitList(
        items=[listed(toolkit) for toolkit in shown],
        next_cursor=next_cursor,
        total_pages=max(1, math.ceil(len(toolkits) / page_size)),
        current_page=page,
        total_items=len(toolkits),
    )


def get(catalog: Catalog, slug: str, version: str | None = None) -> schemas.ToolkitDetail:
    toolkit = catalog.require(slug)
    if version not in (None, LATEST, toolkit.version):
        raise ToolkitNotFound(
            f"Toolkit '{toolkit.slug}' has no version '{version}'",
            suggested_fix=f"Ask for '{LATEST}' or one of: {toolkit.version}",
        )
    return detail(toolkit)


def categories(catalog: Catalog) -> schemas.CategoryList:
    items = [schemas.ListedCategory(id=category.slug, name=category.name) for category in catalog.categories()]
    return schemas.CategoryList(items=items, total_items=len(items))


def _list_meta_fields(toolkit: Toolkit) -> dict[str, Any]:
    return {
        "created_at": toolkit.created_at,
        "updated_at": toolkit.updated_at,
        "description": toolkit.description,
        "logo": toolkit.logo,
        "app_url": toolkit.app_url,
        "tools_count": len(toolkit.tools),
        "triggers_count": 0,
        "version": toolkit.version,
    }


def _scheme_summary(toolkit: Toolkit) -> dict[str, Any]:
    return {
        "auth_schemes": [mode.value for mode in toolkit.modes],
        "composio_managed_auth_schemes": [mode.value for mode in toolkit.managed_modes],
        "no_auth": toolkit.no_auth,
    }


def listed(toolkit: Toolkit) -> schemas.ListedToolkit:
    return schemas.ListedToolkit(
        slug=toolkit.slug,
        name=toolkit.name,
        meta=schemas.ToolkitListMeta(
            categories=[schemas.ListedCategory(id=category.slug, name=category.name) for category in toolkit.categories],
            **_list_meta_fields(toolkit),
        ),
        **_scheme_summary(toolkit),
        type="native",
        auth_guide_url=toolkit.auth_guide_url,
        deprecated=schemas.ListedDeprecated(toolkit_id=toolkit.legacy_id),
    )


def _input_field(field: Field) -> schemas.InputField:
    return schemas.InputField(
        name=field.name,
        display_name=field.display_name,
        type=field.type,
        description=field.description,
        required=field.required,
        default=field.default,
        is_secret=field.is_secret,
    )


def _group(fields: tuple[Field, ...]) -> schemas.FieldGroup:
    return schemas.FieldGroup(
        required=[_input_field(field) for field in fields if field.required],
        optional=[_input_field(field) for field in fields if not field.required],
    )


def _provider_urls(toolkit: Toolkit, mode: AuthMode) -> schemas.ProviderUrls | None:
    if mode is AuthMode.OAUTH2 and toolkit.oauth2:
        return schemas.ProviderUrls(authorization_url=toolkit.oauth2.authorize_url, token_url=toolkit.oauth2.token_url)
    if mode is AuthMode.OAUTH1 and toolkit.oauth1:
        return schemas.ProviderUrls(
            authorization_url=toolkit.oauth1.authorize_url, token_url=toolkit.oauth1.access_token_url
        )
    return None


def _auth_config_detail(toolkit: Toolkit, scheme: AuthSchemeSpec) -> schemas.AuthConfigDetail:
    return schemas.AuthConfigDetail(
        mode=scheme.mode.value,
        name=scheme.name or f"{toolkit.slug}_{scheme.mode.value.lower()}",
        fields=schemas.SchemeFields(
            auth_config_creation=_group(scheme.auth_config_fields),
            connected_account_initiation=_group(scheme.connection_fields),
        ),
        auth_hint_url=scheme.auth_hint_url,
        deprecated_auth_provider_details=_provider_urls(toolkit, scheme.mode),
    )


def _proxy_info(toolkit: Toolkit) -> list[dict[str, Any]]:
    """Composio's deprecated per-scheme summary: where requests go, and the OAuth2 token exchange."""
    info = []
    for scheme in toolkit.auth_schemes:
        entry: dict[str, Any] = {"auth_method": scheme.mode.value}
        base_url = toolkit.base_url_for(scheme.mode)
        if base_url:
            entry["proxy"] = {"base_url": base_url}
        if scheme.mode is AuthMode.OAUTH2 and toolkit.oauth2:
            entry["token_url"] = toolkit.oauth2.token_url
            entry["authorization_params"] = {"response_type": "code", **toolkit.oauth2.authorize_params}
            entry["disable_pkce"] = not toolkit.oauth2.pkce
        info.append(entry)
    return info


def detail(toolkit: Toolkit) -> schemas.ToolkitDetail:
    managed = [
        schemas.ManagedAuth(mode=mode.value, scopes=schemas.ScopeCeiling(available=list(toolkit.managed_scopes)))
        for mode in toolkit.managed_modes
    ]
    base_url = toolkit.base_url if toolkit.base_url and "{" not in toolkit.base_url else None
    return schemas.ToolkitDetail(
        slug=toolkit.slug,
        name=toolkit.name,
        type="native",
        meta=schemas.ToolkitMeta(
            categories=[schemas.CategoryRef(slug=category.slug, name=category.name) for category in toolkit.categories],
            available_versions=[toolkit.version],
            **_list_meta_fields(toolkit),
        ),
        **_scheme_summary(toolkit),
        composio_managed_auth=managed,
        auth_config_details=[_auth_config_detail(toolkit, scheme) for scheme in toolkit.auth_schemes],
        auth_guide_url=toolkit.auth_guide_url,
        # A base URL that needs connection values (a tenant's host) only exists per connection.
        base_url=base_url,
        deprecated=schemas.Deprecated(
            toolkit_id=toolkit.legacy_id, raw_proxy_info_by_auth_schemes=_proxy_info(toolkit)
        ),
    )
