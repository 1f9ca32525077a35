"""Working hours may end at midnight (24:00) or run overnight: an end at or before the start ends the
next day. The check that a block ends after it starts becomes a check that it is not empty (an end
equal to the start means the whole day, and only from 00:00).

Downgrading refuses while such blocks exist, rather than deleting working hours that patients book
against: the error names how many; change or remove them (in /staff/hours) and downgrade again.

Revision ID: 0007_overnight_hours
Revises: 0006_account_limits
Create Date: 2026-12-01 19:30:00

"""
from alembic import op
from alembic.util import CommandError
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_overnight_hours'
down_revision = '0006_account_limits'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_working_hours_ends_after_start'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_working_hours_not_empty'), "end_time <> start_time OR start_time < '00:00:01'")


def downgrade():
    hours = sa.table('working_hours', sa.column('start_time', sa.Time), sa.column('end_time', sa.Time))
    overnight = op.get_bind().execute(
        sa.select(sa.func.count()).select_from(hours).where(hours.c.end_time <= hours.c.start_time)).scalar()
    if overnight:
        raise CommandError(
            f"{overnight} block(s) of working hours end at midnight or the next day, which revision "
            "0006_account_limits cannot store; change or remove them first, then downgrade again."
        )
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_working_hours_not_empty'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_working_hours_ends_after_start'), 'end_time > start_time')
