"""Initial schema: accounts, the clinic, appointments and their audit trail.

Revision ID: 0001_initial
Revises: 
Create Date: 2026-11-21 22:47:17.015724

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('duration_min', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('auto_approve', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.CheckConstraint('duration_min > 0 AND duration_min <= 1440', name=op.f('ck_services_duration_positive')),
    sa.CheckConstraint('length(name) >= 1', name=op.f('ck_services_name_not_blank')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_services_price_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('name', name=op.f('uq_services_name'))
    )
    op.create_table('specialties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.CheckConstraint('length(name) >= 1', name=op.f('ck_specialties_name_not_blank')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_specialties')),
    sa.UniqueConstraint('name', name=op.f('uq_specialties_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.CheckConstraint("role IN ('patient', 'staff', 'admin')", name=op.f('ck_users_role_known')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lower_case')),
    sa.CheckConstraint('length(email) >= 3', name=op.f('ck_users_email_not_blank')),
    sa.CheckConstraint('length(full_name) >= 1', name=op.f('ck_users_full_name_not_blank')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('session_token', name=op.f('uq_users_session_token'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_role'), ['role'], unique=False)

    op.create_table('patient_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('emergency_contact_name', sa.String(length=120), nullable=True),
    sa.Column('emergency_contact_phone', sa.String(length=32), nullable=True),
    sa.Column('blood_group', sa.String(length=8), nullable=True),
    sa.Column('medical_notes', sa.Text(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_patient_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_patient_profiles'))
    )
    op.create_table('providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('specialty_id', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('buffer_before_min', sa.Integer(), server_default='0', nullable=False),
    sa.Column('buffer_after_min', sa.Integer(), server_default='0', nullable=False),
    sa.Column('slot_step_min', sa.Integer(), nullable=True),
    sa.Column('min_notice_min', sa.Integer(), server_default='120', nullable=False),
    sa.Column('horizon_days', sa.Integer(), server_default='60', nullable=False),
    sa.Column('license_number', sa.String(length=64), nullable=True),
    sa.Column('years_experience', sa.Integer(), nullable=True),
    sa.Column('fee_cents', sa.Integer(), nullable=True),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('buffer_after_min >= 0 AND buffer_after_min <= 240', name=op.f('ck_providers_buffer_after_range')),
    sa.CheckConstraint('buffer_before_min >= 0 AND buffer_before_min <= 240', name=op.f('ck_providers_buffer_before_range')),
    sa.CheckConstraint('fee_cents IS NULL OR fee_cents >= 0', name=op.f('ck_providers_fee_not_negative')),
    sa.CheckConstraint('horizon_days > 0', name=op.f('ck_providers_horizon_positive')),
    sa.CheckConstraint('min_notice_min >= 0', name=op.f('ck_providers_min_notice_not_negative')),
    sa.CheckConstraint('slot_step_min IS NULL OR slot_step_min > 0', name=op.f('ck_providers_slot_step_positive')),
    sa.CheckConstraint('years_experience IS NULL OR years_experience >= 0', name=op.f('ck_providers_experience_not_negative')),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialties.id'], name=op.f('fk_providers_specialty_id_specialties'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_providers_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_providers')),
    sa.UniqueConstraint('user_id', name=op.f('uq_providers_user_id'))
    )
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_providers_specialty_id'), ['specialty_id'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'cancelled', 'completed', 'no_show')", name=op.f('ck_appointments_status_known')),
    sa.CheckConstraint('end_at > start_at', name=op.f('ck_appointments_ends_after_start')),
    sa.CheckConstraint('reason IS NULL OR length(reason) <= 500', name=op.f('ck_appointments_reason_length')),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_appointments_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_appointments_provider_id_providers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_appointments_service_id_services'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_patient_start', ['patient_id', 'start_at'], unique=False)
        batch_op.create_index('ix_appointments_provider_start', ['provider_id', 'start_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_service_id'), ['service_id'], unique=False)
        batch_op.create_index('ix_appointments_status_start', ['status', 'start_at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # The last word against double booking: no two time-holding appointments of one provider overlap.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT ex_appointments_provider_time "
            "EXCLUDE USING gist (provider_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
            "WHERE (status IN ('approved', 'pending'))"
        )

    op.create_table('provider_services',
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_services_provider_id_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_provider_services_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'service_id', name=op.f('pk_provider_services'))
    )
    op.create_table('time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_at > start_at', name=op.f('ck_time_off_ends_after_start')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_time_off_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_off'))
    )
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.create_index('ix_time_off_provider_start', ['provider_id', 'start_at'], unique=False)

    op.create_table('working_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_working_hours_ends_after_start')),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name=op.f('ck_working_hours_weekday_range')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_working_hours_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_hours'))
    )
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.create_index('ix_working_hours_provider_weekday', ['provider_id', 'weekday'], unique=False)

    op.create_table('appointment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('from_start_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('to_start_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("from_status IS NULL OR from_status IN ('pending', 'approved', 'rejected', 'cancelled', 'completed', 'no_show')", name=op.f('ck_appointment_events_from_status_known')),
    sa.CheckConstraint("to_status IS NULL OR to_status IN ('pending', 'approved', 'rejected', 'cancelled', 'completed', 'no_show')", name=op.f('ck_appointment_events_to_status_known')),
    sa.CheckConstraint('length(kind) >= 1', name=op.f('ck_appointment_events_kind_not_blank')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_appointment_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_appointment_events_appointment_id_appointments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_events'))
    )
    with op.batch_alter_table('appointment_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_events_appointment_id'), ['appointment_id'], unique=False)

    op.create_table('appointment_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('visible_to_patient', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(body) >= 1', name=op.f('ck_appointment_notes_body_not_blank')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_appointment_notes_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_appointment_notes_author_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_notes'))
    )
    with op.batch_alter_table('appointment_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_notes_appointment_id'), ['appointment_id'], unique=False)



def downgrade():
    with op.batch_alter_table('appointment_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_notes_appointment_id'))

    op.drop_table('appointment_notes')
    with op.batch_alter_table('appointment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_events_appointment_id'))

    op.drop_table('appointment_events')
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_working_hours_provider_weekday')

    op.drop_table('working_hours')
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.drop_index('ix_time_off_provider_start')

    op.drop_table('time_off')
    op.drop_table('provider_services')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_status_start')
        batch_op.drop_index(batch_op.f('ix_appointments_service_id'))
        batch_op.drop_index('ix_appointments_provider_start')
        batch_op.drop_index('ix_appointments_patient_start')

    op.drop_table('appointments')
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_providers_specialty_id'))

    op.drop_table('providers')
    op.drop_table('patient_profiles')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_role'))

    op.drop_table('users')
    op.drop_table('specialties')
    op.drop_table('services')
    if op.get_bind().dialect.name == "postgresql":
        # Drop the extension when we may and nothing else uses it; an operator's superuser may own it.
        op.execute(
            "DO $$ BEGIN DROP EXTENSION IF EXISTS btree_gist; "
            "EXCEPTION WHEN insufficient_privilege OR dependent_objects_still_exist THEN NULL; END $$"
        )
