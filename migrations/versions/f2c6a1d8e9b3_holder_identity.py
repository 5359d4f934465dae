"""Holder identity for the CPF register (R15, CPF identity fields)

(being written)

Revision ID: f2c6a1d8e9b3
Revises: e8b2d5f41a97
Create Date: 2026-12-02 00:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'f2c6a1d8e9b3'
down_revision = 'e8b2d5f41a97'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
