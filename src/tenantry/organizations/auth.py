"""Who may manage organization API keys: the organization key, or a member's user key with the
admin role there (tenantry.members.auth). An organization key can do everything an admin can, so a
developer minting one would promote themself: developers get 403."""

from __future__ import annotations

from tenantry.members.auth import OrgAdmin

OrgKeyManager = OrgAdmin
