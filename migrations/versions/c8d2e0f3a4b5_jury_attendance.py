"""Jury attendance by college and president (R14)

Each member's row of a session (jury_members) says the college (salaries | employeurs, NULL until the
attendance is recorded), whether the member was present and whether presided; a president is present.
Existing rows become "not recorded yet" (NULL college, absent), so a held session needs its attendance
before publication.

Revision ID: c8d2e0f3a4b5
Revises: b7c1d9e2f3a4
Create Date: 2026-12-02 00:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c8d2e0f3a4b5'
down_revision = 'b7c1d9e2f3a4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jury_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('college', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('present', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('president', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint('college', "college IS NULL OR college IN ('salaries', 'employeurs')")
        batch_op.create_check_constraint('president_present', 'NOT president OR present')


def downgrade():
    with op.batch_alter_table('jury_members', schema=None) as batch_op:
        batch_op.drop_constraint('president_present', type_='check')
        batch_op.drop_constraint('college', type_='check')
        batch_op.drop_column('president')
        batch_op.drop_column('present')
        batch_op.drop_column('college')
