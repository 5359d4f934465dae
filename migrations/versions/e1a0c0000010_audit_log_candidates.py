"""bulk reads in the audit log: an export naming many people is one audit_log entry plus one narrow row per person
in audit_log_candidates (candidate_id, audit_id), removed with the entry (ON DELETE CASCADE)

Revision ID: e1a0c0000010
Revises: e1a0c0000009
Create Date: 2026-12-02 16:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e1a0c0000010'
down_revision = 'e1a0c0000009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_log_candidates',
        sa.Column('candidate_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('audit_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(['audit_id'], ['audit_log.id'], name=op.f('fk_audit_log_candidates_audit_id_audit_log'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('candidate_id', 'audit_id', name=op.f('pk_audit_log_candidates')),
    )
    # the cascade (and the retention purge) finds an entry's links by audit_id
    op.create_index(op.f('ix_audit_log_candidates_audit_id'), 'audit_log_candidates', ['audit_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_audit_log_candidates_audit_id'), table_name='audit_log_candidates')
    op.drop_table('audit_log_candidates')
