"""A CQP's registration by France compétences (RNCP or RS, code, level, NSF, date of decision) and
carry_over_years: PATCH /cqps/{code} (secretariat), GET /cqps, and the secretariat's CQP edit page."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.referential.models import Cqp
from tests.factories import get_cqp, make_user

CODE = "FAB-OPF"


@pytest.fixture
def secretariat_api(app_ctx, api_as):
    return api_as(make_user("secretariat"))


def fresh(code=CODE) -> Cqp:
    db.session.expire_all()
    return get_cqp(code)


def test_a_new_cqp_is_not_registered_and_keeps_acquired_competences_five_years(app_ctx):
    cqp = Cqp(code="NEW-X", title="Nouveau", domain="Fabrication")
    db.session.add(cqp)
    db.session.flush()
    assert cqp.carry_over_years == 5 and not cqp.is_registered and cqp.repertoire is None


def test_patch_registers_a_cqp_in_the_rncp(secretariat_api):
    response = secretariat_api.patch(f"/cqps/{CODE}", json={
        "repertoire": "RNCP", "repertoire_code": "RNCP35842", "level": 3, "nsf_code": "222n",
        "registered_on": "2024-03-28", "carry_over_years": 4})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["repertoire"], body["repertoire_code"], body["level"], body["nsf_code"], body["registered_on"],
            body["carry_over_years"]) == ("RNCP", "RNCP35842", 3, "222n", "2024-03-28", 4)
    cqp = fresh()
    assert cqp.is_registered and cqp.registered_on == date(2024, 3, 28) and cqp.level == 3


def test_patch_normalises_case_and_spaces_and_infers_the_repertoire(secretariat_api):
    response = secretariat_api.patch(f"/cqps/{CODE}", json={"repertoire_code": " rs 5614 ", "nsf_code": "311T"})
    assert response.status_code == 200, response.json
    assert (response.json["repertoire"], response.json["repertoire_code"], response.json["nsf_code"],
            response.json["level"]) == ("RS", "RS5614", "311t", None)


def test_get_cqps_items_carry_the_registration_keys(secretariat_api):
    secretariat_api.patch(f"/cqps/{CODE}", json={"repertoire": "RS", "repertoire_code": "RS5614"})
    items = {c["code"]: c for c in secretariat_api.get("/cqps").json}
    for key in ("repertoire", "repertoire_code", "level", "nsf_code", "registered_on", "carry_over_years"):
        assert key in items[CODE]
    assert items[CODE]["repertoire_code"] == "RS5614" and items["FAB-CEF"]["carry_over_years"] == 5


def test_patch_changes_only_the_fields_given_and_null_unregisters(secretariat_api):
    secretariat_api.patch(f"/cqps/{CODE}", json={"repertoire": "RNCP", "repertoire_code": "RNCP35842", "level": 3})
    assert secretariat_api.patch(f"/cqps/{CODE}", json={"carry_over_years": 0}).json["repertoire_code"] == "RNCP35842"
    response = secretariat_api.patch(f"/cqps/{CODE}", json={"repertoire": None, "repertoire_code": None,
                                                            "level": None})
    assert response.status_code == 200, response.json
    assert not fresh().is_registered and fresh().carry_over_years == 0


def test_patch_changes_the_title(secretariat_api):
    response = secretariat_api.patch(f"/cqps/{CODE}", json={"title": "  Opérateur de fabrication des industries chimiques "})
    assert response.status_code == 200 and fresh().title == "Opérateur de fabrication des industries chimiques"


@pytest.mark.parametrize("field, value", [
    ("repertoire", "RNCPX"), ("repertoire", "rome"), ("repertoire", 3), ("repertoire", ["RNCP"]),
    ("repertoire_code", "RNCP"), ("repertoire_code", "35842"), ("repertoire_code", "RNCP35842A"),
    ("repertoire_code", "RSX12"), ("repertoire_code", "RNCP-35842"), ("repertoire_code", 35842),
    ("repertoire_code", "RNCP12345678"),
    ("level", 0), ("level", 9), ("level", -1), ("level", "trois"), ("level", 2.5), ("level", True),
    ("nsf_code", "22"), ("nsf_code", "2222"), ("nsf_code", "222i"), ("nsf_code", "222nn"), ("nsf_code", "522"),
    ("nsf_code", "abc"), ("nsf_code", 222),
    ("registered_on", "2024-13-01"), ("registered_on", "28/03/2024x"), ("registered_on", 2024),
    ("registered_on", "2999-01-01"),
    ("carry_over_years", -1), ("carry_over_years", "cinq"), ("carry_over_years", None), ("carry_over_years", 1.5),
    ("carry_over_years", 100), ("title", ""), ("title", None), ("title", "x" * 256),
])
def test_every_bad_input_is_a_422_naming_the_field_and_nothing_written(secretariat_api, field, value):
    response = secretariat_api.patch(f"/cqps/{CODE}", json={field: value})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    cqp = fresh()
    assert not cqp.is_registered and cqp.carry_over_years == 5 and cqp.title != ""


def test_a_422_lists_every_invalid_field_at_once(secretariat_api):
    response = secretariat_api.patch(f"/cqps/{CODE}", json={
        "repertoire": "XX", "repertoire_code": "ABC", "level": 12, "nsf_code": "9", "registered_on": "hier",
        "carry_over_years": -2})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"repertoire", "repertoire_code", "level", "nsf_code", "registered_on",
                                            "carry_over_years"}
    assert "RNCP ou RS" in response.json["errors"]["repertoire"][0]


@pytest.mark.parametrize("body, field", [
    ({"repertoire": "RS", "repertoire_code": "RNCP35842"}, "repertoire_code"),
    ({"repertoire": "RNCP", "repertoire_code": "RS5614", "level": 3}, "repertoire_code"),
    ({"repertoire": "RNCP"}, "repertoire_code"),
    ({"repertoire": "RNCP", "repertoire_code": "RNCP35842"}, "level"),
    ({"repertoire": None, "repertoire_code": "RNCP35842", "level": 3}, "repertoire"),
])
def test_registration_fields_that_disagree_are_a_422(secretariat_api, body, field):
    response = secretariat_api.patch(f"/cqps/{CODE}", json=body)
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert not fresh().is_registered


def test_unknown_field_unknown_cqp_and_other_roles(app_ctx, api_as, secretariat_api):
    assert secretariat_api.patch(f"/cqps/{CODE}", json={"rncp": "RNCP1"}).status_code == 422
    assert secretariat_api.patch("/cqps/NOPE", json={"level": 3}).status_code == 404
    for role in ("entreprise", "jury", "evaluateur"):
        assert api_as(make_user(role)).patch(f"/cqps/{CODE}", json={"carry_over_years": 2}).status_code == 403
    assert fresh().carry_over_years == 5


def test_the_change_is_audited(secretariat_api):
    from sqlalchemy import select

    from app.core.models import AuditEntry

    secretariat_api.patch(f"/cqps/{CODE}", json={"repertoire_code": "RS5614"})
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "cqp.registration")).one()
    assert entry.details["repertoire_code"] == "RS5614"


# ---------------------------------------------------------------- the secretariat's CQP edit page


@pytest.fixture
def secretary(app_ctx, login_as):
    user = make_user("secretariat")
    login_as(user)
    return user


def _form(cqp, **changes) -> dict:
    from tests.referential.test_views import _cqp_form

    data = _cqp_form(cqp, repertoire="", repertoire_code="", level="", nsf_code="", registered_on="",
                     carry_over_years=str(cqp.carry_over_years))
    data.update(changes)
    return data


def test_the_edit_page_registers_a_cqp(client, secretary):
    from tests.accounts.conftest import page_text
    from tests.conftest import submit_form

    html = page_text(client.get(f"/referentiel/cqp/{CODE}"))
    assert "Enregistrement par France compétences" in html and 'name="repertoire_code"' in html
    response = submit_form(client, f"/referentiel/cqp/{CODE}", _form(
        get_cqp(CODE), repertoire="RNCP", repertoire_code="RNCP35842", level="3", nsf_code="222n",
        registered_on="28/03/2024", carry_over_years="4"))
    assert response.status_code == 302, page_text(response)
    cqp = fresh()
    assert (cqp.repertoire, cqp.repertoire_code, cqp.level, cqp.nsf_code, cqp.registered_on,
            cqp.carry_over_years) == ("RNCP", "RNCP35842", 3, "222n", date(2024, 3, 28), 4)
    html = page_text(client.get(f"/referentiel/cqp/{CODE}"))
    assert 'value="RNCP35842"' in html and 'value="2024-03-28"' in html


def test_the_edit_page_names_every_mistake_and_writes_nothing(client, secretary):
    from tests.accounts.conftest import page_text
    from tests.conftest import submit_form

    response = submit_form(client, f"/referentiel/cqp/{CODE}", _form(
        get_cqp(CODE), title="Titre changé", repertoire="RNCP", repertoire_code="35842", nsf_code="99",
        registered_on="hier", carry_over_years="-1"))
    assert response.status_code == 422
    html = page_text(response)
    for field in ("repertoire_code", "nsf_code", "registered_on", "carry_over_years"):
        assert f'id="{field}-erreur"' in html, field
    assert "RNCP ou RS suivi de chiffres" in html and "Le code NSF" in html
    cqp = fresh()
    assert not cqp.is_registered and cqp.title != "Titre changé" and cqp.carry_over_years == 5


def test_the_edit_page_refuses_a_rncp_registration_without_level(client, secretary):
    from tests.accounts.conftest import page_text
    from tests.conftest import submit_form

    response = submit_form(client, f"/referentiel/cqp/{CODE}", _form(
        get_cqp(CODE), repertoire="RNCP", repertoire_code="RNCP35842"))
    assert response.status_code == 422
    assert 'id="level-erreur"' in page_text(response) and not fresh().is_registered


def test_the_demo_registers_some_cqps_in_the_rncp_one_in_the_rs_and_leaves_others(app_ctx):
    from app.referential.services import list_cqps, register_demo_cqps

    register_demo_cqps()
    cqps = {c.code: c for c in list_cqps(include_inactive=True)}
    assert cqps["FAB-OPF"].repertoire_code == "RNCP35842" and cqps["FAB-OPF"].level == 3
    assert cqps["LOG-AGL"].repertoire == "RS" and cqps["LOG-AGL"].level is None
    assert not cqps["COM-TCO"].is_registered
    assert sum(c.repertoire == "RNCP" for c in cqps.values()) >= 2


def test_the_migration_gives_existing_cqps_no_registration_and_five_years(app, app_ctx):
    """b7c1d9e2f3a4 on a database with CQPs and a parchment version: the CQPs are not registered, keep their
    competences 5 years; the versions have no registration (they print the CQP's); down and up again."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    get_cqp(CODE).carry_over_years = 2
    db.session.commit()
    db.session.close()
    directory = str(app.extensions["migrate"].directory)
    downgrade(directory=directory, revision="a9d3e7b1c5f4")
    columns = {c["name"] for c in inspect(db.engine).get_columns("cqps")}
    assert "repertoire_code" not in columns and "carry_over_years" not in columns
    assert "cqp_registration" not in {c["name"] for c in inspect(db.engine).get_columns("parchment_versions")}
    upgrade(directory=directory)
    rows = db.session.execute(text("SELECT code, repertoire, repertoire_code, level, nsf_code, registered_on, "
                                   "carry_over_years FROM cqps")).all()
    assert rows and all(row[1:] == (None, None, None, None, None, 5) for row in rows)
    db.session.close()


def test_the_cqp_list_shows_each_registration(client, secretary):
    from tests.accounts.conftest import page_text

    cqp = get_cqp(CODE)
    cqp.repertoire, cqp.repertoire_code, cqp.level = "RNCP", "RNCP35842", 3
    db.session.commit()
    html = page_text(client.get("/referentiel/cqp"))
    assert "RNCP35842 · niveau 3" in html and "Non enregistré" in html
