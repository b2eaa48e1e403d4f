"""initial schema

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa

from relay.store.schema import UTCDateTime


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cursors',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('dead_letters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('failed_at', UTCDateTime(), nullable=False),
    sa.Column('resolved_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    op.create_table('effects',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('target', sa.String(length=255), nullable=True),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('effects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_effects_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_effects_target'), ['target'], unique=False)

    op.create_table('inbox_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=128), nullable=False),
    sa.Column('entity_key', sa.String(length=255), nullable=False),
    sa.Column('idem_key', sa.String(length=255), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('lease_until', UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'idem_key', name='uq_inbox_source_idem')
    )
    with op.batch_alter_table('inbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_entity', ['entity_key', 'status', 'id'], unique=False)
        batch_op.create_index('ix_inbox_ready', ['status', 'next_attempt_at', 'id'], unique=False)
        batch_op.create_index('ix_inbox_received', ['received_at'], unique=False)

    op.create_table('leases',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('own_writes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entity_key', sa.String(length=255), nullable=False),
    sa.Column('field', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('written_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('own_writes', schema=None) as batch_op:
        batch_op.create_index('ix_own_writes_entity', ['entity_key', 'field'], unique=False)

    op.create_table('snapshots',
    sa.Column('entity_key', sa.String(length=255), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('entity_key')
    )
    op.create_table('timers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=128), nullable=False),
    sa.Column('fire_at', UTCDateTime(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('entity_key', sa.String(length=255), nullable=False),
    sa.Column('cancel_key', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by_event', sa.BigInteger(), nullable=True),
    sa.Column('done_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timers_cancel_key'), ['cancel_key'], unique=False)
        batch_op.create_index('ix_timers_due', ['status', 'fire_at'], unique=False)

    op.create_table('trace_steps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('step', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('trace_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trace_steps_event_id'), ['event_id'], unique=False)

    op.create_table('workers',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('heartbeat_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('workers')
    with op.batch_alter_table('trace_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trace_steps_event_id'))

    op.drop_table('trace_steps')
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_due')
        batch_op.drop_index(batch_op.f('ix_timers_cancel_key'))

    op.drop_table('timers')
    op.drop_table('snapshots')
    with op.batch_alter_table('own_writes', schema=None) as batch_op:
        batch_op.drop_index('ix_own_writes_entity')

    op.drop_table('own_writes')
    op.drop_table('leases')
    with op.batch_alter_table('inbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_received')
        batch_op.drop_index('ix_inbox_ready')
        batch_op.drop_index('ix_inbox_entity')

    op.drop_table('inbox_events')
    with op.batch_alter_table('effects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_effects_target'))
        batch_op.drop_index(batch_op.f('ix_effects_event_id'))

    op.drop_table('effects')
    op.drop_table('dead_letters')
    op.drop_table('cursors')
