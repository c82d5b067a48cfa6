"""Query parameters the pages share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

# A page's `next_cursor`, passed back as it was given.
Cursor = Annotated[str | None, Query(max_length=512)]
PAGE_SIZE = 20
