"""CPF register: CDC fluxes, passages and reports (R16)

cdc_exports: one flux deposited with the Caisse des Dépôts (its idFlux, who built it, how many passages, and
what the processing report said); cdc_passages: each holder a flux carried (file, parchment number and
version) with the CDC's answer (transmis, accepte, rejete with its message).

Revision ID: d9e3f1a4b5c6
Revises: c8d2e0f3a4b5
Create Date: 2026-12-02 00:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd9e3f1a4b5c6'
down_revision = 'c8d2e0f3a4b5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cdc_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flux_id', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('passages_count', sa.Integer(), nullable=False),
    sa.Column('report_received_at', sa.DateTime(), nullable=True),
    sa.Column('report_id', sa.String(length=100), nullable=True),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cdc_exports_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cdc_exports')),
    sa.UniqueConstraint('flux_id', name=op.f('uq_cdc_exports_flux_id'))
    )
    with op.batch_alter_table('cdc_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cdc_exports_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('cdc_passages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('export_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('transmis', 'accepte', 'rejete')", name=op.f('ck_cdc_passages_status')),
    sa.ForeignKeyConstraint(['export_id'], ['cdc_exports.id'], name=op.f('fk_cdc_passages_export_id_cdc_exports'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['candidate_files.id'],
                            name=op.f('fk_cdc_passages_file_id_candidate_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cdc_passages'))
    )
    with op.batch_alter_table('cdc_passages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cdc_passages_export_id'), ['export_id'], unique=False)
        batch_op.create_index('ix_cdc_passages_file_id_status', ['file_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('cdc_passages', schema=None) as batch_op:
        batch_op.drop_index('ix_cdc_passages_file_id_status')
        batch_op.drop_index(batch_op.f('ix_cdc_passages_export_id'))
    op.drop_table('cdc_passages')
    with op.batch_alter_table('cdc_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cdc_exports_created_by_id'))
    op.drop_table('cdc_exports')
