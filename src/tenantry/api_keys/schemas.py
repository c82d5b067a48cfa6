from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from tenantry.auth.scopes import Scopes
from tenantry.kit.inputs import IsoDateTime, NoNul, RequestBody
from tenantry.kit.time import Timestamp

# A grace period may keep the old keys working for at most thirty days.
MAX_GRACE_PERIOD_SECONDS = 30 * 24 * 3600

KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
ScopeLevels = dict[str, str]


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
    previous_keys_expire_at: Timestamp | None = Field(
        default=None,
        description="With `grace_period_seconds`, when the keys this call replaced stop working; "
        "null when they stopped at once (Composio's behaviour).",
    )


class ApiKeyCreate(RequestBody):
    """A named key: full access unless `scopes` narrow it, forever unless `expires_at` ends it."""

    model_config = ConfigDict(extra="forbid")

    name: KeyName = Field(description="1–100 characters, unique among the project's live keys.")
    expires_at: IsoDateTime[AwareDatetime] | None = Field(
        default=None, description="When the key stops working (ISO-8601 with a timezone, in the future)."
    )
    scopes: Scopes | None = Field(  # type: ignore[valid-type]
        default=None, description="Permission levels per area; omit for a full-access key. Fixed at creation."
    )


class ApiKeyMetadata(BaseModel):
    """What the API shows of a key after its creation: never the key itself, only its last four."""

    id: str
    name: str
    key: str = Field(description="The key masked: `ak_**` + its last four characters.")
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(description="Kept to within about thirty seconds.")
    expires_at: Timestamp | None
    scopes: ScopeLevels | None = Field(description="The level of every permission area; null for a full-access key.")


class ApiKeyIssued(BaseModel):
    """A key at the one moment its full value is shown, with its expiry and scopes."""

    id: str
    name: str
    key: str
    created_at: Timestamp
    expires_at: Timestamp | None
    scopes: ScopeLevels | None


class ApiKeyList(BaseModel):
    items: list[ApiKeyMetadata]


class ApiKeyRevoked(BaseModel):
    status: Literal["success"] = "success"
