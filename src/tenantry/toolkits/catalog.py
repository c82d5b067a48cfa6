"""The toolkit catalog: the built-in toolkits plus the operator's file, loaded once per process.

Other domains look toolkits up here:

    toolkit = get_catalog().require(slug)          # ToolkitNotFound (404) when unknown
    scheme = toolkit.scheme(AuthMode.OAUTH2)         # None when the toolkit has no such scheme
    app = toolkit.require_managed_app()              # 400 when the operator configured none

The operator's file (TENANTRY_TOOLKITS_FILE, TOML or JSON; docs/toolkits.md) adds toolkits and
changes built-in ones by slug: its tables are merged key by key into the built-in definition,
lists and values replace. `enabled = false` removes a toolkit. Any mistake in the file stops the
server at startup with a CatalogError naming the file and each bad field.
"""

from __future__ import annotations

import json
import logging
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from tenantry.config import get_settings
from tenantry.errors import ToolkitNotFound
from tenantry.toolkits.spec import (
    AuthMode,
    AuthSchemeSpec,
    Category,
    Field,
    ManagedApp,
    Name,
    OAuth1Spec,
    OAuth2Spec,
    Slug,
    Tool,
    Toolkit,
    moment,
)

__all__ = [
    "AuthMode",
    "AuthSchemeSpec",
    "Catalog",
    "CatalogError",
    "Category",
    "Field",
    "ManagedApp",
    "OAuth1Spec",
    "OAuth2Spec",
    "Tool",
    "Toolkit",
    "get_catalog",
    "load_catalog",
]

logger = logging.getLogger("tenantry.toolkits")

BUILTIN_CATALOG = "data/toolkits.toml"
# Paths of the toolkits API that a toolkit slug would shadow.
RESERVED_SLUGS = frozenset({"categories", "changelog", "multi"})


class CatalogError(Exception):
    """A catalog file that cannot be used; the message names the file and every bad field."""


class _CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Default created_at/updated_at/version of the toolkits this file defines or changes.
    released_at: datetime | date | None = None
    # Display names of category slugs, for toolkits that list categories by slug.
    categories: dict[Slug, Name] = {}
    toolkits: dict[str, dict[str, Any]] = {}


class Catalog:
    """Every toolkit this server offers, in catalog order (built-in first, then the operator's)."""

    def __init__(self, toolkits: Iterable[Toolkit]) -> None:
        self._toolkits = tuple(toolkits)
        self._by_slug = {toolkit.slug: toolkit for toolkit in self._toolkits}
        self._tools = {tool.slug: (toolkit, tool) for toolkit in self._toolkits for tool in toolkit.tools}

    def get(self, slug: str) -> Toolkit | None:
        """The toolkit with that slug (any letter case), or None."""
        return self._by_slug.get(slug.lower())

    def require(self, slug: str) -> Toolkit:
        """The toolkit with that slug, or ToolkitNotFound (rendered as a 404)."""
        toolkit = self.get(slug)
        if toolkit is None:
            raise ToolkitNotFound(
                f"Toolkit '{slug}' not found",
                suggested_fix="GET /api/v3.1/toolkits lists the toolkits this server offers",
            )
        return toolkit

    def all(self) -> tuple[Toolkit, ...]:
        return self._toolkits

    def tool(self, slug: str) -> tuple[Toolkit, Tool] | None:
        """The tool with that slug (any letter case) and its toolkit, or None."""
        return self._tools.get(slug.upper())

    def tools(self) -> Iterator[tuple[Toolkit, Tool]]:
        """Every tool, in catalog order."""
        for toolkit in self._toolkits:
            for tool in toolkit.tools:
                yield toolkit, tool

    def categories(self) -> tuple[Category, ...]:
        """The categories the toolkits use, each once, by name."""
        seen: dict[str, Category] = {}
        for toolkit in self._toolkits:
            for category in toolkit.categories:
                seen.setdefault(category.slug, category)
        return tuple(sorted(seen.values(), key=lambda category: (category.name.casefold(), category.slug)))

    def __len__(self) -> int:
        return len(self._toolkits)

    def __iter__(self) -> Iterator[Toolkit]:
        return iter(self._toolkits)


def _parse(text: str, source: str, suffix: str) -> Any:
    try:
        if suffix == ".json":
            return json.loads(text)
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "JSON" if suffix == ".json" else "TOML"
        raise CatalogError(f"Invalid toolkit catalog {source}: not valid {kind}: {exc}") from None


def _location(parts: Iterable[Any]) -> str:
    # ("toolkits", "acme", "auth_schemes", 0, "mode") -> "toolkits.acme.auth_schemes[0].mode"
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _problems(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[str]:
    # Only the location and the message: pydantic's own text repeats the input, which may be a secret.
    return [f"{_location(prefix + tuple(error['loc'])) or 'file'}: {error['msg']}" for error in exc.errors()]


def _fail(source: str, problems: list[str]) -> CatalogError:
    return CatalogError(f"Invalid toolkit catalog {source}:\n  " + "\n  ".join(problems))


def _read_file(text: str, source: str, suffix: str) -> _CatalogFile:
    data = _parse(text, source, suffix)
    try:
        return _CatalogFile.model_validate(data)
    except ValidationError as exc:
        raise _fail(source, _problems(exc)) from None


def _merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` laid over `base`: tables merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _with_category_names(raw: dict[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    categories = raw.get("categories")
    if not isinstance(categories, list):
        return raw
    resolved = [
        {"slug": item, "name": names.get(item) or item.replace("-", " ").replace("_", " ").title()}
        if isinstance(item, str)
        else item
        for item in categories
    ]
    return {**raw, "categories": resolved}


def _defaults(released_at: datetime) -> dict[str, Any]:
    return {
        "version": released_at.strftime("%Y%m%d") + "_00",
        "created_at": released_at,
        "updated_at": released_at,
    }


def _read_operator_file(operator_file: Path) -> tuple[_CatalogFile, datetime]:
    source = str(operator_file)
    if operator_file.suffix.lower() not in (".toml", ".json"):
        raise CatalogError(f"Invalid toolkit catalog {source}: the file name must end in .toml or .json")
    try:
        text = operator_file.read_text("utf-8")
        modified = datetime.fromtimestamp(operator_file.stat().st_mtime, UTC)
    except OSError as exc:
        raise CatalogError(f"Cannot read toolkit catalog {source}: {exc.strerror or exc}") from None
    return _read_file(text, source, operator_file.suffix.lower()), modified


def load_catalog(operator_files: Path | Sequence[Path] | None = None) -> Catalog:
    """The built-in catalog with the operator's files (TOML or JSON) laid over it, in order."""
    if operator_files is None:
        operator_files = ()
    elif isinstance(operator_files, Path):
        operator_files = (operator_files,)
    builtin_text = resources.files("tenantry.toolkits").joinpath(BUILTIN_CATALOG).read_text("utf-8")
    builtin = _read_file(builtin_text, "(built-in)", ".toml")
    builtin_released = moment(builtin.released_at or date(1970, 1, 1))
    operators = [(str(path), *_read_operator_file(path)) for path in operator_files]

    names = dict(builtin.categories)
    for _, operator, _ in operators:
        names.update(operator.categories)
    # slug -> (definition, origin, where its mistakes are reported)
    entries: dict[str, tuple[dict[str, Any], str, str]] = {}
    for slug, raw in builtin.toolkits.items():
        entries[slug] = ({**_defaults(builtin_released), **raw, "slug": slug}, "builtin", "(built-in)")

    problems: dict[str, list[str]] = {}
    for source, operator, modified in operators:
        operator_released = moment(operator.released_at) if operator.released_at else modified
        for slug, raw in operator.toolkits.items():
            enabled = raw.pop("enabled", True)
            if not isinstance(enabled, bool):
                problems.setdefault(source, []).append(f"toolkits.{slug}.enabled: must be true or false")
                continue
            computed = sorted({"slug", "origin"} & set(raw))
            if computed:
                problems.setdefault(source, []).extend(f"toolkits.{slug}.{key}: is not a known field" for key in computed)
                continue
            if not enabled:
                entries.pop(slug, None)
                continue
            if slug in entries:
                base = entries[slug][0]
                changed = _merge(base, {"updated_at": operator_released, **raw})
            else:
                changed = {**_defaults(operator_released), **raw, "slug": slug}
            entries[slug] = (changed, "operator", source)

    toolkits: list[Toolkit] = []
    failures: dict[str, list[str]] = {source: list(found) for source, found in problems.items()}
    tool_owners: dict[str, str] = {}
    for slug, (raw, origin, reported_in) in entries.items():
        if slug in RESERVED_SLUGS:
            failures.setdefault(reported_in, []).append(
                f"toolkits.{slug}: '{slug}' is reserved by the toolkits API and cannot be a slug"
            )
            continue
        try:
            toolkit = Toolkit.model_validate({**_with_category_names(raw, names), "origin": origin})
        except ValidationError as exc:
            failures.setdefault(reported_in, []).extend(_problems(exc, ("toolkits", slug)))
            continue
        for tool in toolkit.tools:
            owner = tool_owners.setdefault(tool.slug, slug)
            if owner != slug:
                failures.setdefault(reported_in, []).append(
                    f"toolkits.{slug}.tools: {tool.slug} is already a tool of toolkit {owner}; tool slugs are unique"
                )
        toolkits.append(toolkit)
    for reported_in, found in failures.items():
        if found:
            raise _fail(reported_in, found)
    return Catalog(toolkits)


def check_toolkit(slug: str, raw: Mapping[str, Any]) -> list[str]:
    """What is wrong with `raw` as a new toolkit `slug` of an operator file; empty when nothing is."""
    if slug in RESERVED_SLUGS:
        return [f"toolkits.{slug}: '{slug}' is reserved by the toolkits API and cannot be a slug"]
    try:
        Toolkit.model_validate({**_defaults(datetime.now(UTC)), **raw, "slug": slug, "origin": "operator"})
    except ValidationError as exc:
        return _problems(exc, ("toolkits", slug))
    return []


def operator_files(setting: str | None) -> tuple[Path, ...]:
    """The files TENANTRY_TOOLKITS_FILE names: one path, or several separated by the OS path separator."""
    return tuple(Path(part) for part in (setting or "").split(os.pathsep) if part.strip())


@lru_cache
def get_catalog() -> Catalog:
    """This process's catalog: built-in plus TENANTRY_TOOLKITS_FILE, read on first use."""
    files = operator_files(get_settings().toolkits_file)
    catalog = load_catalog(files)
    logger.info(
        "toolkit catalog: %d toolkits%s",
        len(catalog),
        f" (with {', '.join(map(str, files))})" if files else "",
    )
    return catalog
