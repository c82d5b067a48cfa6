from __future__ import annotations

from pydantic import BaseModel

from tenantry.kit.time import Timestamp


class ApiKey(BaseModel):
    """A project API key as listed: the key itself is masked (`ak_**` + last four)."""

    id: str
    name: str
    key: str
    created_at: Timestamp
    last_used_at: Timestamp | None


class ApiKeyCreated(BaseModel):
    """A key at the one moment its full value is shown."""

    id: str
    name: str
    key: str
    created_at: Timestamp


class ApiKeyRegenerated(BaseModel):
    api_key: ApiKeyCreated
    message: str = "API key regenerated successfully"
