"""R12b: at most one open (not final) file per candidate and CQP; creating forms' idempotency tokens

A partial unique index on candidate_files (candidate_id, cqp_id) over the files whose status is not
final (valide, partiel, non_valide, abandonne), on SQLite and PostgreSQL alike. The service refuses a
second open file with a 409 naming the first; the index stops two simultaneous creations. A database
that already holds two open files of one candidate for one CQP must have one of them withdrawn before
this migration (it then fails on creating the index, leaving the schema as it was).

candidates.creation_token and candidate_files.creation_token (unique, NULL for the existing rows): the
random token a creating form carries, so that the same form posted twice (back, then resubmit) creates
one row and lands on it.

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
    for table in ('candidates', 'candidate_files'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('creation_token', sa.String(length=64), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_creation_token'), ['creation_token'], unique=True)
    op.create_index('uq_candidate_files_open_per_cqp', 'candidate_files', ['candidate_id', 'cqp_id'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade():
    op.drop_index('uq_candidate_files_open_per_cqp', table_name='candidate_files')
    for table in ('candidate_files', 'candidates'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_creation_token'))
            batch_op.drop_column('creation_token')
