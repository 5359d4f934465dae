"""statistics indexes: files per CQP and status, per jury session and roll-over

The two composite indexes replace the single-column ones on cqp_id and jury_session_id (a
composite index serves every lookup by its first column), so that the statistics count files
per CQP and status, and per session with their roll-overs, from the index alone.

Revision ID: 7d3e9a41c2b5
Revises: 45c4331cf1c8
Create Date: 2026-11-24 06:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7d3e9a41c2b5'
down_revision = '45c4331cf1c8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('candidate_files', schema=None) as batch_op:
        batch_op.create_index('ix_candidate_files_cqp_id_status', ['cqp_id', 'status'], unique=False)
        batch_op.create_index('ix_candidate_files_jury_session_id_rolled_over', ['jury_session_id', 'rolled_over'],
                              unique=False)
        batch_op.drop_index('ix_candidate_files_cqp_id')
        batch_op.drop_index('ix_candidate_files_jury_session_id')


def downgrade():
    with op.batch_alter_table('candidate_files', schema=None) as batch_op:
        batch_op.create_index('ix_candidate_files_jury_session_id', ['jury_session_id'], unique=False)
        batch_op.create_index('ix_candidate_files_cqp_id', ['cqp_id'], unique=False)
        batch_op.drop_index('ix_candidate_files_jury_session_id_rolled_over')
        batch_op.drop_index('ix_candidate_files_cqp_id_status')
