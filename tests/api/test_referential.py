"""API v1 referential endpoints: GET /cqps, POST /establishments, GET/POST /assessors. Every error path
answers problem+json with a French detail naming the field, and nothing is half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts.models import Establishment, OneTimeToken, User
from app.core.models import OutboxEmail
from app.extensions import db
from app.referential.models import Assessor
from tests.factories import make_assessor, make_establishment, make_user

ROLES = ["entreprise", "candidat", "evaluateur", "jury", "secretariat", "partenaire"]
SIRET = "73282932000074"


def rows() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Establishment, User, Assessor, OneTimeToken, OutboxEmail)}


def assert_problem(response, status: int, *in_detail: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    for text in in_detail:
        assert text in body["detail"], body
    return body


@pytest.fixture
def secretariat_api(app_ctx, api_as):
    return api_as(make_user("secretariat"))


# ---------------------------------------------------------------- GET /cqps


@pytest.mark.parametrize("role", ROLES)
def test_any_role_reads_the_referential(app_ctx, api_as, role):
    response = api_as(make_user(role)).get("/cqps")
    assert response.status_code == 200 and response.mimetype == "application/json"
    cqps = response.json
    assert len(cqps) == 13
    first = next(c for c in cqps if c["code"] == "FAB-OPF")
    assert set(first) == {"code", "title", "domain", "competences", "repertoire", "repertoire_code", "level",
                          "nsf_code", "registered_on", "carry_over_years"}
    assert first["domain"] == "Fabrication" and first["competences"][0] == {
        "code": "C1", "title": first["competences"][0]["title"]}


def test_inactive_cqps_and_competences_are_not_listed(secretariat_api):
    from tests.factories import get_cqp

    cqp = get_cqp("COM-TCO")
    cqp.active = False
    get_cqp("FAB-OPF").competences[0].active = False
    db.session.commit()
    codes = {c["code"]: c for c in secretariat_api.get("/cqps").json}
    assert "COM-TCO" not in codes
    assert "C1" not in [k["code"] for k in codes["FAB-OPF"]["competences"]]


# ---------------------------------------------------------------- auth errors


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer faux-jeton"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer "}])
def test_no_or_bad_token_is_401(client, headers):
    body = assert_problem(client.get("/api/v1/cqps", headers=headers), 401, "Jeton")
    assert "Bearer" in body["detail"]


def test_revoked_token_is_401(app_ctx, api_as):
    from app.accounts.models import ApiToken
    from app.core.clock import utcnow

    api = api_as(make_user("jury"))
    for token in db.session.scalars(select(ApiToken)):
        token.revoked_at = utcnow()
    db.session.commit()
    assert_problem(api.get("/cqps"), 401)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "secretariat"])
def test_only_the_secretariat_creates_establishments_and_assessors(app_ctx, api_as, role):
    api = api_as(make_user(role))
    before = rows()
    assert_problem(api.post("/establishments", json={"siret": SIRET, "name": "Chimie"}), 403, "rôle")
    assert_problem(api.post("/assessors", json={"email": "e@exemple.fr", "first_name": "E", "last_name": "V",
                                                "habilitation_until": "2030-01-01"}), 403)
    assert rows() == before


def test_unknown_path_is_404(secretariat_api):
    assert_problem(secretariat_api.get("/nulle-part"), 404)


@pytest.mark.parametrize("method,path", [("delete", "/cqps"), ("post", "/cqps"), ("get", "/establishments"),
                                         ("put", "/assessors"), ("delete", "/assessors")])
def test_wrong_method_is_405(secretariat_api, method, path):
    assert_problem(getattr(secretariat_api, method)(path), 405, "méthode")


# ---------------------------------------------------------------- POST /establishments


def test_create_an_establishment(secretariat_api):
    response = secretariat_api.post("/establishments", json={
        "siret": "732 829 320 00074", "name": "Chimie Démo SAS", "address": "12 rue des Alambics",
        "contact_email": "Contact@Chimie-Demo.fr"})
    assert response.status_code == 201 and response.mimetype == "application/json"
    assert response.json["siret"] == SIRET and response.json["name"] == "Chimie Démo SAS"
    assert response.json["contact_email"] == "contact@chimie-demo.fr"
    assert db.session.scalar(select(Establishment.name).where(Establishment.siret == SIRET)) == "Chimie Démo SAS"


def test_duplicate_siret_is_409(secretariat_api):
    make_establishment("Déjà là", siret=SIRET)
    before = rows()
    body = assert_problem(secretariat_api.post("/establishments", json={"siret": SIRET, "name": "Autre"}), 409,
                          f"Un établissement existe déjà pour le SIRET {SIRET}")
    assert body["errors"] == {"siret": [body["detail"]]}
    assert rows() == before


@pytest.mark.parametrize("siret", ["12345678901234", "7328293200007", "7328293200007X", "", "732829320000740"])
def test_invalid_siret_is_422_naming_the_field(secretariat_api, siret):
    before = rows()
    body = assert_problem(secretariat_api.post("/establishments", json={"siret": siret, "name": "Chimie"}), 422,
                          "SIRET")
    assert "siret" in body["errors"]
    assert rows() == before


@pytest.mark.parametrize("payload,field,message", [
    ({"name": "Chimie"}, "siret", "Ce champ est obligatoire."),
    ({"siret": SIRET}, "name", "Ce champ est obligatoire."),
    ({"siret": SIRET, "name": None}, "name", "Ce champ ne peut pas être vide (null)."),
    ({"siret": SIRET, "name": "   "}, "name", "La raison sociale de l'établissement est obligatoire."),
    ({"siret": 73282932000074, "name": "Chimie"}, "siret", "Doit être une chaîne de caractères."),
    ({"siret": SIRET, "name": "Chimie", "contact_email": "pas-une-adresse"}, "contact_email",
     "L'adresse email n'est pas valide."),
    ({"siret": SIRET, "name": "C" * 256}, "name", "255 caractères au plus."),
    ({"siret": SIRET, "name": "Chimie", "couleur": "bleu"}, "couleur", "Champ inconnu."),
])
def test_bad_establishment_fields_are_422_naming_the_field(secretariat_api, payload, field, message):
    before = rows()
    body = assert_problem(secretariat_api.post("/establishments", json=payload), 422)
    assert field in body["detail"] or message in body["detail"]
    assert body["errors"][field] == [message]
    assert rows() == before


@pytest.mark.parametrize("raw", ['{"siret": "73282932000074", "name": ', "pas du json", "{'siret': 1}"])
def test_malformed_json_is_400(secretariat_api, raw):
    before = rows()
    body = assert_problem(secretariat_api.post("/establishments", data=raw,
                                               headers={"Content-Type": "application/json"}), 400, "JSON")
    assert "errors" not in body
    assert rows() == before


@pytest.mark.parametrize("raw", ["[1, 2]", '"une chaîne"', "42"])
def test_json_that_is_not_an_object_is_422(secretariat_api, raw):
    body = assert_problem(secretariat_api.post("/establishments", data=raw,
                                               headers={"Content-Type": "application/json"}), 422)
    assert body["detail"] == "Le corps de la requête doit être un objet JSON."


def test_missing_body_is_422_naming_the_required_fields(secretariat_api):
    body = assert_problem(secretariat_api.post("/establishments"), 422, "siret", "name")
    assert set(body["errors"]) == {"siret", "name"}


# ---------------------------------------------------------------- assessors

ASSESSOR = {"email": "marc.lefevre@exemple.fr", "first_name": "Marc", "last_name": "Lefèvre",
            "habilitation_until": "2029-06-30", "cqp_codes": ["FAB-OPF", "MNT-TMI"]}


def test_create_an_assessor(secretariat_api, mailbox):
    response = secretariat_api.post("/assessors", json=ASSESSOR)
    assert response.status_code == 201
    body = response.json
    assert body["id"] and body["email"] == "marc.lefevre@exemple.fr" and body["name"] == "Marc Lefèvre"
    assert body["habilitation_until"] == "2029-06-30" and sorted(body["cqp_codes"]) == ["FAB-OPF", "MNT-TMI"]
    user = db.session.scalar(select(User).where(User.email == "marc.lefevre@exemple.fr"))
    assert user.role == "evaluateur"
    message = mailbox.last_to("marc.lefevre@exemple.fr")
    assert any("/mot-de-passe/" in link for link in mailbox.links_in(message))


def test_create_an_assessor_for_every_cqp(secretariat_api):
    payload = {k: v for k, v in ASSESSOR.items() if k != "cqp_codes"}
    response = secretariat_api.post("/assessors", json=payload)
    assert response.status_code == 201 and response.json["cqp_codes"] == []


@pytest.mark.parametrize("change,field,message", [
    ({"habilitation_until": "2029-13-01"}, "habilitation_until", "Date invalide : format attendu AAAA-MM-JJ."),
    ({"habilitation_until": "30/06/2029"}, "habilitation_until", "Date invalide : format attendu AAAA-MM-JJ."),
    ({"habilitation_until": None}, "habilitation_until", "Ce champ ne peut pas être vide (null)."),
    ({"cqp_codes": ["FAB-OPF", "INCONNU"]}, "cqp_codes", "Le CQP « INCONNU » n'existe pas dans le référentiel."),
    ({"cqp_codes": "FAB-OPF"}, "cqp_codes", "Doit être une liste."),
    ({"email": "pas-une-adresse"}, "email", "L'adresse email n'est pas valide."),
    ({"first_name": ""}, "first_name", "Le prénom est obligatoire."),
    ({"last_name": " "}, "last_name", "Le nom est obligatoire."),
])
def test_bad_assessor_fields_are_422_naming_the_field(secretariat_api, mailbox, change, field, message):
    before = rows()
    body = assert_problem(secretariat_api.post("/assessors", json={**ASSESSOR, **change}), 422)
    assert body["errors"][field] == [message]
    assert field in body["detail"] or message == body["detail"]
    assert rows() == before and mailbox.messages == []


@pytest.mark.parametrize("missing", ["email", "first_name", "last_name", "habilitation_until"])
def test_missing_assessor_field_is_422(secretariat_api, missing):
    before = rows()
    payload = {k: v for k, v in ASSESSOR.items() if k != missing}
    body = assert_problem(secretariat_api.post("/assessors", json=payload), 422, missing)
    assert body["errors"] == {missing: ["Ce champ est obligatoire."]}
    assert rows() == before


def test_duplicate_assessor_email_is_409(secretariat_api):
    make_user("jury", email="marc.lefevre@exemple.fr")
    before = rows()
    body = assert_problem(secretariat_api.post("/assessors", json={**ASSESSOR, "email": "Marc.Lefevre@exemple.fr"}),
                          409, "marc.lefevre@exemple.fr")
    assert "email" in body["errors"]
    assert rows() == before


@pytest.mark.parametrize("role", ROLES)
def test_get_assessors_lists_those_habilitated_today(app_ctx, api_as, today_is, role):
    from datetime import date

    today_is("2027-03-12")
    valid = make_assessor(email="valide@exemple.fr", until=date(2027, 3, 12))
    make_assessor(email="expire@exemple.fr", until=date(2027, 3, 11))
    inactive = make_assessor(email="inactif@exemple.fr", until=date(2030, 1, 1))
    inactive.user.active = False
    db.session.commit()
    response = api_as(make_user(role) if role != "evaluateur" else valid.user).get("/assessors")
    assert response.status_code == 200
    emails = [a["email"] for a in response.json]
    assert emails == ["valide@exemple.fr"]
    assert set(response.json[0]) == {"id", "email", "first_name", "last_name", "name", "habilitation_until",
                                     "cqp_codes", "departement"}


# ---------------------------------------------------------------- OpenAPI


def test_openapi_is_public_and_lists_the_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    for path, methods in {"/api/v1/cqps": {"get"}, "/api/v1/establishments": {"post"},
                          "/api/v1/assessors": {"get", "post"}}.items():
        assert methods <= set(spec["paths"][path]), path
    schema = spec["paths"]["/api/v1/establishments"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/EstablishmentIn")
    assert set(spec["components"]["schemas"]["EstablishmentIn"]["required"]) == {"siret", "name"}
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_openapi_documents_errors_as_problem_json(client):
    spec = client.get("/api/v1/openapi.json").json
    responses = spec["components"]["responses"]
    assert "application/problem+json" in responses["UNPROCESSABLE_ENTITY"]["content"]
    assert "application/problem+json" in responses["DEFAULT_ERROR"]["content"]
    post = spec["paths"]["/api/v1/establishments"]["post"]["responses"]
    assert {"201", "409", "422"} <= set(post)
    assert set(spec["components"]["schemas"]["Problem"]["properties"]) == {"type", "title", "status", "detail",
                                                                            "errors"}
