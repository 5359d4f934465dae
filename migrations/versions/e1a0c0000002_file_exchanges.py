"""file exchanges (helper B: fill in; keep revision and down_revision)

Revision ID: e1a0c0000002
Revises: e1a0c0000001
Create Date: 2026-12-02 07:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'e1a0c0000002'
down_revision = 'e1a0c0000001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
