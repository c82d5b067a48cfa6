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
from dataclasses import dataclass
from datetime import datetime

from tenantry.errors import InvalidRequest


@dataclass(frozen=True)
class Cursor:
    page: int
    limit: int
    after_created_at: datetime
    after_id: str

    def encode(self) -> str:
        payload = {
            "page": self.page,
            "limit": self.limit,
            "after": [self.after_created_at.isoformat(), self.after_id],
        }
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            payload = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            created_at, row_id = payload["after"]
            return cls(
                page=int(payload["page"]),
                limit=int(payload["limit"]),
                after_created_at=datetime.fromisoformat(created_at),
                after_id=str(row_id),
            )
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise InvalidRequest(
                "cursor is not a value this server returned as next_cursor",
                errors=["cursor: invalid"],
            ) from None


def total_pages(total_items: int, limit: int) -> int:
    return max(1, math.ceil(total_items / limit))
