"""R13 on the files' side: a new file for a candidate holding competences of the CQP (a published partial
decision whose jury date + carry_over_years is not past) shows them as acquired, offers only the others, and
the API refuses them (422 naming each) and answers `acquired_competences`; the candidate's page shows the
path over the juries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import app.models  # noqa: F401  (every mapped class known before the jury modules build loader options)
from app.accounts.models import Role
from app.core.errors import ValidationFailed
from app.extensions import db
from app.files import carry_over, services
from app.files.models import CandidateFile
from tests.carry_over_helpers import (
    FILE_FIELDS,
    FIRST_JURY,
    SECOND_JURY,
    company_user,
    first_attempt,
    next_file,
    to_jury,
)
from tests.factories import get_cqp, make_user
from tests.jury.helpers import decide

UNTIL = date(2032, 6, 15)  # FIRST_JURY + 5 years


@pytest.fixture
def secretariat(app_ctx):
    return make_user(Role.SECRETARIAT)


def _codes(rows) -> list[str]:
    return [row.competence.code for row in rows]


@pytest.mark.parametrize(("day", "held"), [
    (FIRST_JURY, ["C1", "C2", "C3"]),
    (UNTIL - timedelta(days=1), ["C1", "C2", "C3"]),
    (UNTIL, ["C1", "C2", "C3"]),  # jury date + carry_over_years: not past yet
    (UNTIL + timedelta(days=1), []),  # the day after: past
])
def test_acquired_until_jury_date_plus_carry_over_years(app_ctx, secretariat, today_is, day, held):
    first = first_attempt(secretariat, today_is)
    assert _codes(carry_over.acquired_for(first.candidate_id, first.cqp, on=day)) == held


def test_the_day_after_expiry_a_new_file_covers_every_competence_again(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is)
    today_is(UNTIL + timedelta(days=1))
    file = next_file(first, ["C1", "C2", "C3", "C4", "C5", "C6", "C7"])
    assert file.carried_competences == [] and len(file.competences) == 7


def test_carry_over_years_zero_offers_every_competence(app_ctx, secretariat, today_is):
    get_cqp("FAB-OPF").carry_over_years = 0
    db.session.commit()
    first = first_attempt(secretariat, today_is)
    assert carry_over.acquired_for(first.candidate_id, first.cqp) == []


def test_an_unpublished_partial_decision_gives_nothing_yet(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is, publish=False)
    assert carry_over.acquired_for(first.candidate_id, first.cqp) == []


def test_another_candidate_holds_nothing(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is)
    other = first_attempt(secretariat, today_is, validated=())
    assert carry_over.acquired_for(other.candidate_id, first.cqp) == []


def test_acquired_competences_asked_again_are_refused_naming_each(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is)
    actor = company_user(first)
    with pytest.raises(ValidationFailed) as refused:
        services.create_file(first.candidate, actor, cqp_code="FAB-OPF", competence_codes=["C1", "C3", "C4"],
                             **FILE_FIELDS)
    message = refused.value.errors["competence_codes"][0]
    assert "C1 (acquise au jury du 15/06/2027, jusqu'au 15/06/2032)" in message
    assert "C3 (acquise" in message and "C4" not in message
    db.session.rollback()
    assert db.session.query(CandidateFile).filter_by(candidate_id=first.candidate_id).count() == 1


def test_a_removed_competence_is_not_offered_nor_counted(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is)
    removed = next(c for c in first.cqp.competences if c.code == "C2")
    removed.active = False
    db.session.commit()
    held = carry_over.acquired_for(first.candidate_id, first.cqp)
    assert _codes(held) == ["C1", "C3"]
    assert [c.code for c in carry_over.remaining_competences(first.cqp, held)] == ["C4", "C5", "C6", "C7"]


def test_nothing_left_to_pass_is_said(app_ctx, secretariat, today_is):
    first = first_attempt(secretariat, today_is, validated=("C1", "C2", "C3", "C4", "C5", "C6"))
    next(c for c in first.cqp.competences if c.code == "C7").active = False
    db.session.commit()
    with pytest.raises(ValidationFailed, match="Toutes les compétences du CQP FAB-OPF sont déjà acquises"):
        services.create_file(first.candidate, company_user(first), cqp_code="FAB-OPF", competence_codes=[],
                             **FILE_FIELDS)


# ---------------------------------------------------------------- API


def test_api_refuses_acquired_competences_and_answers_them(app_ctx, secretariat, today_is, api_as):
    first = first_attempt(secretariat, today_is)
    today_is("2027-09-01")
    api = api_as(company_user(first))
    body = {"candidate_id": first.candidate_id, "cqp_code": "FAB-OPF", **FILE_FIELDS}
    refused = api.post("/files", json={**body, "competence_codes": ["C2", "C4", "C5"]})
    assert refused.status_code == 422, refused.get_json()
    problem = refused.get_json()
    assert "C2 (acquise au jury du 15/06/2027, jusqu'au 15/06/2032)" in problem["errors"]["competence_codes"][0]
    assert "C2" in problem["detail"]
    created = api.post("/files", json={**body, "competence_codes": ["C4", "C5", "C6", "C7"]})
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert [c["code"] for c in answer["competences"]] == ["C4", "C5", "C6", "C7"]
    assert answer["acquired_competences"] == [
        {"code": code, "jury_date": "2027-06-15", "valid_until": "2032-06-15"} for code in ("C1", "C2", "C3")]
    patched = api.patch(f"/files/{answer['id']}", json={"competence_codes": ["C3", "C4"]})
    assert patched.status_code == 422 and "C3 (acquise" in patched.get_json()["detail"]
    assert api.get(f"/files/{answer['id']}").get_json()["acquired_competences"][0]["code"] == "C1"


# ---------------------------------------------------------------- web pages


def test_the_form_shows_the_acquired_ones_and_offers_the_others(app_ctx, secretariat, today_is, login_as):
    first = first_attempt(secretariat, today_is)
    today_is("2027-09-01")
    client = login_as(company_user(first))
    page = client.get(f"/entreprise/dossiers/nouveau?candidate_id={first.candidate_id}&cqp_code=FAB-OPF")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Compétences déjà acquises" in html and "Compétences restant à évaluer" in html
    assert "acquise au jury du 15 juin 2027, jusqu'au 15 juin 2032" in html
    offered = [c for c in ("C1", "C2", "C3", "C4", "C5", "C6", "C7") if f'value="{c}"' in html]
    assert offered == ["C4", "C5", "C6", "C7"]


def test_the_form_refuses_an_acquired_competence_posted_anyway(app_ctx, secretariat, today_is, login_as):
    from tests.conftest import submit_form

    first = first_attempt(secretariat, today_is)
    today_is("2027-09-01")
    client = login_as(company_user(first))
    url = f"/entreprise/dossiers/nouveau?candidate_id={first.candidate_id}&cqp_code=FAB-OPF"
    response = submit_form(client, url, {"candidate_id": first.candidate_id, "cqp_code": "FAB-OPF",
                                         "competence_codes": ["C1", "C4"], **FILE_FIELDS})
    assert response.status_code == 422
    assert "La compétence C1 (acquise au jury du 15/06/2027, jusqu&#39;au 15/06/2032) est déjà acquise" in \
        response.get_data(as_text=True)


def test_the_candidate_page_shows_the_path(app_ctx, secretariat, today_is, login_as):
    first = first_attempt(secretariat, today_is)
    today_is("2027-11-02")
    second = next_file(first, ("C4", "C5", "C6", "C7"))
    user = company_user(first)
    client = login_as(user)
    html = client.get(f"/entreprise/candidats/{first.candidate_id}").get_data(as_text=True)
    assert "Parcours de certification" in html
    assert "Validé à ce jury : C1, C2, C3" in html
    assert "Compétences acquises reprises : C1, C2, C3" in html
    assert "15 juin 2032" in html and "Reste à valider : C4" in html
    to_jury(second, SECOND_JURY)
    today_is(SECOND_JURY)
    decide(second, secretariat, [True, False, True, True])
    db.session.commit()
    html = client.get(f"/entreprise/candidats/{first.candidate_id}").get_data(as_text=True)
    assert "Validé à ce jury : C4" not in html  # not published yet: the company does not see it (R10)
    from app.jury import decisions

    decisions.publish_session(second.jury_session, secretariat)
    db.session.commit()
    html = client.get(f"/entreprise/candidats/{first.candidate_id}").get_data(as_text=True)
    assert "Validé à ce jury : C4, C6, C7" in html
    assert "Reste à valider : C5" in html
