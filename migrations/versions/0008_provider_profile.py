"""Provider profiles: a photo, languages spoken and a location (room or branch) per provider.

Revision ID: 0008_provider_profile
Revises: 0007_overnight_hours
Create Date: 2026-12-01 22:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_provider_profile'
down_revision = '0007_overnight_hours'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
