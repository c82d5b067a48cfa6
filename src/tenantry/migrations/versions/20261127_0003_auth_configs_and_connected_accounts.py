"""auth configs and connected accounts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 17:19:51.439611
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auth_configs',
    sa.Column('id', sa.String(length=15), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=15), nullable=False),
    sa.Column('toolkit_slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('auth_scheme', sa.String(length=32), nullable=False),
    sa.Column('is_composio_managed', sa.Boolean(), nullable=False),
    sa.Column('is_disabled', sa.Boolean(), nullable=False),
    sa.Column('secrets', sa.LargeBinary(), nullable=False),
    sa.Column('proxy_url', sa.String(length=2048), nullable=True),
    sa.Column('tool_access_config', sa.JSON(), nullable=False),
    sa.Column('restrict_to_following_tools', sa.JSON(), nullable=False),
    sa.Column('is_enabled_for_tool_router', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_auth_configs_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_configs')),
    sa.UniqueConstraint('uuid', name=op.f('uq_auth_configs_uuid'))
    )
    with op.batch_alter_table('auth_configs', schema=None) as batch_op:
        batch_op.create_index('ix_auth_configs_project_id_live_created_at', ['project_id', 'created_at', 'id'], unique=False, sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))

    op.create_table('connected_accounts',
    sa.Column('id', sa.String(length=15), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=15), nullable=False),
    sa.Column('auth_config_id', sa.String(length=15), nullable=False),
    sa.Column('toolkit_slug', sa.String(length=100), nullable=False),
    sa.Column('auth_scheme', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=False),
    sa.Column('alias', sa.String(length=256), nullable=True),
    sa.Column('word_id', sa.String(length=150), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=500), nullable=True),
    sa.Column('secrets', sa.LargeBinary(), nullable=False),
    sa.Column('requested_scopes', sa.JSON(), nullable=False),
    sa.Column('account_type', sa.String(length=8), nullable=False),
    sa.Column('acl_config_for_shared', sa.JSON(), nullable=True),
    sa.Column('initiation_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('oauth_state_digest', sa.String(length=64), nullable=True),
    sa.Column('link_token_digest', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['auth_config_id'], ['auth_configs.id'], name=op.f('fk_connected_accounts_auth_config_id_auth_configs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_connected_accounts_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connected_accounts')),
    sa.UniqueConstraint('link_token_digest', name=op.f('uq_connected_accounts_link_token_digest')),
    sa.UniqueConstraint('oauth_state_digest', name=op.f('uq_connected_accounts_oauth_state_digest')),
    sa.UniqueConstraint('uuid', name=op.f('uq_connected_accounts_uuid'))
    )
    with op.batch_alter_table('connected_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_connected_accounts_auth_config_id_live', ['auth_config_id'], unique=False, sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_connected_accounts_project_id_live_created_at', ['project_id', 'created_at', 'id'], unique=False, sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))
        batch_op.create_index('ix_connected_accounts_status_initiation', ['status', 'initiation_expires_at'], unique=False)
        batch_op.create_index('uq_connected_accounts_live_alias', ['project_id', 'user_id', 'toolkit_slug', 'alias'], unique=True, sqlite_where=sa.text('deleted_at IS NULL AND alias IS NOT NULL'), postgresql_where=sa.text('deleted_at IS NULL AND alias IS NOT NULL'))



def downgrade() -> None:
    with op.batch_alter_table('connected_accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_connected_accounts_live_alias', sqlite_where=sa.text('deleted_at IS NULL AND alias IS NOT NULL'), postgresql_where=sa.text('deleted_at IS NULL AND alias IS NOT NULL'))
        batch_op.drop_index('ix_connected_accounts_status_initiation')
        batch_op.drop_index('ix_connected_accounts_project_id_live_created_at', sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_connected_accounts_auth_config_id_live', sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))

    op.drop_table('connected_accounts')
    with op.batch_alter_table('auth_configs', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_configs_project_id_live_created_at', sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))

    op.drop_table('auth_configs')
