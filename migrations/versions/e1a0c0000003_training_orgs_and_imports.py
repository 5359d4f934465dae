"""training organisations (public list L.6351-7-1 / Carif-Oref API) and their declaration numbers

training_organisations: one row per SIRET (denomination, SIREN, the four Qualiopi categories, last bilan
pédagogique et financier, specialities, where it comes from and when it was checked); training_org_ndas: its
numéros de déclaration d'activité with their active flag. The candidates' import writes no table of its own.

Revision ID: e1a0c0000003
Revises: e1a0c0000002
Create Date: 2026-12-02 07:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e1a0c0000003'
down_revision = 'e1a0c0000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('training_organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('siren', sa.String(length=9), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('qualiopi_actions_formation', sa.Boolean(), nullable=False),
    sa.Column('qualiopi_bilans_competences', sa.Boolean(), nullable=False),
    sa.Column('qualiopi_vae', sa.Boolean(), nullable=False),
    sa.Column('qualiopi_apprentissage', sa.Boolean(), nullable=False),
    sa.Column('last_declaration_on', sa.Date(), nullable=True),
    sa.Column('specialities', sa.JSON(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_organisations')),
    sa.UniqueConstraint('siret', name=op.f('uq_training_organisations_siret'))
    )
    with op.batch_alter_table('training_organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_organisations_siren'), ['siren'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_organisations_checked_at'), ['checked_at'], unique=False)

    op.create_table('training_org_ndas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['training_organisations.id'],
                            name=op.f('fk_training_org_ndas_organisation_id_training_organisations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_org_ndas')),
    sa.UniqueConstraint('organisation_id', 'number', name=op.f('uq_training_org_ndas_organisation_id_number'))
    )
    with op.batch_alter_table('training_org_ndas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_org_ndas_number'), ['number'], unique=False)


def downgrade():
    with op.batch_alter_table('training_org_ndas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_org_ndas_number'))
    op.drop_table('training_org_ndas')
    with op.batch_alter_table('training_organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_organisations_checked_at'))
        batch_op.drop_index(batch_op.f('ix_training_organisations_siren'))
    op.drop_table('training_organisations')
