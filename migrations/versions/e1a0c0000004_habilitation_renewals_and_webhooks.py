"""habilitation renewals and webhooks

assessors.departement (shown by the public list of assessors); habilitation_renewals (one request under
examination per assessor: partial unique index) and their documents; webhooks, their deliveries (the outbox of
the HTTP calls) and each attempt's response code.

Revision ID: e1a0c0000004
Revises: e1a0c0000003
Create Date: 2026-12-02 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e1a0c0000004'
down_revision = 'e1a0c0000003'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'deposee'")


def upgrade():
    with op.batch_alter_table('assessors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('departement', sa.String(length=3), nullable=True))

    op.create_table(
        'habilitation_renewals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assessor_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('previous_until', sa.Date(), nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('granted_until', sa.Date(), nullable=True),
        sa.Column('refusal_reason', sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('deposee', 'accordee', 'refusee')",
                           name=op.f('ck_habilitation_renewals_status')),
        sa.CheckConstraint("status <> 'accordee' OR granted_until IS NOT NULL",
                           name=op.f('ck_habilitation_renewals_granted_until')),
        sa.CheckConstraint("status <> 'refusee' OR refusal_reason IS NOT NULL",
                           name=op.f('ck_habilitation_renewals_refusal_reason')),
        sa.ForeignKeyConstraint(['assessor_id'], ['assessors.id'],
                                name=op.f('fk_habilitation_renewals_assessor_id_assessors'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_habilitation_renewals_decided_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_habilitation_renewals')),
    )
    op.create_index(op.f('ix_habilitation_renewals_assessor_id'), 'habilitation_renewals', ['assessor_id'])
    op.create_index('uq_habilitation_renewals_pending', 'habilitation_renewals', ['assessor_id'], unique=True,
                    sqlite_where=PENDING, postgresql_where=PENDING)

    op.create_table(
        'habilitation_renewal_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('renewal_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('stored_name', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['renewal_id'], ['habilitation_renewals.id'],
                                name=op.f('fk_habilitation_renewal_documents_renewal_id_habilitation_renewals'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_habilitation_renewal_documents')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_habilitation_renewal_documents_stored_name')),
    )
    op.create_index(op.f('ix_habilitation_renewal_documents_renewal_id'), 'habilitation_renewal_documents',
                    ['renewal_id'])

    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('establishment_id', sa.Integer(), nullable=True),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.String(length=255), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('disabled_at', sa.DateTime(), nullable=True),
        sa.Column('disabled_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'],
                                name=op.f('fk_webhooks_establishment_id_establishments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_webhooks_owner_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks')),
    )
    op.create_index(op.f('ix_webhooks_establishment_id'), 'webhooks', ['establishment_id'])
    op.create_index(op.f('ix_webhooks_owner_id'), 'webhooks', ['owner_id'])

    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('webhook_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f('ck_webhook_deliveries_status')),
        sa.ForeignKeyConstraint(['file_id'], ['candidate_files.id'],
                                name=op.f('fk_webhook_deliveries_file_id_candidate_files'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    )
    op.create_index(op.f('ix_webhook_deliveries_file_id'), 'webhook_deliveries', ['file_id'])
    op.create_index(op.f('ix_webhook_deliveries_webhook_id'), 'webhook_deliveries', ['webhook_id'])
    op.create_index('ix_webhook_deliveries_status_next_attempt_at', 'webhook_deliveries',
                    ['status', 'next_attempt_at'])

    op.create_table(
        'webhook_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'],
                                name=op.f('fk_webhook_attempts_delivery_id_webhook_deliveries'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts')),
    )
    op.create_index(op.f('ix_webhook_attempts_delivery_id'), 'webhook_attempts', ['delivery_id'])


def downgrade():
    op.drop_index(op.f('ix_webhook_attempts_delivery_id'), table_name='webhook_attempts')
    op.drop_table('webhook_attempts')
    op.drop_index('ix_webhook_deliveries_status_next_attempt_at', table_name='webhook_deliveries')
    op.drop_index(op.f('ix_webhook_deliveries_webhook_id'), table_name='webhook_deliveries')
    op.drop_index(op.f('ix_webhook_deliveries_file_id'), table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_webhooks_owner_id'), table_name='webhooks')
    op.drop_index(op.f('ix_webhooks_establishment_id'), table_name='webhooks')
    op.drop_table('webhooks')
    op.drop_index(op.f('ix_habilitation_renewal_documents_renewal_id'), table_name='habilitation_renewal_documents')
    op.drop_table('habilitation_renewal_documents')
    op.drop_index('uq_habilitation_renewals_pending', table_name='habilitation_renewals')
    op.drop_index(op.f('ix_habilitation_renewals_assessor_id'), table_name='habilitation_renewals')
    op.drop_table('habilitation_renewals')
    with op.batch_alter_table('assessors', schema=None) as batch_op:
        batch_op.drop_column('departement')
