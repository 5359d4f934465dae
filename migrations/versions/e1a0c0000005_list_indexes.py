"""list indexes: keyset pagination of the file lists (created_at, id per scope) and trigram indexes of
the candidates' name keys (pg_trgm, PostgreSQL only; plain indexes of the same names elsewhere)

Revision ID: e1a0c0000005
Revises: e1a0c0000004
Create Date: 2026-12-02 07:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e1a0c0000005'
down_revision = 'e1a0c0000004'
branch_labels = None
depends_on = None

FILE_INDEXES = {
    "ix_candidate_files_created_at_id": ["created_at", "id"],
    "ix_candidate_files_status_created_at_id": ["status", "created_at", "id"],
    "ix_candidate_files_establishment_id_created_at_id": ["establishment_id", "created_at", "id"],
    "ix_candidate_files_assessor_id_created_at_id": ["assessor_id", "created_at", "id"],
}
NAME_INDEXES = {"ix_candidates_last_name_key_trgm": "last_name_key",
                "ix_candidates_first_name_key_trgm": "first_name_key"}


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("candidate_files", schema=None) as batch_op:
        for name, columns in FILE_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in NAME_INDEXES.items():
            op.create_index(name, "candidates", [column], unique=False, postgresql_using="gin",
                            postgresql_ops={column: "gin_trgm_ops"})
    else:
        with op.batch_alter_table("candidates", schema=None) as batch_op:
            for name, column in NAME_INDEXES.items():
                batch_op.create_index(name, [column], unique=False)


def downgrade():
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        for name in NAME_INDEXES:
            batch_op.drop_index(name)
    with op.batch_alter_table("candidate_files", schema=None) as batch_op:
        for name in FILE_INDEXES:
            batch_op.drop_index(name)
    # The extension stays: other databases objects may use it, and it holds no data.
