from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

OrganizationName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class OrganizationCreate(BaseModel):
    name: OrganizationName


class OrganizationCreated(BaseModel):
    """An organization with its org API key, shown this once."""

    id: str
    name: str
    api_key: str
