"""The candidates' API (app/api/candidates.py): the holder's identity the CPF register needs, every invalid
field at once, `cpf_missing`, PATCH, and the lock of a decided candidate (R15)."""

from __future__ import annotations

from datetime import date

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.files.models import Candidate, FileStatus
from tests import factories

COMPLETE = {"first_name": "Inès", "last_name": "Girard", "birth_date": "1988-11-30", "sex": "F",
            "usage_name": "Martin", "other_first_names": ["Marie", "Claire"], "birth_place_code": "69123"}


@pytest.fixture
def world(app_ctx, today_is):
    today_is("2027-03-01")
    establishment = factories.make_establishment()
    return {"company": factories.make_user(Role.ENTREPRISE, establishment=establishment),
            "secretariat": factories.make_user(Role.SECRETARIAT)}


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.json


def test_a_complete_identity_is_created_and_answered_with_nothing_missing(world, api_as):
    api = api_as(world["company"])
    created = api.post("/candidates", json=COMPLETE)
    assert created.status_code == 201, created.json
    answer = api.get(f"/candidates/{created.json['id']}").json
    assert answer["sex"] == "F" and answer["usage_name"] == "Martin" and answer["last_name"] == "Girard"
    assert answer["other_first_names"] == ["Marie", "Claire"]
    assert answer["birth_place_code"] == "69123" and answer["birth_place"] == "Lyon"  # label from the COG
    assert answer["birth_country"] == "France"
    assert answer["cpf_missing"] == [] and answer["has_issued_record"] is False


def test_a_birth_abroad_names_the_country(world, api_as):
    answer = api_as(world["company"]).post("/candidates", json={
        **COMPLETE, "birth_place_code": "99109", "birth_place": "Berlin"}).json
    assert answer["birth_country"] == "Allemagne" and answer["birth_place"] == "Berlin"
    assert answer["cpf_missing"] == []


def test_the_identity_is_optional_at_creation_and_cpf_missing_says_what_is_left(world, api_as):
    answer = api_as(world["company"]).post("/candidates", json={
        "first_name": "Paul", "last_name": "Durand", "birth_date": "1990-01-02"}).json
    assert answer["cpf_missing"] == ["sex", "birth_place_code"]
    assert answer["other_first_names"] == [] and answer["sex"] is None


@pytest.mark.parametrize("field,value,message", [
    ("sex", "X", "« M » (homme) ou « F » (femme)"),
    ("birth_place_code", "75999", "inconnu du code officiel géographique"),
    ("birth_place_code", "ABC", "5 caractères"),
    ("other_first_names", ["A", "B", "C"], "Deux autres prénoms au plus"),
    ("birth_date", "2020-05-01", "au moins 15 ans"),
    ("birth_date", "1899-12-31", "antérieure au 1er janvier 1900"),
    ("birth_date", "2027-03-02", "dans le futur"),
    ("birth_date", "30/11/1988", "AAAA-MM-JJ"),
    ("first_name", "  ", "Le prénom est obligatoire"),
    ("usage_name", "x" * 121, "120 caractères au plus"),
])
def test_each_bad_input_is_a_422_naming_its_field(world, api_as, field, value, message):
    refused = api_as(world["company"]).post("/candidates", json={**COMPLETE, field: value})
    problem = problem_of(refused, 422)
    assert list(problem["errors"]) == [field] and message in " ".join(problem["errors"][field])
    assert db.session.query(Candidate).count() == 0


def test_a_422_lists_every_invalid_field_at_once(world, api_as):
    refused = api_as(world["company"]).post("/candidates", json={
        "first_name": "", "last_name": "Girard", "birth_date": "2024-01-01", "sex": "H",
        "birth_place_code": "00000", "other_first_names": ["A", "B", "C"], "email": "pas-une-adresse"})
    problem = problem_of(refused, 422)
    assert set(problem["errors"]) == {"first_name", "birth_date", "sex", "birth_place_code", "other_first_names",
                                      "email"}


def test_the_openapi_publishes_sex_as_an_enum(world, api_as):
    spec = api_as(None).get("/openapi.json").json
    schemas = spec["components"]["schemas"]
    assert {"M", "F"} <= set(schemas["CandidateIn"]["properties"]["sex"]["enum"])
    assert "patch" in spec["paths"]["/api/v1/candidates/{candidate_id}"]


def test_patch_changes_only_the_fields_given(world, api_as):
    api = api_as(world["company"])
    created = api.post("/candidates", json={"first_name": "Paul", "last_name": "Durand",
                                            "birth_date": "1990-01-02", "email": "paul@perso.fr"}).json
    patched = api.patch(f"/candidates/{created['id']}", json={"sex": "M", "birth_place_code": "2A004"})
    assert patched.status_code == 200, patched.json
    assert patched.json["birth_place"] == "Ajaccio" and patched.json["email"] == "paul@perso.fr"
    assert patched.json["cpf_missing"] == [] and patched.json["first_name"] == "Paul"
    problem = problem_of(api.patch(f"/candidates/{created['id']}", json={"sex": "?", "birth_date": "1800-01-01"}),
                         422)
    assert set(problem["errors"]) == {"sex", "birth_date"}


def test_patch_of_another_establishments_candidate_is_a_404(world, api_as):
    other = factories.make_candidate()
    problem_of(api_as(world["company"]).patch(f"/candidates/{other.id}", json={"sex": "M"}), 404)


def _decided_candidate(world) -> Candidate:
    candidate = factories.make_candidate(world["company"].establishment)
    factories.make_file(FileStatus.VALIDE, candidate=candidate)
    return candidate


@pytest.mark.parametrize("change", [{"last_name": "Autre"}, {"first_name": "Autre"}, {"sex": "M"},
                                    {"birth_date": "1990-05-18"}, {"birth_place_code": "69123"},
                                    {"usage_name": "Épouse"}, {"other_first_names": ["Jo"]}])
def test_r15_the_company_cannot_change_the_identity_of_a_decided_candidate(world, api_as, change):
    candidate = _decided_candidate(world)
    before = {name: getattr(candidate, name) for name in change}
    problem = problem_of(api_as(world["company"]).patch(f"/candidates/{candidate.id}", json=change), 409)
    assert "rectification au secrétariat" in problem["detail"] and set(change) <= set(problem["errors"])
    db.session.expire_all()
    assert {name: getattr(db.session.get(Candidate, candidate.id), name) for name in change} == before


def test_r15_the_company_still_changes_the_contact_of_a_decided_candidate(world, api_as):
    candidate = _decided_candidate(world)
    answer = api_as(world["company"]).patch(f"/candidates/{candidate.id}", json={
        "email": "nouvelle@perso.fr", "phone": "0601020304", "last_name": candidate.last_name})
    assert answer.status_code == 200 and answer.json["email"] == "nouvelle@perso.fr"
    assert answer.json["has_issued_record"] is True


def test_r15_the_secretariat_needs_a_reason_to_rectify(world, api_as):
    candidate = _decided_candidate(world)
    secretariat = api_as(world["secretariat"])
    problem = problem_of(secretariat.patch(f"/candidates/{candidate.id}", json={"last_name": "Rectifié"}), 422)
    assert set(problem["errors"]) == {"reason"} and "motif" in problem["errors"]["reason"][0]
    problem_of(secretariat.patch(f"/candidates/{candidate.id}", json={"last_name": "Rectifié", "reason": " "}), 422)
    problem = problem_of(secretariat.patch(f"/candidates/{candidate.id}", json={"last_name": "Rectifié", "sex": "Z",
                                                                                "email": "x"}), 422)
    assert set(problem["errors"]) == {"reason", "sex", "email"}  # every mistake at once
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).last_name != "Rectifié"


def test_the_secretariat_patches_an_undecided_candidate_without_reason(world, api_as):
    candidate = factories.make_candidate(world["company"].establishment, birth_date=date(1990, 5, 17))
    answer = api_as(world["secretariat"]).patch(f"/candidates/{candidate.id}", json={"last_name": "Corrigé"})
    assert answer.status_code == 200 and answer.json["last_name"] == "Corrigé"


def test_r15_the_secretariat_rectifies_with_a_reason(world, api_as):
    candidate = _decided_candidate(world)
    answer = api_as(world["secretariat"]).patch(f"/candidates/{candidate.id}", json={
        "last_name": "Rectifié", "sex": "M", "reason": "Erreur de saisie sur l'acte de naissance"})
    assert answer.status_code == 200, answer.json
    assert answer.json["last_name"] == "Rectifié" and answer.json["sex"] == "M"
