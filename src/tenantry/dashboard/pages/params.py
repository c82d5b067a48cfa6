"""What the pages share to read their input: the cursor parameter, the page size, date inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Query

from tenantry.errors import InvalidRequest
from tenantry.kit.inputs import NoNul

# A page's `next_cursor`, passed back as it was given.
Cursor = Annotated[str | None, Query(max_length=512), NoNul]
PAGE_SIZE = 20


def utc_day(value: str, field: str) -> datetime | None:
    """A date input's value (`YYYY-MM-DD`) as the start of that day, UTC; None when left empty."""
    if not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest.field(field, "must be a date, YYYY-MM-DD") from None


def end_of_day(day: datetime) -> datetime:
    """The last second of `day`: what "expires on" a date means."""
    return day + timedelta(days=1, seconds=-1)
