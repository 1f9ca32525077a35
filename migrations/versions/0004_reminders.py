"""Appointments remember the start time their reminder was sent for.

Revision ID: 0004_reminders
Revises: 0003_outbox
Create Date: 2026-11-22 00:52:39.134244

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_reminders'
down_revision = '0003_outbox'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_for', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('reminded_for')

