"""providers.schedule_version is dropped: it was raised by every change to bookable time and never read.

Open calendars tell whether to redraw by a fingerprint of what they show (the free times themselves),
which no forgotten bump can make stale, and every change to bookable time already holds the provider's
lock (`booking.models.locking.provider_transaction`), so the counter's row write serialised nothing
that was not serialised anyway. Downgrading adds the column back at 0, as a new install had it.

Revision ID: 0011_drop_schedule_version
Revises: 0010_visit_details
Create Date: 2026-12-01 22:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_drop_schedule_version'
down_revision = '0010_visit_details'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_column('schedule_version')


def downgrade():
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_version', sa.Integer(), server_default='0', nullable=False))
