"""Migration f2c6a1d8e9b3 (the holder's identity): existing candidates keep their rows, the new fields are
empty (so cpf_missing asks for them), and the downgrade drops them."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from app.files.models import Candidate
from tests import factories

NEW_COLUMNS = {"sex", "usage_name", "other_first_names", "birth_place_code", "birth_country"}


def test_the_identity_migration_keeps_candidates_and_adds_empty_fields(app, app_ctx):
    candidate = factories.make_candidate(birth_place="Lyon")
    candidate_id = candidate.id
    db.session.close()
    directory = str(app.extensions["migrate"].directory)
    downgrade(directory=directory, revision="e8b2d5f41a97")
    columns = {c["name"] for c in inspect(db.engine).get_columns("candidates")}
    assert not NEW_COLUMNS & columns
    upgrade(directory=directory)
    columns = {c["name"] for c in inspect(db.engine).get_columns("candidates")}
    assert NEW_COLUMNS <= columns
    row = db.session.execute(text("SELECT birth_place, sex, birth_place_code FROM candidates WHERE id = :id"),
                             {"id": candidate_id}).one()
    assert tuple(row) == ("Lyon", None, None)
    assert db.session.get(Candidate, candidate_id).cpf_missing == ["sex", "birth_place_code"]
