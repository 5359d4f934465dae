"""Holder identity for the CPF register (R15, CPF identity fields)

What the CPF register needs of a holder, each optional: sex (M or F), usage name (last_name stays the birth
name), up to two other first names (a JSON list), the INSEE code of the place of birth (a commune, or 99XXX
of a country for a birth abroad) and the country's label. The commune's label was already birth_place.

Revision ID: f2c6a1d8e9b3
Revises: e8b2d5f41a97
Create Date: 2026-12-02 00:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2c6a1d8e9b3'
down_revision = 'e8b2d5f41a97'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sex', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('usage_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('other_first_names', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('birth_place_code', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('birth_country', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.drop_column('birth_country')
        batch_op.drop_column('birth_place_code')
        batch_op.drop_column('other_first_names')
        batch_op.drop_column('usage_name')
        batch_op.drop_column('sex')
