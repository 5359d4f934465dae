"""list search index: the files of the candidates a name search matches, with their status
(candidate_files (candidate_id, status)), so that the list's COUNT and rows are read from the index

Revision ID: e1a0c0000009
Revises: e1a0c0000008
Create Date: 2026-12-02 15:55:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e1a0c0000009'
down_revision = 'e1a0c0000008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("candidate_files", schema=None) as batch_op:
        batch_op.create_index("ix_candidate_files_candidate_id_status", ["candidate_id", "status"], unique=False)


def downgrade():
    with op.batch_alter_table("candidate_files", schema=None) as batch_op:
        batch_op.drop_index("ix_candidate_files_candidate_id_status")
