"""Counts of failed logins and reset e-mails per account, kept in the database so that every worker
shares them and a restart forgets none.

Revision ID: 0006_account_limits
Revises: 0005_account_life
Create Date: 2026-12-01 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_account_limits'
down_revision = '0005_account_life'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'account_limit_counts',
        sa.Column('scope', sa.String(length=40), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=False),
        sa.Column('period', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.BigInteger(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('count >= 0', name=op.f('ck_account_limit_counts_count_not_negative')),
        sa.CheckConstraint('period > 0', name=op.f('ck_account_limit_counts_period_positive')),
        sa.PrimaryKeyConstraint('scope', 'account', 'period', 'window_start', name=op.f('pk_account_limit_counts')),
    )
    with op.batch_alter_table('account_limit_counts', schema=None) as batch_op:
        batch_op.create_index('ix_account_limit_counts_expires_at', ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('account_limit_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_account_limit_counts_expires_at')
    op.drop_table('account_limit_counts')
