"""open files' indexes: the secretariat's home reads the open files waiting longest (status_changed_at, id) and
the open files per status with how many wait too long (status, status_changed_at) from partial indexes of the
open (not final) files, instead of sorting or scanning every open file

Revision ID: e1a0c0000011
Revises: e1a0c0000010
Create Date: 2026-12-04 02:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e1a0c0000011'
down_revision = 'e1a0c0000010'
branch_labels = None
depends_on = None

OPEN = sa.text("status NOT IN ('valide', 'partiel', 'non_valide', 'abandonne')")


def upgrade():
    op.create_index('ix_candidate_files_open_status_changed_at_id', 'candidate_files', ['status_changed_at', 'id'],
                    unique=False, sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index('ix_candidate_files_open_status_status_changed_at', 'candidate_files',
                    ['status', 'status_changed_at'], unique=False, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade():
    op.drop_index('ix_candidate_files_open_status_status_changed_at', table_name='candidate_files')
    op.drop_index('ix_candidate_files_open_status_changed_at_id', table_name='candidate_files')
