"""R13, partial results carried over: acquired_competences and file_carried_competences

acquired_competences: each competence a published partial decision validated for a candidate (source file,
jury date, valid until jury date + the CQP's carry_over_years); file_carried_competences: those a later file
carries (the evaluation and the jury decide the others, the decision counts them).

Revision ID: e1a0c0000001
Revises: d9e3f1a4b5c6
Create Date: 2026-12-02 07:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e1a0c0000001'
down_revision = 'd9e3f1a4b5c6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('acquired_competences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('cqp_id', sa.Integer(), nullable=False),
    sa.Column('competence_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('jury_date', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'],
                            name=op.f('fk_acquired_competences_candidate_id_candidates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['competence_id'], ['competences.id'],
                            name=op.f('fk_acquired_competences_competence_id_competences')),
    sa.ForeignKeyConstraint(['cqp_id'], ['cqps.id'], name=op.f('fk_acquired_competences_cqp_id_cqps')),
    sa.ForeignKeyConstraint(['file_id'], ['candidate_files.id'],
                            name=op.f('fk_acquired_competences_file_id_candidate_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acquired_competences')),
    sa.UniqueConstraint('file_id', 'competence_id', name=op.f('uq_acquired_competences_file_id_competence_id'))
    )
    with op.batch_alter_table('acquired_competences', schema=None) as batch_op:
        batch_op.create_index('ix_acquired_competences_candidate_id_cqp_id', ['candidate_id', 'cqp_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acquired_competences_competence_id'), ['competence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acquired_competences_cqp_id'), ['cqp_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acquired_competences_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acquired_competences_valid_until'), ['valid_until'], unique=False)

    op.create_table('file_carried_competences',
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('acquired_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['acquired_id'], ['acquired_competences.id'],
                            name=op.f('fk_file_carried_competences_acquired_id_acquired_competences'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['candidate_files.id'],
                            name=op.f('fk_file_carried_competences_file_id_candidate_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', 'acquired_id', name=op.f('pk_file_carried_competences'))
    )
    with op.batch_alter_table('file_carried_competences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_carried_competences_acquired_id'), ['acquired_id'], unique=False)


def downgrade():
    with op.batch_alter_table('file_carried_competences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_carried_competences_acquired_id'))
    op.drop_table('file_carried_competences')
    with op.batch_alter_table('acquired_competences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acquired_competences_valid_until'))
        batch_op.drop_index(batch_op.f('ix_acquired_competences_file_id'))
        batch_op.drop_index(batch_op.f('ix_acquired_competences_cqp_id'))
        batch_op.drop_index(batch_op.f('ix_acquired_competences_competence_id'))
        batch_op.drop_index('ix_acquired_competences_candidate_id_cqp_id')
    op.drop_table('acquired_competences')
