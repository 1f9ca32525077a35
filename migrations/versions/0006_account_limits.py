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
    pass


def downgrade():
    pass
