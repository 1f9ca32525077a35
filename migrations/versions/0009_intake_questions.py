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


KINDS = "kind IN ('short_text', 'long_text', 'yes_no', 'choice')"


def upgrade():
    op.create_table('intake_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('prompt', sa.String(length=200), nullable=False),
    sa.Column('required', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(KINDS, name=op.f('ck_intake_questions_kind_known')),
    sa.CheckConstraint('length(prompt) >= 1 AND length(prompt) <= 200', name=op.f('ck_intake_questions_prompt_length')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_intake_questions_service_id_services'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_questions'))
    )
    with op.batch_alter_table('intake_questions', schema=None) as batch_op:
        batch_op.create_index('ix_intake_questions_service_position', ['service_id', 'position'], unique=False)

    op.create_table('intake_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('question', sa.String(length=200), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.CheckConstraint(KINDS, name=op.f('ck_intake_answers_kind_known')),
    sa.CheckConstraint('length(answer) >= 1 AND length(answer) <= 2000', name=op.f('ck_intake_answers_answer_length')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'],
                            name=op.f('fk_intake_answers_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['intake_questions.id'],
                            name=op.f('fk_intake_answers_question_id_intake_questions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_answers')),
    sa.UniqueConstraint('appointment_id', 'question_id', name='uq_intake_answers_appointment_question')
    )
    with op.batch_alter_table('intake_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_answers_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_answers_question_id'), ['question_id'], unique=False)


def downgrade():
    with op.batch_alter_table('intake_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_answers_question_id'))
        batch_op.drop_index(batch_op.f('ix_intake_answers_appointment_id'))

    op.drop_table('intake_answers')
    with op.batch_alter_table('intake_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_questions_service_position')

    op.drop_table('intake_questions')
