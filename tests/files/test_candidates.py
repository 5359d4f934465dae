"""Candidates (app/files/candidates.py): R12, a person once per establishment, checked by the
service and backed by a unique constraint."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role
from app.core.errors import Conflict, ValidationFailed
from app.extensions import db
from app.files import candidates
from app.files.models import Candidate, FileStatus
from tests import factories
from tests.conftest import submit_form
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


# ---------------------------------------------------------------- the holder's identity (CPF register)


def test_the_identity_is_cleaned_and_its_labels_follow_the_code(company):
    candidate = new_candidate(company, sex="f", usage_name=" Durand ", other_first_names="Marie, , Claire",
                              birth_place_code="75112")
    assert candidate.sex == "F" and candidate.usage_name == "Durand"
    assert candidate.other_first_names == ["Marie", "Claire"]
    assert candidate.first_names == ["Élodie", "Marie", "Claire"]
    assert (candidate.birth_place, candidate.birth_country) == ("Paris 12e Arrondissement", "France")
    assert candidate.cpf_missing == []


@pytest.mark.parametrize("fields,missing", [
    ({}, ["sex", "birth_place_code"]),
    ({"sex": "M"}, ["birth_place_code"]),
    ({"sex": "M", "birth_place_code": "69123"}, []),
    ({"sex": "M", "birth_place_code": "99109"}, []),  # the country's label comes from the COG
])
def test_cpf_missing_names_what_the_register_still_needs(company, fields, missing):
    assert new_candidate(company, **fields).cpf_missing == missing


def test_cpf_missing_asks_for_the_label_of_a_code_without_one(company):
    candidate = new_candidate(company, sex="M")
    candidate.birth_place_code, candidate.birth_place = "69123", None
    assert candidate.cpf_missing == ["birth_place"]
    candidate.birth_place_code, candidate.birth_country = "99109", None
    assert candidate.cpf_missing == ["birth_country"]


@pytest.mark.parametrize("birth_date,message", [
    (date(2012, 3, 2), "au moins 15 ans (né le 01/03/2012 au plus tard)"),
    (date(1899, 12, 31), "antérieure au 1er janvier 1900"),
    (date(2027, 3, 2), "dans le futur"),
    ("1990-02-30", "format attendu AAAA-MM-JJ"),
])
def test_a_birth_date_must_be_plausible(company, birth_date, message):
    with pytest.raises(ValidationFailed) as refused:
        new_candidate(company, birth_date=birth_date)
    assert message in refused.value.errors["birth_date"][0]


def test_fifteen_years_old_today_is_enough(company):
    assert new_candidate(company, birth_date=date(2012, 3, 1)).id


def test_every_mistake_is_named_at_once_and_nothing_is_written(company):
    with pytest.raises(ValidationFailed) as refused:
        new_candidate(company, first_name=" ", sex="X", birth_place_code="75999", birth_date=date(1850, 1, 1),
                      other_first_names=["A", "B", "C"], email="pas-une-adresse")
    assert set(refused.value.errors) == {"first_name", "sex", "birth_place_code", "birth_date",
                                         "other_first_names", "email"}
    assert db.session.query(Candidate).count() == 0


def test_identity_changes_are_only_the_changed_fields(company):
    candidate = new_candidate(company, sex="F")
    assert candidates.identity_changes(candidate, {"sex": "F", "last_name": "Martin", "email": "x"}) == {}
    assert candidates.identity_changes(candidate, {"sex": "M", "usage_name": "Roy"}) == {"sex": "M",
                                                                                      "usage_name": "Roy"}
    with pytest.raises(ValidationFailed) as refused:
        candidates.identity_changes(candidate, {"sex": "Z", "birth_place_code": "123"})
    assert set(refused.value.errors) == {"sex", "birth_place_code"}


def test_apply_identity_keeps_r12(company):
    new_candidate(company)
    second = new_candidate(company, first_name="Paul")
    with pytest.raises(Conflict):
        candidates.apply_identity(second, {"first_name": "Élodie"})
    candidates.apply_identity(second, {"first_name": "Pierre", "sex": "M"})
    assert (second.first_name, second.first_name_key, second.sex) == ("Pierre", "pierre", "M")


# ---------------------------------------------------------------- R15: the identity of a decided candidate


def decided(company) -> Candidate:
    candidate = new_candidate(company, sex="F", birth_place_code="69123")
    factories.make_file(FileStatus.PARTIEL, candidate=candidate)
    return candidate


@pytest.mark.parametrize("name,value", [("last_name", "Autre"), ("first_name", "Autre"), ("usage_name", "Roy"),
                                        ("other_first_names", ["Jo"]), ("birth_date", date(1991, 1, 1)),
                                        ("sex", "M"), ("birth_place_code", "2A004"), ("birth_place", "Bron"),
                                        ("birth_country", "Italie")])
def test_r15_the_identity_of_a_decided_candidate_is_locked(company, name, value):
    candidate = decided(company)
    assert candidate.has_issued_record
    with pytest.raises(Conflict, match="rectification au secrétariat") as refused:
        candidates.update_candidate(candidate, company, **{name: value})
    assert name in refused.value.errors


def test_r15_the_contact_of_a_decided_candidate_stays_editable(company):
    candidate = decided(company)
    candidates.update_candidate(candidate, company, email="neuf@perso.fr", phone="0601020304",
                                last_name=candidate.last_name, sex="F")
    assert (candidate.email, candidate.phone) == ("neuf@perso.fr", "0601020304")


def test_r15_an_undecided_or_withdrawn_file_does_not_lock(company):
    candidate = new_candidate(company)
    factories.make_file(FileStatus.ABANDONNE, candidate=candidate)
    assert not candidate.has_issued_record
    candidates.update_candidate(candidate, company, sex="M")
    assert candidate.sex == "M"


def test_r15_a_rectification_is_handed_the_validated_changes_and_needs_a_reason(company):
    candidate = decided(company)
    handed = []
    with pytest.raises(ValidationFailed) as refused:
        candidates.update_candidate(candidate, company, rectify=handed.append, reason=" ", sex="M")
    assert list(refused.value.errors) == ["reason"] and handed == []
    candidates.update_candidate(candidate, company, rectify=handed.append, reason="Erreur de saisie", sex="M",
                                email="a@b.fr")
    assert handed == [{"sex": "M"}] and candidate.email == "a@b.fr"


# ---------------------------------------------------------------- the pages


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_company_creates_a_candidate_with_the_identity(company, client, login_as):
    login_as(company)
    created = submit_form(client, "/entreprise/candidats/nouveau", {
        "last_name": "Girard", "usage_name": "Martin", "first_name": "Inès", "other_first_names": "Marie, Claire",
        "sex": "F", "birth_date": "1988-11-30", "birth_place": "", "birth_place_code": "69123",
        "birth_country": ""})
    assert created.status_code == 302, page_text(created)[:3000]
    candidate = db.session.scalars(select(Candidate)).one()
    assert (candidate.sex, candidate.birth_place, candidate.other_first_names) == ("F", "Lyon", ["Marie", "Claire"])
    show = page_text(client.get(created.headers["Location"]))
    assert "Inès, Marie, Claire" in show and "code INSEE 69123" in show
    assert "L'identité est complète pour le registre CPF." in show


def test_the_candidate_form_offers_sex_as_radios_and_the_commune_picker(company, client, login_as):
    login_as(company)
    body = page_text(client.get("/entreprise/candidats/nouveau"))
    assert body.count('type="radio"') == 2 and 'name="sex"' in body
    assert "data-geo-picker" in body and 'name="birth_place_code"' in body and 'name="birth_country"' in body


def test_a_refused_form_names_every_mistake_at_once(company, client, login_as):
    login_as(company)
    refused = submit_form(client, "/entreprise/candidats/nouveau", {
        "last_name": "Girard", "first_name": "", "birth_date": "2020-01-01", "birth_place_code": "75999",
        "other_first_names": "A, B, C"})
    assert refused.status_code == 422
    body = page_text(refused)
    assert "Le prénom est obligatoire." in body and "au moins 15 ans" in body
    assert "inconnu du code officiel géographique" in body and "Deux autres prénoms au plus" in body
    assert db.session.query(Candidate).count() == 0


def test_an_incomplete_identity_shows_what_the_register_needs(company, client, login_as):
    candidate = new_candidate(company)
    login_as(company)
    body = page_text(client.get(f"/entreprise/candidats/{candidate.id}"))
    assert "il manque encore : sexe, code INSEE du lieu de naissance." in body


def test_r15_the_company_form_of_a_decided_candidate_shows_the_identity_read_only(company, client, login_as):
    candidate = decided(company)
    login_as(company)
    url = f"/entreprise/candidats/{candidate.id}/modifier"
    body = page_text(client.get(url))
    assert "ne peut plus être modifié ici" in body and "demandez une rectification au secrétariat" in body
    assert 'name="last_name"' not in body and 'name="sex"' not in body and 'name="email"' in body
    saved = submit_form(client, url, {"email": "neuf@perso.fr"})
    assert saved.status_code == 302
    assert db.session.get(Candidate, candidate.id).email == "neuf@perso.fr"
    tampered = submit_form(client, url, {"email": "neuf@perso.fr", "last_name": "Autre"})
    assert tampered.status_code == 409 and "rectification au secrétariat" in page_text(tampered)
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).last_name == "Martin"


def test_r15_the_candidate_own_civil_status_is_locked_too(company, client, login_as):
    candidate = decided(company)
    user = factories.make_user(Role.CANDIDAT)
    candidate.user_id = user.id
    db.session.commit()
    login_as(user)
    body = page_text(client.get("/candidat/etat-civil"))
    assert "ne peut plus être modifié ici" in body and 'name="first_name"' not in body
    tampered = submit_form(client, "/candidat/etat-civil", {"first_name": "Autre", "birth_date": "1991-01-01"})
    assert tampered.status_code == 409


def test_the_candidate_completes_their_own_identity(company, client, login_as):
    candidate = new_candidate(company)
    user = factories.make_user(Role.CANDIDAT)
    candidate.user_id = user.id
    db.session.commit()
    login_as(user)
    saved = submit_form(client, "/candidat/etat-civil", {
        "last_name": "Martin", "first_name": "Élodie", "birth_date": "1990-04-02", "sex": "F",
        "birth_place_code": "99109", "birth_place": "Berlin"})
    assert saved.status_code == 302
    db.session.expire_all()
    candidate = db.session.get(Candidate, candidate.id)
    assert (candidate.birth_country, candidate.birth_place, candidate.cpf_missing) == ("Allemagne", "Berlin", [])


def test_the_secretariat_opens_and_edits_a_candidate(company, client, login_as):
    candidate = new_candidate(company)
    login_as(factories.make_user(Role.SECRETARIAT))
    show = page_text(client.get(f"/secretariat/candidats/{candidate.id}"))
    assert "Élodie Martin" in show and "Inviter le candidat" not in show
    saved = submit_form(client, f"/secretariat/candidats/{candidate.id}/modifier", {
        "last_name": "Martin", "first_name": "Élodie", "birth_date": "1990-04-02", "sex": "F"})
    assert saved.status_code == 302 and db.session.get(Candidate, candidate.id).sex == "F"


def test_the_secretariat_page_of_a_decided_candidate_sends_to_the_rectification(company, client, login_as):
    candidate = decided(company)
    login_as(factories.make_user(Role.SECRETARIAT))
    body = page_text(client.get(f"/secretariat/candidats/{candidate.id}/modifier"))
    assert 'name="last_name"' not in body and "ne peut plus être modifié ici" in body


@pytest.mark.parametrize("role", [Role.ENTREPRISE, Role.CANDIDAT])
def test_the_secretariat_pages_are_the_secretariat_s(company, client, login_as, role):
    candidate = new_candidate(company)
    login_as(company if role == Role.ENTREPRISE else factories.make_user(role))
    assert client.get(f"/secretariat/candidats/{candidate.id}").status_code == 403


def test_the_secretariat_reaches_the_candidate_from_the_file_page(company, client, login_as):
    candidate = decided(company)
    login_as(factories.make_user(Role.SECRETARIAT))
    file_page = page_text(client.get(f"/dossiers/{candidate.files[0].id}"))
    assert f'href="/secretariat/candidats/{candidate.id}"' in file_page
    show = page_text(client.get(f"/secretariat/candidats/{candidate.id}"))
    assert "Lyon" in show and "code INSEE 69123" in show
