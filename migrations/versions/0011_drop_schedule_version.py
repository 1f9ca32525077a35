"""providers.schedule_version is dropped: it was written and never read.

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
    pass


def downgrade():
    pass
