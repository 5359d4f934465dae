"""CQP registration (RNCP/RS, level, NSF, decision date, carry_over_years) and the parchment signature

(being written)

Revision ID: b7c1d9e2f3a4
Revises: a9d3e7b1c5f4
Create Date: 2026-12-02 00:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'b7c1d9e2f3a4'
down_revision = 'a9d3e7b1c5f4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
