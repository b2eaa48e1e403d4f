"""bank operations: each payment once, whatever route brought it

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

from relay.store.schema import UTCDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bank_operations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('op_key', sa.String(length=255), nullable=False),
    sa.Column('alt_keys', sa.JSON(), nullable=False),
    sa.Column('account', sa.String(length=34), nullable=False),
    sa.Column('direction', sa.String(length=1), nullable=False),
    sa.Column('amount_kopecks', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('document_number', sa.String(length=64), nullable=False),
    sa.Column('document_date', sa.Date(), nullable=True),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('counterparty_name', sa.Text(), nullable=False),
    sa.Column('counterparty_inn', sa.String(length=32), nullable=False),
    sa.Column('counterparty_kpp', sa.String(length=32), nullable=False),
    sa.Column('counterparty_account', sa.String(length=64), nullable=False),
    sa.Column('counterparty_bik', sa.String(length=32), nullable=False),
    sa.Column('counterparty_bank', sa.Text(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('purpose_fields', sa.JSON(), nullable=False),
    sa.Column('tochka_payment_id', sa.String(length=255), nullable=True),
    sa.Column('tbank_operation_id', sa.String(length=255), nullable=True),
    sa.Column('routes', sa.JSON(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('first_seen_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('op_key')
    )
    with op.batch_alter_table('bank_operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_operations_counterparty_inn'), ['counterparty_inn'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_operations_tochka_payment_id'), ['tochka_payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_operations_tbank_operation_id'), ['tbank_operation_id'], unique=False)
        batch_op.create_index('ix_bank_operations_match', ['account', 'direction', 'counterparty_account', 'document_number', 'amount_kopecks'], unique=False)
        batch_op.create_index('ix_bank_operations_posted', ['posted_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bank_operations', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_operations_posted')
        batch_op.drop_index('ix_bank_operations_match')
        batch_op.drop_index(batch_op.f('ix_bank_operations_tbank_operation_id'))
        batch_op.drop_index(batch_op.f('ix_bank_operations_tochka_payment_id'))
        batch_op.drop_index(batch_op.f('ix_bank_operations_counterparty_inn'))
    op.drop_table('bank_operations')
