"""Candidates (app/files/candidates.py): R12, a person once per establishment, checked by the
service and backed by a unique constraint."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from app.core.errors import Conflict
from app.extensions import db
from app.files import candidates
from app.files.models import Candidate
from tests import factories
from tests.files.conftest import (
    new_candidate,
)

# ---------------------------------------------------------------- R12: a candidate once per establishment


@pytest.mark.parametrize("first,last", [("Élodie", "Martin"), ("elodie", "MARTIN"), (" Elodie ", "martin")])
def test_r12_the_same_person_twice_in_an_establishment_is_refused(company, first, last):
    new_candidate(company)
    with pytest.raises(Conflict, match="existe déjà dans votre établissement") as refused:
        new_candidate(company, first_name=first, last_name=last)
    assert "last_name" in refused.value.errors


def test_r12_another_birth_date_or_establishment_is_another_candidate(company):
    new_candidate(company)
    assert new_candidate(company, birth_date=date(1991, 4, 2)).id
    other = factories.make_user(establishment=factories.make_establishment())
    assert new_candidate(other).id


def test_r12_an_update_into_a_duplicate_is_refused(company):
    new_candidate(company)
    second = new_candidate(company, first_name="Paul")
    with pytest.raises(Conflict):
        candidates.update_candidate(second, company, first_name="ÉLODIE", last_name="Martin",
                                  birth_date=date(1990, 4, 2))


def test_r12_the_database_constraint_backs_the_check(company):
    first = new_candidate(company)
    twin = Candidate(establishment_id=first.establishment_id, birth_date=first.birth_date)
    twin.set_names("ELODIE", "martin")
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_r12_an_integrity_error_becomes_a_409(company):
    """The race fallback: a duplicate that slipped past the check is answered as a Conflict."""
    first = new_candidate(company)
    twin = Candidate(establishment_id=first.establishment_id, birth_date=first.birth_date)
    twin.set_names("Elodie", "MARTIN")
    db.session.add(twin)
    with pytest.raises(Conflict, match="existe déjà"):
        candidates._flush_candidate(twin)
    db.session.rollback()
