"""job lifecycle: outbox column, leases, attempt log, events, worker heartbeats

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 18:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('workspace_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('data', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_workspace_id'), ['workspace_id'], unique=False)
    op.create_table(
        'worker_processes',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('hostname', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('queues', sa.JSON(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('in_flight', sa.Integer(), nullable=False),
        sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('broker_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('worker_processes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_processes_heartbeat_at'), ['heartbeat_at'], unique=False)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt_log', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('dispatch_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('worker_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rate_limited_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_jobs_dispatch_at'), ['dispatch_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_worker_id'), ['worker_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_worker_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_dispatch_at'))
        for name in ('cancel_requested_at', 'rate_limited_since', 'not_before', 'lease_expires_at', 'worker_id',
                     'message_id', 'dispatch_at', 'attempt_log'):
            batch_op.drop_column(name)
    with op.batch_alter_table('worker_processes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_processes_heartbeat_at'))
    op.drop_table('worker_processes')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_events_job_id'))
    op.drop_table('events')
