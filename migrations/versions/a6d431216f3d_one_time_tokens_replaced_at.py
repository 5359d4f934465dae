"""one_time_tokens.replaced_at: when a newer link replaced this one

Password and candidate links now follow the single-use link rule of app/core/links.py, shared with
the job assessor's invitations: a link is live until used, replaced or expired, each state in its
own column. Until now a replaced password link had its expiry moved to the moment of replacement
and a replaced candidate invitation was marked used; those rows stay as they are (dead either way:
a link expired or used never works again), so nothing is filled in.

Revision ID: a6d431216f3d
Revises: b5e1c8d42f60
Create Date: 2026-12-02 09:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a6d431216f3d'
down_revision = 'b5e1c8d42f60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('one_time_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaced_at', sa.DateTime(), nullable=True))


def downgrade():
    # The older code knows no replacement: a replaced link must not come back to life.
    op.execute("UPDATE one_time_tokens SET expires_at = replaced_at "
               "WHERE replaced_at IS NOT NULL AND expires_at > replaced_at")
    with op.batch_alter_table('one_time_tokens', schema=None) as batch_op:
        batch_op.drop_column('replaced_at')
