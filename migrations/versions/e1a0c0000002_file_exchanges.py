"""file exchanges: correction requests, the file's thread of messages, the assessor's declared organisation

correction_requests: a request to the company (message, the fields to correct) and its answer; at most one open
(resolved_at IS NULL) per file, by a partial unique index on SQLite and PostgreSQL alike.
file_messages: the thread of a file, with an optional attachment (stored as the documents are).
assessors.organisation_siret: the SIRET of the organisation the assessor declares (independence check).

Revision ID: e1a0c0000002
Revises: e1a0c0000001
Create Date: 2026-12-02 07:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e1a0c0000002'
down_revision = 'e1a0c0000001'
branch_labels = None
depends_on = None

OPEN = sa.text("resolved_at IS NULL")


def upgrade():
    op.create_table(
        'correction_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint('(resolved_at IS NULL AND answer IS NULL) OR (resolved_at IS NOT NULL AND answer IS NOT NULL)',
                           name=op.f('ck_correction_requests_answered_when_resolved')),
        sa.ForeignKeyConstraint(['file_id'], ['candidate_files.id'],
                                name=op.f('fk_correction_requests_file_id_candidate_files'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_correction_requests_requested_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'],
                                name=op.f('fk_correction_requests_resolved_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_requests')),
    )
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_requests_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_requests_resolved_by_id'), ['resolved_by_id'], unique=False)
    op.create_index('uq_correction_requests_open_per_file', 'correction_requests', ['file_id'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)

    op.create_table(
        'file_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('attachment_filename', sa.String(length=255), nullable=True),
        sa.Column('attachment_stored_name', sa.String(length=64), nullable=True),
        sa.Column('attachment_content_type', sa.String(length=64), nullable=True),
        sa.Column('attachment_size', sa.Integer(), nullable=True),
        sa.CheckConstraint('(attachment_stored_name IS NULL) = (attachment_filename IS NULL)',
                           name=op.f('ck_file_messages_attachment_named')),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_file_messages_author_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['file_id'], ['candidate_files.id'],
                                name=op.f('fk_file_messages_file_id_candidate_files'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_file_messages')),
        sa.UniqueConstraint('attachment_stored_name', name=op.f('uq_file_messages_attachment_stored_name')),
    )
    with op.batch_alter_table('file_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_messages_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_file_messages_file_id_at', ['file_id', 'at'], unique=False)

    with op.batch_alter_table('assessors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_siret', sa.String(length=14), nullable=True))


def downgrade():
    with op.batch_alter_table('assessors', schema=None) as batch_op:
        batch_op.drop_column('organisation_siret')
    with op.batch_alter_table('file_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_file_messages_file_id_at')
        batch_op.drop_index(batch_op.f('ix_file_messages_author_id'))
    op.drop_table('file_messages')
    op.drop_index('uq_correction_requests_open_per_file', table_name='correction_requests')
    with op.batch_alter_table('correction_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_requests_resolved_by_id'))
        batch_op.drop_index(batch_op.f('ix_correction_requests_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_correction_requests_file_id'))
    op.drop_table('correction_requests')
