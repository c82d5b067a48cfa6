"""tools usage and logs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 17:45:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('project_rate_limits',
    sa.Column('project_id', sa.String(length=15), nullable=False),
    sa.Column('requests_per_window', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_rate_limits_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_project_rate_limits'))
    )
    op.create_table('tool_execution_logs',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('project_id', sa.String(length=15), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('tool_slug', sa.String(length=128), nullable=False),
    sa.Column('toolkit_slug', sa.String(length=64), nullable=False),
    sa.Column('connected_account_id', sa.String(length=15), nullable=True),
    sa.Column('auth_config_id', sa.String(length=15), nullable=True),
    sa.Column('user_id', sa.String(length=256), nullable=True),
    sa.Column('session_id', sa.String(length=128), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_tool_execution_logs_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tool_execution_logs'))
    )
    with op.batch_alter_table('tool_execution_logs', schema=None) as batch_op:
        batch_op.create_index('ix_tool_execution_logs_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_tool_execution_logs_project_id_created_at', ['project_id', 'created_at', 'id'], unique=False)

    op.create_table('usage_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.String(length=15), nullable=False),
    sa.Column('project_id', sa.String(length=15), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('occurred_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('tool_slug', sa.String(length=128), nullable=True),
    sa.Column('toolkit_slug', sa.String(length=64), nullable=True),
    sa.Column('connected_account_id', sa.String(length=15), nullable=True),
    sa.Column('user_id', sa.String(length=256), nullable=True),
    sa.Column('session_id', sa.String(length=128), nullable=True),
    sa.Column('log_id', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_usage_events_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_usage_events_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_events'))
    )
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.create_index('ix_usage_events_org_id_entity_type_occurred_at_ms', ['org_id', 'entity_type', 'occurred_at_ms'], unique=False)
        batch_op.create_index('ix_usage_events_project_id_entity_type_occurred_at_ms', ['project_id', 'entity_type', 'occurred_at_ms'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_events_project_id_entity_type_occurred_at_ms')
        batch_op.drop_index('ix_usage_events_org_id_entity_type_occurred_at_ms')

    op.drop_table('usage_events')
    with op.batch_alter_table('tool_execution_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_tool_execution_logs_project_id_created_at')
        batch_op.drop_index('ix_tool_execution_logs_created_at')

    op.drop_table('tool_execution_logs')
    op.drop_table('project_rate_limits')
