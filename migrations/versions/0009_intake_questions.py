"""Intake questions per service, and the answers stored with each appointment.

Revision ID: 0009_intake_questions
Revises: 0008_provider_profile
Create Date: 2026-12-01 22:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_intake_questions'
down_revision = '0008_provider_profile'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
