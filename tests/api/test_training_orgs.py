"""GET /training-organisations/{siret}, a file's `training_org` (name and warning, never a block), its file page,
and the secretariat's list of files filtered on it (`?organisme=`)."""

from __future__ import annotations

from datetime import date

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.referential.training_org_models import UNKNOWN_SIRET, TrainingOrganisation, TrainingOrgNda
from tests import factories


def organisation(siret: str, name: str, *, qualiopi: bool = True, active: bool = True) -> TrainingOrganisation:
    org = TrainingOrganisation(siret=siret, siren=siret[:9], name=name, qualiopi_actions_formation=qualiopi,
                               qualiopi_vae=True, last_declaration_on=date(2026, 1, 30),
                               ndas=[TrainingOrgNda(number="11910843391", active=active)])
    db.session.add(org)
    db.session.commit()
    return org


@pytest.fixture
def world(app_ctx):
    company = factories.make_user(Role.ENTREPRISE)
    sirets = [factories.valid_siret(700 + n) for n in range(4)]
    organisation(sirets[0], "CHIMIE FORMATION")
    organisation(sirets[1], "SANS QUALIOPI", qualiopi=False)
    organisation(sirets[2], "NDA PERDU", active=False)
    files = []
    for siret in [*sirets, None]:
        file = factories.make_file(establishment=company.establishment)
        file.training_org_siret = siret
        files.append(file)
    db.session.commit()
    return {"company": company, "secretariat": factories.make_user(Role.SECRETARIAT), "sirets": sirets,
            "files": files}


def test_an_organisation_is_answered_to_any_token(world, api_as):
    jury = factories.make_user(Role.JURY)
    answer = api_as(jury).get(f"/training-organisations/{world['sirets'][0]}")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["siret"] == world["sirets"][0] and body["name"] == "CHIMIE FORMATION"
    assert body["nda"] == [{"number": "11910843391", "active": True}]
    assert body["qualiopi"] == {"actions_formation": True, "bilans_competences": False, "vae": True,
                                "apprentissage": False}
    assert body["checked_at"] and body["warning"] is None and body["source"] == "liste_publique"


@pytest.mark.parametrize("siret", ["12345678901234", "pas-un-siret", "0" * 30])
def test_an_unknown_siret_is_a_404(world, api_as, siret):
    answer = api_as(world["company"]).get(f"/training-organisations/{siret}")
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"


def test_without_a_token_it_is_a_401(world, api_as):
    assert api_as(None).get(f"/training-organisations/{world['sirets'][0]}").status_code == 401


def test_a_file_carries_the_name_and_a_warning(world, api_as):
    api = api_as(world["company"])
    seen = [api.get(f"/files/{file.id}").json["training_org"] for file in world["files"]]
    assert seen[0] == {"siret": world["sirets"][0], "name": "CHIMIE FORMATION", "warning": None}
    assert seen[1]["warning"] == "Cet organisme n'est pas certifié Qualiopi pour les actions de formation."
    assert seen[2]["warning"] == "Son numéro de déclaration d'activité (NDA) n'est pas actif."
    assert seen[3] == {"siret": world["sirets"][3], "name": None, "warning": UNKNOWN_SIRET}
    assert seen[4] is None
    listed = {item["id"]: item["training_org"] for item in api.get("/files?per_page=100").json["items"]}
    assert listed[world["files"][1].id]["name"] == "SANS QUALIOPI"


def test_the_file_page_shows_the_name_and_the_warning_and_the_file_still_moves_on(world, login_as, client):
    login_as(world["company"])
    page = client.get(f"/dossiers/{world['files'][1].id}").get_data(as_text=True)
    assert "SANS QUALIOPI" in page and "pas certifié Qualiopi pour les actions de formation" in page
    assert "ce n&#39;est qu&#39;une alerte" in page or "ce n'est qu'une alerte" in page
    fine = client.get(f"/dossiers/{world['files'][0].id}").get_data(as_text=True)
    assert "CHIMIE FORMATION" in fine and "training-org-warning" not in fine


@pytest.mark.parametrize("value, expected", [
    ("sans_qualiopi", [1, 2, 3]), ("qualiopi", [0]), ("aucun", [4]), ("SIRET0", [0]), ("", [0, 1, 2, 3, 4]),
])
def test_the_secretariat_filters_the_files_on_their_organisation(world, login_as, client, value, expected):
    login_as(world["secretariat"])
    value = world["sirets"][0] if value == "SIRET0" else value
    page = client.get(f"/dossiers?organisme={value}").get_data(as_text=True)
    shown = [i for i, file in enumerate(world["files"]) if f'href="/dossiers/{file.id}"' in page]
    assert shown == expected
    assert 'id="organisme"' in page


def test_an_unknown_filter_value_is_said_not_a_500(world, login_as, client):
    login_as(world["secretariat"])
    response = client.get("/dossiers?organisme=n-importe-quoi")
    assert response.status_code == 200
    assert "Organisme : choisissez une option de la liste" in response.get_data(as_text=True)
