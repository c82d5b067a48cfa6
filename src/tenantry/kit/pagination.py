"""Opaque cursors for keyset pagination.

Composio documents its cursor as "a base64 encoded string of the page and limit". Ours carries
the page number (for `current_page`) and the sort key of the last row served, so the next page
starts strictly after it: no OFFSET scan, and rows created meanwhile neither shift nor repeat
what a client has already seen.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from tenantry.errors import InvalidRequest

Row = TypeVar("Row")


@dataclass(frozen=True)
class Cursor:
    page: int
    limit: int
    after_value: datetime
    after_id: str

    def encode(self) -> str:
        payload = {
            "page": self.page,
            "limit": self.limit,
            "after": [self.after_value.isoformat(), self.after_id],
        }
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            payload = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            after_value, after_id = payload["after"]
            return cls(
                page=int(payload["page"]),
                limit=int(payload["limit"]),
                after_value=datetime.fromisoformat(after_value),
                after_id=str(after_id),
            )
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise InvalidRequest(
                "cursor is not a value this server returned as next_cursor",
                errors=["cursor: invalid"],
            ) from None


def total_pages(total_items: int, limit: int) -> int:
    return max(1, math.ceil(total_items / limit))


@dataclass(frozen=True)
class PageRequest:
    """A page to fetch: its size, its number, and the row it starts after."""

    limit: int
    page: int
    after: Cursor | None

    @classmethod
    def parse(cls, limit: int | None, cursor: str | None, default_limit: int) -> PageRequest:
        position = Cursor.decode(cursor) if cursor else None
        size = limit or (position.limit if position else default_limit)
        return cls(limit=size, page=position.page if position else 1, after=position)

    def apply(
        self,
        statement: Select[Any],
        sort_column: InstrumentedAttribute[Any],
        id_column: InstrumentedAttribute[Any],
        *,
        descending: bool = True,
    ) -> Select[Any]:
        """Orders by (sort, id), starts after the cursor's row, and fetches one row extra to see if more follow."""
        if self.after is not None:
            key = tuple_(sort_column, id_column)
            bound = (self.after.after_value, self.after.after_id)
            statement = statement.where(key < bound if descending else key > bound)
        if descending:
            statement = statement.order_by(sort_column.desc(), id_column.desc())
        else:
            statement = statement.order_by(sort_column.asc(), id_column.asc())
        return statement.limit(self.limit + 1)

    def slice(self, rows: Sequence[Row], sort_key: Callable[[Row], tuple[datetime, str]]) -> tuple[list[Row], str | None]:
        """The rows of this page and the cursor of the next one (None on the last page)."""
        shown = list(rows[: self.limit])
        if len(rows) <= self.limit:
            return shown, None
        value, row_id = sort_key(shown[-1])
        return shown, Cursor(self.page + 1, self.limit, value, row_id).encode()
