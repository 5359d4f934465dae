"""R10: decisions are visible to companies only once the session is published; each company gets
its results by email; sessions unpublished 48 hours after their date are late."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.api.files import decision_payload
from app.core.errors import Conflict, RuleViolation
from app.files.models import FileStatus
from app.jury import services
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import decide, make_file

JURY_DAY = date(2027, 6, 15)


@pytest.fixture
def decided(secretariat, today_is):
    today_is("2027-05-01")
    session = make_session(on=JURY_DAY)
    establishment = make_establishment(contact_email="rh@chimie.fr")
    company = make_user("entreprise", establishment=establishment)
    file = make_file(FileStatus.INSCRIPTION_JURY, session=session, establishment=establishment)
    today_is(JURY_DAY)
    decide(file, secretariat, [True, True, False])
    return file, session, company


def test_company_sees_no_decision_before_publication(decided, secretariat):
    file, _, company = decided
    assert file.visible_status_for(company) == "inscription_jury"
    assert decision_payload(file, company) is None
    assert file.visible_status_for(secretariat) == "partiel"


def test_company_sees_the_decision_once_published(decided, secretariat):
    file, session, company = decided
    services.publish_session(session, secretariat)
    assert file.visible_status_for(company) == "partiel"
    payload = decision_payload(file, company)
    assert payload["status"] == "partiel"
    assert payload["parchment_number"] == file.parchment.number
    assert [r["validated"] for r in payload["results"]] == [True, True, False]


def test_publication_emails_each_company_its_results(decided, secretariat, mailbox, client):
    from app.core.mail import send_pending
    from app.extensions import db

    file, session, company = decided
    services.publish_session(session, secretariat)
    db.session.commit()
    send_pending()
    for address in (company.email, "rh@chimie.fr"):
        text = mailbox.text_of(mailbox.last_to(address))
        assert file.candidate.full_name in text and "Partiel" in text
        assert f"http://certifia.test/dossiers/{file.id}/parchemin.pdf" in text


def test_publication_waits_for_every_decision(secretariat, today_is):
    today_is("2027-05-01")
    session = make_session(on=JURY_DAY)
    make_file(FileStatus.INSCRIPTION_JURY, session=session)
    today_is(JURY_DAY)
    with pytest.raises(Conflict) as refused:
        services.publish_session(session, secretariat)
    assert "1 dossier(s)" in refused.value.message and session.published_at is None


def test_no_publication_before_the_jury_date(secretariat, today_is):
    today_is("2027-05-01")
    session = make_session(on=JURY_DAY)
    with pytest.raises(RuleViolation):
        services.publish_session(session, secretariat)


def test_publishing_twice_is_a_conflict(decided, secretariat):
    _, session, _ = decided
    services.publish_session(session, secretariat)
    with pytest.raises(Conflict):
        services.publish_session(session, secretariat)


@pytest.mark.parametrize(("at", "late"), [
    (datetime(2027, 6, 16, 23, 59), False),
    (datetime(2027, 6, 17, 0, 1), True),
])
def test_sessions_unpublished_48_hours_after_their_date_are_late(app_ctx, at, late):
    session = make_session(on=JURY_DAY)
    assert (session in services.late_sessions(at)) is late


def test_published_or_cancelled_sessions_are_never_late(app_ctx):
    published = make_session(on=JURY_DAY, published_at=datetime(2027, 6, 16))
    cancelled = make_session(on=JURY_DAY, cancelled_at=datetime(2027, 6, 1))
    late = services.late_sessions(datetime(2027, 7, 1))
    assert published not in late and cancelled not in late
