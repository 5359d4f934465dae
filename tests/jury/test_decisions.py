"""R9: a decision per competence, on or after the jury date; the status follows the results;
corrections until publication, rectifications (with a reason, history kept) after.
R10: decisions are visible to companies only once the session is published; each company gets its
results by email. The session's decision sheet loads in the same statements whatever its size."""

from __future__ import annotations

from datetime import date

import pytest

from app.api.files import file_json
from app.core.errors import Conflict, RuleViolation
from app.files.models import FileStatus
from app.jury import decisions
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import add_session_files, count_statements, decide, make_file

JURY_DAY = date(2027, 6, 15)


@pytest.fixture
def registered(secretariat, today_is):
    today_is("2027-05-01")
    jury_session = make_session(on=JURY_DAY)
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    today_is(JURY_DAY)
    return file, jury_session


@pytest.mark.parametrize(("validated", "status", "kind"), [
    ([True, True, True], "valide", "parchemin"),
    ([True, False, True], "partiel", "attestation"),
    ([False, False, True], "partiel", "attestation"),
    ([False, False, False], "non_valide", None),
])
def test_status_follows_the_competences(registered, secretariat, validated, status, kind):
    file, _ = registered
    decision = decide(file, secretariat, validated)
    assert file.status == decision.status == status
    assert [r.validated for r in sorted(decision.results, key=lambda r: r.competence.position)] == validated
    parchment = file.parchment
    assert (parchment.kind if parchment else None) == kind
    assert file.history[-1].event == "record_decision"
    assert decision.validated_competences == [c for c, v in zip(file.competences, validated, strict=True) if v]


def test_no_decision_before_the_jury_date(registered, secretariat, today_is):
    file, _ = registered
    today_is("2027-06-14")
    with pytest.raises(RuleViolation) as refused:
        decide(file, secretariat, True)
    assert "15/06/2027" in refused.value.message
    assert file.status == "inscription_jury" and file.decision is None


def test_every_competence_of_the_file_must_be_decided(registered, secretariat):
    file, _ = registered
    partial = {file.competences[0].id: True}
    with pytest.raises(RuleViolation) as refused:
        decisions.record_decision(file, secretariat, partial)
    assert file.competences[1].code in refused.value.message


def test_a_competence_that_is_not_the_files_is_refused(registered):
    file, _ = registered
    other = [c for c in file.cqp.competences if c not in file.competences][0]
    with pytest.raises(RuleViolation) as refused:
        decisions.results_from_codes(file, [{"competence_code": other.code, "validated": True}])
    assert other.code in refused.value.message and "results" in refused.value.errors


def test_results_from_codes_maps_each_code_of_the_file(registered):
    file, _ = registered
    c1, c2, _ = file.competences
    results = decisions.results_from_codes(file, [{"competence_code": c1.code, "validated": True},
                                                  {"competence_code": c2.code, "validated": False}])
    assert results == {c1.id: True, c2.id: False}


def test_correction_before_publication_replaces_the_decision(registered, secretariat):
    file, _ = registered
    decide(file, secretariat, True)
    number = file.parchment.number
    decide(file, secretariat, [True, False, False], comment="Erreur de saisie corrigée")
    decision = file.decision
    assert file.status == decision.status == "partiel" and decision.rectifications == []
    assert file.history[-1].event == "correct_decision"
    assert file.parchment.number == number and file.parchment.kind == "attestation"


def test_after_publication_only_a_rectification_with_a_reason(registered, secretariat):
    file, jury_session = registered
    decide(file, secretariat, [True, False, True])
    decisions.publish_session(jury_session, secretariat)
    with pytest.raises(RuleViolation) as refused:
        decide(file, secretariat, True)
    assert "motif" in refused.value.message.lower()
    decide(file, secretariat, True, reason="Pièce retrouvée après le jury")
    decision = file.decision
    assert file.status == "valide" and file.history[-1].event == "rectify_decision"
    [rectification] = decision.rectifications
    assert rectification.previous_status == "partiel" and rectification.new_status == "valide"
    assert rectification.reason == "Pièce retrouvée après le jury"
    assert [r["validated"] for r in rectification.previous_results] == [True, False, True]


def test_decision_on_a_file_not_registered_is_refused(secretariat):
    file = make_file(FileStatus.VALIDATION_EVALUATION)
    with pytest.raises(Conflict):
        decide(file, secretariat, True)


# ---------------------------------------------------------------- the session's decisions


def test_the_summary_counts_each_decision_and_leaves_out_the_withdrawn(registered, secretariat):
    file, jury_session = registered
    others = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(3)]
    decide(file, secretariat, True)
    decide(others[0], secretariat, False)
    others[2].status = FileStatus.ABANDONNE.value
    summary = decisions.decision_summary([file, *others])
    assert (summary.total, summary.decided, summary.undecided) == (3, 2, [others[1]])
    assert summary.counts == {"valide": 1, "partiel": 0, "non_valide": 1}


def test_the_files_to_decide_come_in_the_same_statements_for_3_and_300(app_ctx, today_is):
    from app.extensions import db

    today_is(JURY_DAY)

    def statements_for(jury_session) -> int:
        db.session.expire_all()
        with count_statements() as statements:
            for f in decisions.files_to_decide(jury_session):
                _ = (f.candidate.full_name, f.establishment.name, f.cqp.code, [c.title for c in f.competences],
                     f.decision and f.decision.results)
        return len(statements)

    small, large = make_session(on=JURY_DAY), make_session(on=date(2027, 6, 16))
    add_session_files(small, 3)
    add_session_files(large, 300)
    assert len(decisions.files_to_decide(large)) == 300
    assert statements_for(small) == statements_for(large) <= 8


# ---------------------------------------------------------------- publication (R10)


@pytest.fixture
def decided(secretariat, today_is):
    today_is("2027-05-01")
    jury_session = make_session(on=JURY_DAY)
    establishment = make_establishment(contact_email="rh@chimie.fr")
    company = make_user("entreprise", establishment=establishment)
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, establishment=establishment)
    today_is(JURY_DAY)
    decide(file, secretariat, [True, True, False])
    return file, jury_session, company


def test_company_sees_no_decision_before_publication(decided, secretariat):
    file, _, company = decided
    assert file.visible_status_for(company) == "inscription_jury"
    assert file_json(file, company)["decision"] is None
    assert file.visible_status_for(secretariat) == "partiel"


def test_company_sees_the_decision_once_published(decided, secretariat):
    file, jury_session, company = decided
    decisions.publish_session(jury_session, secretariat)
    assert file.visible_status_for(company) == "partiel"
    payload = file_json(file, company)["decision"]
    assert payload["status"] == "partiel"
    assert payload["parchment_number"] == file.parchment.number
    assert [r["validated"] for r in payload["results"]] == [True, True, False]


def test_publication_emails_each_company_its_results(decided, secretariat, mailbox, client):
    from app.core.mail import send_pending
    from app.extensions import db

    file, jury_session, company = decided
    decisions.publish_session(jury_session, secretariat)
    db.session.commit()
    send_pending()
    for address in (company.email, "rh@chimie.fr"):
        text = mailbox.text_of(mailbox.last_to(address))
        assert file.candidate.full_name in text and "Partiel" in text
        assert f"http://certifia.test/dossiers/{file.id}/parchemin.pdf" in text


def test_publication_waits_for_every_decision(secretariat, today_is):
    today_is("2027-05-01")
    jury_session = make_session(on=JURY_DAY)
    make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    today_is(JURY_DAY)
    with pytest.raises(Conflict) as refused:
        decisions.publish_session(jury_session, secretariat)
    assert "1 dossier de la session n'a pas" in refused.value.message and jury_session.published_at is None


def test_no_publication_before_the_jury_date(secretariat, today_is):
    today_is("2027-05-01")
    jury_session = make_session(on=JURY_DAY)
    with pytest.raises(RuleViolation):
        decisions.publish_session(jury_session, secretariat)


def test_publishing_twice_is_a_conflict(decided, secretariat):
    _, jury_session, _ = decided
    decisions.publish_session(jury_session, secretariat)
    with pytest.raises(Conflict):
        decisions.publish_session(jury_session, secretariat)


def test_a_cancelled_session_is_not_published(secretariat, today_is):
    from datetime import datetime

    jury_session = make_session(on=JURY_DAY, cancelled_at=datetime(2027, 6, 1))
    today_is(JURY_DAY)
    with pytest.raises(Conflict) as refused:
        decisions.publish_session(jury_session, secretariat)
    assert "annulée" in refused.value.message


# ---------------------------------------------------------------- an empty decision is never « Non validé »


@pytest.mark.parametrize("given", [0, 2])
def test_the_api_refuses_a_decision_that_leaves_out_a_competence(registered, secretariat, api_as, given):
    file, _ = registered
    body = {"results": [{"competence_code": c.code, "validated": False} for c in file.competences[:given]]}
    response = api_as(secretariat).post(f"/files/{file.id}/decision", json=body)
    assert response.status_code == 422
    missing = [c.code for c in file.competences[given:]]
    assert all(f"results.{code}" in response.json["errors"] for code in missing)
    assert all(code in response.json["detail"] for code in missing)
    from app.extensions import db

    db.session.refresh(file)
    assert file.status == "inscription_jury" and file.decision is None


def test_decide_as_evaluated_takes_the_assessors_results(registered, secretariat):
    file, _ = registered
    file.evaluation.results[1].acquired = False
    [outcome] = decisions.decide_as_evaluated([file], secretariat)
    assert outcome.error is None and file.status == "partiel"
    assert {r.competence_id: r.validated for r in file.decision.results} == \
        {r.competence_id: r.acquired for r in file.evaluation.results}


def test_a_refused_file_of_a_bulk_save_leaves_nothing_written_and_the_others_saved(registered, secretariat):
    file, jury_session = registered
    other = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    all_valid = {c.id: True for c in other.competences}
    outcomes = decisions.record_decisions([(file, {}, "rien", None), (other, all_valid, None, None)], secretariat)
    assert outcomes[0].error is not None and outcomes[1].error is None
    assert file.status == "inscription_jury" and file.decision is None and other.status == "valide"


def test_the_api_decides_files_as_evaluated(registered, secretariat, api_as):
    file, jury_session = registered
    other = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    stranger = make_file(FileStatus.INSCRIPTION_JURY)
    decide(other, secretariat, True)
    from app.extensions import db

    db.session.commit()
    api = api_as(secretariat)
    url = f"/jury-sessions/{jury_session.id}/decisions/as-evaluated"
    response = api.post(url, json={"file_ids": [file.id, other.id, stranger.id]})
    assert response.status_code == 200, response.json
    assert response.json["decided"] == [{"file_id": file.id, "status": "valide"}]
    assert {r["file_id"]: r["status"] for r in response.json["refused"]} == {stranger.id: 404, other.id: 409}
    again = api.post(url, json={"file_ids": [file.id]})
    assert again.status_code == 409 and f"file_ids.{file.id}" in again.json["errors"]
    assert api.post(url, json={"file_ids": ["x"]}).status_code == 422
