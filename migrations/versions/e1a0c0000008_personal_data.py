"""personal data: audit entries name the candidate whose data was read or changed, and the page or endpoint;
a candidate records when their personal data were erased (RGPD)

Revision ID: e1a0c0000008
Revises: e1a0c0000007
Create Date: 2026-12-02 07:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e1a0c0000008'
down_revision = 'e1a0c0000007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('candidate_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('page', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_log_candidate_id'), ['candidate_id'], unique=False)
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_candidate_id'))
        batch_op.drop_column('page')
        batch_op.drop_column('candidate_id')
