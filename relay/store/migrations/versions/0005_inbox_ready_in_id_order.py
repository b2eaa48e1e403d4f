"""inbox: the ready index walks pending events in id order

A claim takes the oldest ready events (ORDER BY id LIMIT n). Ordered by next_attempt_at, the index
made SQLite sort every pending event for each claim — about 7 ms with 4,000 waiting, paid once per
claimed event while a backlog drains; in id order the claim stops after the first n ready ones.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_ready')
        batch_op.create_index('ix_inbox_ready', ['status', 'id', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_ready')
        batch_op.create_index('ix_inbox_ready', ['status', 'next_attempt_at', 'id'], unique=False)
