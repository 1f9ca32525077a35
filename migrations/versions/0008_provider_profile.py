"""Provider profiles: a photo, languages spoken and a location (room or branch) per provider.

The photo's bytes get a table of their own (see booking/models/media.py for why the database holds
them); the provider row keeps the photo's hash, which names it in its address.

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
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('languages', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('location', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('photo_hash', sa.String(length=64), nullable=True))

    op.create_table(
        'provider_photos',
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=32), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_provider_photos_sha256_hex')),
        sa.CheckConstraint('width > 0 AND width <= 400 AND height > 0 AND height <= 400',
                           name=op.f('ck_provider_photos_bounded_size')),
        sa.ForeignKeyConstraint(['provider_id'], ['providers.id'],
                                name=op.f('fk_provider_photos_provider_id_providers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_provider_photos')),
    )


def downgrade():
    op.drop_table('provider_photos')
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_column('photo_hash')
        batch_op.drop_column('location')
        batch_op.drop_column('languages')
