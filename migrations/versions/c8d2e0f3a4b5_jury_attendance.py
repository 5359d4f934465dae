"""Jury attendance by college and president (R14)

(being written)

Revision ID: c8d2e0f3a4b5
Revises: b7c1d9e2f3a4
Create Date: 2026-12-02 00:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'c8d2e0f3a4b5'
down_revision = 'b7c1d9e2f3a4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
