"""Writing TOML (the standard library only reads it): enough for catalog files."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _string(value: str) -> str:
    # A JSON string is a TOML basic string, once DEL (which TOML wants escaped) is escaped too.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, Mapping) for item in value)


def _inline(value: Any) -> str:
    if value is None:
        raise ValueError("TOML has no null; write the file as JSON instead")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ("-" if value < 0 else "") + ("nan" if math.isnan(value) else "inf")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(str(key))} = {_inline(item)}" for key, item in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_inline(item) for item in value) + "]"
    raise ValueError(f"cannot write a {type(value).__name__} as TOML")


# Tables this short stay on their key's line; longer ones get headers of their own.
INLINE_WIDTH = 100


def _table(table: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    nested = []
    for key, value in table.items():
        line = f"{_key(str(key))} = {_inline(value)}"
        if ((isinstance(value, Mapping) and value) or _is_table_array(value)) and len(line) > INLINE_WIDTH:
            nested.append((key, value))
        else:
            lines.append(line)
    for key, value in nested:
        here = [*path, _key(str(key))]
        if isinstance(value, Mapping):
            lines.extend(["", f"[{'.'.join(here)}]"])
            _table(value, here, lines)
        else:
            for item in value:
                lines.extend(["", f"[[{'.'.join(here)}]]"])
                _table(item, here, lines)


def dumps(document: Mapping[str, Any]) -> str:
    """`document` as TOML: scalars inline, tables and arrays of tables as headers."""
    lines: list[str] = []
    _table(document, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"
