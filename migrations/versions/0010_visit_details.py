"""What a patient should bring, per service: shown on the confirmation page and in e-mails.

Revision ID: 0010_visit_details
Revises: 0009_intake_questions
Create Date: 2026-12-01 22:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_visit_details'
down_revision = '0009_intake_questions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('what_to_bring', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('what_to_bring')
