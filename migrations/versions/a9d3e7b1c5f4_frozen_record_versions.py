"""The frozen record: document versions (R15)

parchment_versions: one row per issue of a parchment or attestation (the holder's identity, the decision per
competence, the CQP and the jury date as printed, under the parchment's number). Existing parchments get
their version 1 from the rows as they are now (candidate, decision, CQP, session), issued at the decision by
its author: what they printed until now.

Revision ID: a9d3e7b1c5f4
Revises: f2c6a1d8e9b3
Create Date: 2026-12-02 00:00:00

"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a9d3e7b1c5f4'
down_revision = 'f2c6a1d8e9b3'
branch_labels = None
depends_on = None

# Identity columns of candidates added by f2c6a1d8e9b3 (read when present).
OPTIONAL_IDENTITY = ("usage_name", "other_first_names", "sex", "birth_place_code", "birth_country")


def upgrade():
    op.create_table('parchment_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parchment_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('holder', sa.JSON(), nullable=False),
    sa.Column('competences', sa.JSON(), nullable=False),
    sa.Column('cqp_code', sa.String(length=32), nullable=False),
    sa.Column('cqp_title', sa.String(length=255), nullable=False),
    sa.Column('jury_date', sa.Date(), nullable=False),
    sa.CheckConstraint("kind IN ('parchemin', 'attestation')", name=op.f('ck_parchment_versions_kind')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_parchment_versions_version_positive')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_parchment_versions_issued_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parchment_id'], ['parchments.id'],
                            name=op.f('fk_parchment_versions_parchment_id_parchments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parchment_versions')),
    sa.UniqueConstraint('parchment_id', 'version', name=op.f('uq_parchment_versions_parchment_id_version'))
    )
    with op.batch_alter_table('parchment_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parchment_versions_issued_by_id'), ['issued_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parchment_versions_parchment_id'), ['parchment_id'], unique=False)

    _backfill_first_versions(op.get_bind())


def _backfill_first_versions(bind):
    """Version 1 of every existing parchment, from its rows as they are (what it printed until now)."""
    present = {c["name"] for c in sa.inspect(bind).get_columns("candidates")}
    optional = [name for name in OPTIONAL_IDENTITY if name in present]
    extra = "".join(f", c.{name} AS {name}" for name in optional)
    rows = bind.execute(sa.text(
        "SELECT p.id AS parchment_id, p.kind, p.created_at, d.id AS decision_id, d.decided_at, d.decided_by_id, "
        "c.first_name, c.last_name, c.birth_date, c.birth_place, q.code AS cqp_code, q.title AS cqp_title, "
        f"s.date AS jury_date{extra} "
        "FROM parchments p JOIN candidate_files f ON f.id = p.file_id JOIN candidates c ON c.id = f.candidate_id "
        "JOIN cqps q ON q.id = f.cqp_id LEFT JOIN decisions d ON d.file_id = f.id "
        "JOIN jury_sessions s ON s.id = COALESCE(d.session_id, f.jury_session_id) ORDER BY p.id")).mappings().all()
    if not rows:
        return
    results: dict[int, list[dict]] = {}
    for r in bind.execute(sa.text(
            "SELECT dr.decision_id, k.code, k.title, dr.validated FROM decision_results dr "
            "JOIN competences k ON k.id = dr.competence_id ORDER BY dr.decision_id, k.position, k.id")).mappings():
        results.setdefault(r["decision_id"], []).append(
            {"code": r["code"], "label": r["title"], "validated": bool(r["validated"])})
    versions = sa.table(
        'parchment_versions', sa.column('parchment_id', sa.Integer()), sa.column('version', sa.Integer()),
        sa.column('kind', sa.String()), sa.column('issued_at', sa.DateTime()),
        sa.column('issued_by_id', sa.Integer()), sa.column('reason', sa.Text()), sa.column('holder', sa.JSON()),
        sa.column('competences', sa.JSON()), sa.column('cqp_code', sa.String()),
        sa.column('cqp_title', sa.String()), sa.column('jury_date', sa.Date()))
    op.bulk_insert(versions, [{
        "parchment_id": r["parchment_id"], "version": 1, "kind": r["kind"],
        "issued_at": _as_datetime(r["decided_at"] or r["created_at"]), "issued_by_id": r["decided_by_id"],
        "reason": None, "holder": _holder(r, optional), "competences": results.get(r["decision_id"], []),
        "cqp_code": r["cqp_code"], "cqp_title": r["cqp_title"], "jury_date": _as_date(r["jury_date"]),
    } for r in rows])


def _holder(row, optional: list[str]) -> dict:
    """As app.jury.versions.holder_of writes it."""
    others = row["other_first_names"] if "other_first_names" in optional else None
    if isinstance(others, str) and others.startswith("["):
        others = json.loads(others)
    elif isinstance(others, str):
        others = [n.strip() for n in others.replace(";", ",").split(",") if n.strip()]
    birth_date = _as_date(row["birth_date"])
    return {
        "first_name": row["first_name"], "last_name": row["last_name"],
        "usage_name": (row["usage_name"] if "usage_name" in optional else None) or None,
        "other_first_names": list(others or []),
        "birth_date": birth_date.isoformat() if birth_date else None,
        "sex": (row["sex"] if "sex" in optional else None) or None,
        "birth_place_code": (row["birth_place_code"] if "birth_place_code" in optional else None) or None,
        "birth_place": row["birth_place"] or None,
        "birth_country": (row["birth_country"] if "birth_country" in optional else None) or None,
    }


def _as_date(value):
    """SQLite answers dates of a text query as text."""
    from datetime import date

    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _as_datetime(value):
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


def downgrade():
    with op.batch_alter_table('parchment_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parchment_versions_parchment_id'))
        batch_op.drop_index(batch_op.f('ix_parchment_versions_issued_by_id'))

    op.drop_table('parchment_versions')
