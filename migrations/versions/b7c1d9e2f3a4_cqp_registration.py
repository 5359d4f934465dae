"""CQP registration (RNCP/RS, level, NSF, decision date, carry_over_years) and the parchment signature

Each CQP gets its registration by France compétences, all optional (an existing CQP is not registered until
the secretariat says so): repertoire (RNCP or RS), repertoire_code, level (1..8), nsf_code, registered_on;
and carry_over_years (R13), 5 for existing rows. Each parchment version keeps the registration it prints
(cqp_registration, JSON; NULL for the versions issued before: they print the CQP's). The president's signature printed on the parchments is a
file under UPLOAD_DIR (app/jury/signature.py): no table.

Revision ID: b7c1d9e2f3a4
Revises: a9d3e7b1c5f4
Create Date: 2026-12-02 00:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7c1d9e2f3a4'
down_revision = 'a9d3e7b1c5f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cqps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repertoire', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('repertoire_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('level', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('nsf_code', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('registered_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('carry_over_years', sa.SmallInteger(), server_default='5', nullable=False))
    with op.batch_alter_table('parchment_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cqp_registration', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('parchment_versions', schema=None) as batch_op:
        batch_op.drop_column('cqp_registration')
    with op.batch_alter_table('cqps', schema=None) as batch_op:
        batch_op.drop_column('carry_over_years')
        batch_op.drop_column('registered_on')
        batch_op.drop_column('nsf_code')
        batch_op.drop_column('level')
        batch_op.drop_column('repertoire_code')
        batch_op.drop_column('repertoire')
