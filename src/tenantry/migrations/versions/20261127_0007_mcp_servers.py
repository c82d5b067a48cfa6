"""mcp servers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 17:43:17.888301
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mcp_servers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=15), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('auth_config_ids', sa.JSON(), nullable=False),
    sa.Column('toolkits', sa.JSON(), nullable=False),
    sa.Column('allowed_tools', sa.JSON(), nullable=False),
    sa.Column('managed_auth_via_composio', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_mcp_servers_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mcp_servers'))
    )
    with op.batch_alter_table('mcp_servers', schema=None) as batch_op:
        batch_op.create_index('uq_mcp_servers_project_id_live_name', ['project_id', 'name'], unique=True, sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))

    op.create_table('mcp_server_instances',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('server_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['server_id'], ['mcp_servers.id'], name=op.f('fk_mcp_server_instances_server_id_mcp_servers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mcp_server_instances')),
    sa.UniqueConstraint('server_id', 'user_id', name=op.f('uq_mcp_server_instances_server_id_user_id'))
    )


def downgrade() -> None:
    op.drop_table('mcp_server_instances')
    with op.batch_alter_table('mcp_servers', schema=None) as batch_op:
        batch_op.drop_index('uq_mcp_servers_project_id_live_name', sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))

    op.drop_table('mcp_servers')
