"""CPF register: CDC fluxes, passages and reports (R16)

(being written)

Revision ID: d9e3f1a4b5c6
Revises: c8d2e0f3a4b5
Create Date: 2026-12-02 00:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'd9e3f1a4b5c6'
down_revision = 'c8d2e0f3a4b5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
