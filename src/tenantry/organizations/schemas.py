from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from tenantry.api_keys.schemas import KeyName
from tenantry.kit.inputs import IsoDateTime, NoNul, RequestBody
from tenantry.kit.time import Timestamp

OrganizationName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]


class OrganizationCreate(RequestBody):
    name: OrganizationName


class OrganizationCreated(BaseModel):
    """An organization with its org API key, shown this once."""

    id: str
    name: str
    api_key: str


class OrgApiKeyCreate(RequestBody):
    """A named organization key, working until it is revoked or until `expires_at`."""

    model_config = ConfigDict(extra="forbid")

    name: KeyName = Field(description="1–100 characters, unique among the organization's live organization keys.")
    expires_at: IsoDateTime[AwareDatetime] | None = Field(
        default=None, description="When the key stops working (ISO-8601 with a timezone, in the future)."
    )


class OrgApiKey(BaseModel):
    """What the API shows of an organization key after its creation: never the key itself, only its last four."""

    id: str
    name: str
    key: str = Field(description="The key masked: `oak_**` + its last four characters.")
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(description="Kept to within about thirty seconds.")
    expires_at: Timestamp | None


class OrgApiKeyIssued(BaseModel):
    """An organization key at the one moment its full value is shown."""

    id: str
    name: str
    key: str = Field(description="The key itself (`oak_…`): send it in the `x-org-api-key` header. Shown only here.")
    created_at: Timestamp
    expires_at: Timestamp | None


class OrgApiKeyList(BaseModel):
    items: list[OrgApiKey]


class OrgApiKeyRevoked(BaseModel):
    status: Literal["success"] = "success"
