"""What the edge holds every client input to, before any of it reaches a service or the database.

Text.  PostgreSQL cannot store the NUL character (U+0000) in a text column (asyncpg raises, and the
request answered 500), SQLite stores it, and no name, id, URL or secret legitimately holds one. So a
NUL in any string a client sends (a body field, a query, path or header value, a key or a string
anywhere inside free-form JSON) is refused with a 400 naming the field, on both databases. `NoNul`
is the check: the last item of a field's or parameter's `Annotated[...]`, after its length and
pattern constraints (which keep pydantic's own messages that way), or `Text` for a plain string. It
looks through lists and free-form JSON (`JsonObject`, `JsonValue`), not into nested models, which
check their own fields. `checked_text` is the same rule for text read outside a schema.

Types.  A request body is JSON, which has booleans, integers and numbers of its own. A client that
sends `"off"` or `0` for a boolean, or `true`, `"5"` or `2.0` for an integer, made a mistake, and
coercing it stores something else than the client meant (`true` as a rate limit of 1). So every
request body schema derives from `RequestBody`, which validates strictly. JSON has no enum or
date-time type: those arrive as strings, which `Choice[...]` and `IsoDateTime[...]` accept (and,
from Python callers, the member or the datetime itself), never numbers. Query and path values are
strings by nature and are parsed from text as before: only bodies are strict.

tests/test_inputs.py walks the application's route table and fails for any string (or free-form
JSON) field or parameter without `NoNul`, and for any body schema that is not a `RequestBody`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator
from pydantic_core import PydanticCustomError

from tenantry.errors import InvalidRequest

NUL = "\x00"
_NUL_MESSAGE = "must not contain the NUL character (U+0000)"


def _nul_at(value: object) -> str | None:
    """Where in `value` (lists and dicts of strings) a NUL is, as words for the error; None if nowhere."""
    pending: list[tuple[str, object]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return f"at {path}" if path else ""
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and NUL in key:
                    return f"in a key of {path}" if path else "in a key"
                pending.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(item, list | tuple):
            pending.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
    return None


def refuse_nul(value: Any) -> Any:
    # The common case, a plain string, without building a path.
    if isinstance(value, str):
        if NUL in value:
            raise PydanticCustomError("string_nul", _NUL_MESSAGE)
        return value
    where = _nul_at(value)
    if where is not None:
        raise PydanticCustomError("string_nul", f"{_NUL_MESSAGE} ({where})" if where else _NUL_MESSAGE)
    return value


def checked_text(field: str, value: str) -> str:
    """The same rule for text read outside a schema or a route's parameters (a mounted app's query)."""
    if NUL in value:
        raise InvalidRequest.field(field, _NUL_MESSAGE)
    return value


NoNul = AfterValidator(refuse_nul)
Text = Annotated[str, NoNul]
JsonObject = Annotated[dict[str, Any], NoNul]
JsonValue = Annotated[Any, NoNul]


def _a_string(value: Any) -> Any:
    # Lax mode would read a number as seconds since the epoch; JSON's strict mode does not.
    if isinstance(value, bool | int | float):
        raise PydanticCustomError("datetime_type", "Input should be a date-time string (ISO 8601)")
    return value


T = TypeVar("T")
# An enum field: its value as a string (or, from Python callers, the member).
Choice = Annotated[T, Strict(False)]
# A date-time field: an ISO 8601 string (or, from Python callers, a datetime).
IsoDateTime = Annotated[T, Strict(False), BeforeValidator(_a_string)]


class RequestBody(BaseModel):
    """The base of every request body schema: types as JSON has them, no coercion."""

    model_config = ConfigDict(strict=True)

    # Schemas that take fields of their own choosing (extra="allow") hold them to the same rules.
    __pydantic_extra__: dict[str, JsonValue] = Field(init=False)

    @model_validator(mode="after")
    def _extra_names_are_text(self) -> RequestBody:
        for name in self.__pydantic_extra__ or ():
            if NUL in name:
                raise PydanticCustomError("string_nul", _NUL_MESSAGE + " (in a field name)")
        return self


# What this server's cursors are made of: URL-safe base64, padded (tenantry.kit.pagination).
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*={0,2}$"
CURSOR_MAX_LENGTH = 500
_CURSOR = re.compile(CURSOR_PATTERN)


def _cursor_shape(value: str) -> str:
    if not _CURSOR.fullmatch(value):
        raise PydanticCustomError("cursor_invalid", "invalid")
    return value


# A cursor as a client sends it back. The schema states its alphabet; a value of that shape that
# this server did not make is still refused, when it is decoded.
CursorText = Annotated[
    str,
    Field(max_length=CURSOR_MAX_LENGTH, json_schema_extra={"pattern": CURSOR_PATTERN}),
    NoNul,
    AfterValidator(_cursor_shape),
]
CursorParam = Annotated[
    CursorText | None, Query(description="`next_cursor` of the previous page, as this server returned it.")
]
