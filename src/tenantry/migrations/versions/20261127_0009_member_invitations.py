"""member invitations

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 21:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('member_invitations',
    sa.Column('id', sa.String(length=15), nullable=False),
    sa.Column('org_id', sa.String(length=15), nullable=False),
    sa.Column('member_id', sa.String(length=15), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_invitations_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_member_invitations_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_member_invitations_token_hash'))
    )
    with op.batch_alter_table('member_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_member_invitations_member_id', ['member_id'], unique=False)
        batch_op.create_index('ix_member_invitations_org_id', ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('member_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_member_invitations_org_id')
        batch_op.drop_index('ix_member_invitations_member_id')

    op.drop_table('member_invitations')
