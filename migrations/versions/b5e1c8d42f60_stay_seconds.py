"""status_changes.stay_seconds: the length of the stay each history row closes

The workflow now records, on each history row, how long the file stayed in `from_status` (since
the previous row, or since its creation). The statistics read the stays from this column instead
of pairing every row with the previous one (a window over the whole history) at each page view.
Existing rows are filled from the history itself.

Revision ID: b5e1c8d42f60
Revises: 7d3e9a41c2b5
Create Date: 2026-12-01 06:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b5e1c8d42f60'
down_revision = '7d3e9a41c2b5'
branch_labels = None
depends_on = None

STAYS = """
    SELECT sc.id,
           COALESCE(LAG(sc.at) OVER (PARTITION BY sc.file_id ORDER BY sc.at, sc.id), f.created_at) AS began,
           sc.at AS ended
    FROM status_changes sc JOIN candidate_files f ON f.id = sc.file_id
"""


def upgrade():
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stay_seconds', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        seconds = "GREATEST(0, FLOOR(EXTRACT(EPOCH FROM (s.ended - s.began))))::integer"
    else:
        seconds = "MAX(0, CAST(ROUND((julianday(s.ended) - julianday(s.began)) * 86400) AS INTEGER))"
    # UPDATE … FROM: PostgreSQL, and SQLite since 3.33.
    op.execute(f"UPDATE status_changes SET stay_seconds = {seconds} FROM ({STAYS}) AS s "
               "WHERE s.id = status_changes.id AND status_changes.from_status IS NOT NULL")


def downgrade():
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.drop_column('stay_seconds')
