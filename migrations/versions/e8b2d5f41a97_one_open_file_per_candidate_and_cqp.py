"""R12b: at most one open (not final) file per candidate and CQP

A partial unique index on candidate_files (candidate_id, cqp_id) over the files whose status is not
final (valide, partiel, non_valide, abandonne), on SQLite and PostgreSQL alike. The service refuses a
second open file with a 409 naming the first; the index stops two simultaneous creations. A database
that already holds two open files of one candidate for one CQP must have one of them withdrawn before
this migration (it then fails on creating the index, leaving the schema as it was).

Revision ID: e8b2d5f41a97
Revises: c3f7a9e1d2b4
Create Date: 2026-12-01 21:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e8b2d5f41a97'
down_revision = 'c3f7a9e1d2b4'
branch_labels = None
depends_on = None

OPEN = sa.text("status NOT IN ('valide', 'partiel', 'non_valide', 'abandonne')")


def upgrade():
    op.create_index('uq_candidate_files_open_per_cqp', 'candidate_files', ['candidate_id', 'cqp_id'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade():
    op.drop_index('uq_candidate_files_open_per_cqp', table_name='candidate_files')
