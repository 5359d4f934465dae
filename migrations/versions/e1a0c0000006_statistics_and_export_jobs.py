"""statistics and export jobs: export_jobs (exports prepared by the worker, app/stats/export_jobs.py)

Revision ID: e1a0c0000006
Revises: e1a0c0000005
Create Date: 2026-12-02 07:30:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'e1a0c0000006'
down_revision = 'e1a0c0000005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('file_path', sa.String(length=500), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('en_attente', 'en_cours', 'termine', 'echec')",
                       name=op.f('ck_export_jobs_status')),
    sa.CheckConstraint('done >= 0 AND (total IS NULL OR done <= total)', name=op.f('ck_export_jobs_progress')),
    sa.CheckConstraint("status <> 'termine' OR file_path IS NOT NULL", name=op.f('ck_export_jobs_done_has_file')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_export_jobs_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs'))
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_export_jobs_user_id_created_at', ['user_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_export_jobs_user_id_created_at')
        batch_op.drop_index(batch_op.f('ix_export_jobs_created_at'))
    op.drop_table('export_jobs')
