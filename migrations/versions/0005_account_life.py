"""Account life: private calendar feed tokens, deleted accounts, e-mail preferences, and outbox rows
that know whom and which appointment they concern (so erasing a person finds them).

Revision ID: 0005_account_life
Revises: 0004_reminders
Create Date: 2026-11-22 02:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_account_life'
down_revision = '0004_reminders'
branch_labels = None
depends_on = None

PREFERENCES = ('email_reminders', 'email_receipts', 'email_notes', 'email_clinic_updates')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        for name in PREFERENCES:
            batch_op.add_column(sa.Column(name, sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_users_calendar_token'), ['calendar_token'])

    # Every existing account gets its own feed secret, as new ones do.
    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('calendar_token', sa.String))
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(calendar_token=secrets.token_urlsafe(32)))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_user_id_users'), 'users', ['user_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_outbox_appointment_id_appointments'), 'appointments',
                                    ['appointment_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_appointment_id_appointments'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_outbox_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_appointment_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_user_id'))
        batch_op.drop_column('appointment_id')
        batch_op.drop_column('user_id')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_calendar_token'), type_='unique')
        for name in reversed(PREFERENCES):
            batch_op.drop_column(name)
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('calendar_token')
