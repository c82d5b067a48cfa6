"""an index for listing an organization's own keys

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 20:25:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE_ORG_KEYS = sa.text("kind = 'oak' AND revoked_at IS NULL")


def upgrade() -> None:
    op.create_index(
        'ix_api_keys_org_id_org_keys_live', 'api_keys', ['org_id'], unique=False,
        sqlite_where=_LIVE_ORG_KEYS, postgresql_where=_LIVE_ORG_KEYS,
    )


def downgrade() -> None:
    op.drop_index('ix_api_keys_org_id_org_keys_live', table_name='api_keys')
