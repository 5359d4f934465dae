"""The partners' read API (app.stats.partners): the traceability parameters, what a partner sees of a
file (published decisions only, whoever calls), and the access log, refused calls included."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.accounts.models import Establishment, PartnerAccessLog, Role
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.jury.models import Decision, DecisionResult
from app.stats import partners
from tests.factories import (
    make_establishment,
    make_file,
    make_parchment,
    make_session,
    make_user,
    valid_siret,
)

TRACE = {"context": "Financement CQP 2027", "recipient": "73282932000074", "object": "Dossier 4521"}


def decide(file, validated: list[bool]) -> Decision:
    competences = list(file.competences)
    decision = Decision(file_id=file.id, session_id=file.jury_session_id, status=file.status)
    decision.results = [DecisionResult(competence=c, validated=v) for c, v in zip(competences, validated, strict=True)]
    db.session.add(decision)
    db.session.commit()
    return decision


@pytest.fixture
def establishment(app_ctx):
    establishment = make_establishment("Chimie Partenaire")
    published = make_session(on=date(2026, 1, 10), published_at=datetime(2026, 1, 11))
    unpublished = make_session(on=date(2026, 2, 10))
    shown = make_file("partiel", establishment=establishment, session=published)
    decide(shown, [True, False, True])
    make_parchment(shown)
    hidden = make_file("valide", establishment=establishment, session=unpublished)
    decide(hidden, [True, True, True])
    return establishment, shown, hidden


@pytest.mark.parametrize(("params", "siret", "fields"), [
    ({}, None, ["context", "recipient", "object"]),
    ({**TRACE, "recipient": "123"}, None, ["recipient"]),
    (TRACE, "12345678901234", ["siret"]),
])
def test_trace_parameters_and_siret_are_checked(params, siret, fields):
    with pytest.raises(ValidationFailed) as error:
        partners.check_trace_parameters(siret or valid_siret(5), params)
    assert sorted(error.value.errors) == sorted(fields)


def test_a_partner_sees_published_decisions_only(establishment):
    establishment, shown, hidden = establishment
    answer = partners.establishment_certifications(establishment.siret, TRACE, make_user(Role.PARTENAIRE), "10.0.0.1")
    assert [f.id for f in answer.files] == [shown.id, hidden.id]
    assert (answer.context, answer.recipient, answer.object) == (TRACE["context"], TRACE["recipient"], TRACE["object"])
    assert partners.shown_status(shown) == "partiel" and partners.shown_decision(shown) is shown.decision
    assert partners.validated_codes(shown.decision) == ["C1", "C3"]
    # not published: in « Inscription au jury », no decision, even when the secretariat calls
    assert partners.shown_status(hidden) == "inscription_jury" and partners.shown_decision(hidden) is None
    assert partners.shown_status_label(hidden) == "Inscription au jury"


def test_an_answered_call_is_logged_in_the_request_transaction(establishment):
    partner = make_user(Role.PARTENAIRE)
    partners.establishment_certifications(establishment[0].siret, TRACE, partner, "10.0.0.1")
    db.session.rollback()  # the request failed later: its log line goes with it
    assert db.session.scalar(select(PartnerAccessLog.id)) is None


def test_an_unknown_establishment_is_not_found(app_ctx):
    with pytest.raises(NotFound):
        partners.establishment_certifications(valid_siret(6), TRACE, make_user(Role.PARTENAIRE), None)


def test_a_refused_call_is_logged_in_a_transaction_of_its_own(app_ctx):
    partner = make_user(Role.PARTENAIRE)
    partners.log_refused_call(partners.RefusedCall(partner.id, "x" * 20, {**TRACE, "object": "o" * 300}, 422,
                                                   "10.0.0.2"))
    db.session.rollback()  # the request's own transaction: the line is not in it
    row = db.session.scalars(select(PartnerAccessLog)).one()
    assert (row.user_id, row.siret, row.status_code, row.ip, len(row.object)) == (partner.id, "x" * 14, 422,
                                                                                  "10.0.0.2", 255)


@pytest.mark.postgres_only
def test_the_refused_call_line_does_not_wait_for_the_request_on_postgresql(app_ctx):
    """With the request's write pending (PostgreSQL: row locks only), the line is written beside it; on
    SQLite the request's write lock would make it wait, hence the API writes it after the rollback."""
    partner = make_user(Role.PARTENAIRE)
    db.session.add(Establishment(siret=valid_siret(7), name="Écrit par la requête"))
    db.session.flush()
    partners.log_refused_call(partners.RefusedCall(partner.id, valid_siret(8), TRACE, 404, None))
    db.session.rollback()
    assert db.session.scalar(select(PartnerAccessLog.status_code)) == 404
    assert db.session.scalar(select(Establishment.id).where(Establishment.siret == valid_siret(7))) is None
