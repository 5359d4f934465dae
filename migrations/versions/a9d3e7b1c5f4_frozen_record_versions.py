"""The frozen record: document versions (R15)

(being written)

Revision ID: a9d3e7b1c5f4
Revises: f2c6a1d8e9b3
Create Date: 2026-12-02 00:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a9d3e7b1c5f4'
down_revision = 'f2c6a1d8e9b3'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
