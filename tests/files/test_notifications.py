"""Emails of the files area (app/files/notifications.py), queued in the outbox in the transaction of
the change: who the company's emails go to, and what each email links to."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Role
from app.core.models import OutboxEmail
from app.extensions import db
from app.files import notifications
from app.files.models import FileStatus
from tests import factories


def test_the_company_is_its_active_users_and_its_contact_email(app_ctx):
    establishment = factories.make_establishment(contact_email="contact@chimie-notif.fr")
    first = factories.make_user(Role.ENTREPRISE, establishment=establishment)
    second = factories.make_user(Role.ENTREPRISE, establishment=establishment)
    gone = factories.make_user(Role.ENTREPRISE, establishment=establishment)
    gone.active = False
    factories.make_user(Role.ENTREPRISE)  # another establishment
    file = factories.make_file(establishment=establishment)
    db.session.commit()
    assert sorted(notifications.company_recipients(file)) == sorted([first.email, second.email,
                                                                     "contact@chimie-notif.fr"])
    establishment.contact_email = None
    assert sorted(notifications.company_recipients(file)) == sorted([first.email, second.email])


def test_each_email_links_to_its_page(app_ctx):
    establishment = factories.make_establishment(contact_email="contact@chimie-notif.fr")
    file = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION, establishment=establishment)
    notifications.assessor_confirmed(file, "confirm_assessor", "en_cours_inscription", None, {})
    notifications.comments_in(file)
    invitation = factories.make_invitation(file)
    notifications.job_assessor_invited(invitation, "jeton-de-test")
    db.session.flush()
    sent = {e.kind: e for e in db.session.scalars(select(OutboxEmail))}
    assert sent["assessor_confirmed"].recipients == file.assessor.user.email
    assert f"http://certifia.test/dossiers/{file.id}" in sent["assessor_confirmed"].body_text
    assert sent["evaluators_comments_in"].recipients == "contact@chimie-notif.fr"
    assert f"http://certifia.test/dossiers/{file.id}" in sent["evaluators_comments_in"].body_text
    assert sent["job_assessor_invitation"].recipients == "metier@exemple.fr"
    assert "http://certifia.test/invitations/jeton-de-test" in sent["job_assessor_invitation"].body_text
    assert file.candidate.full_name in sent["job_assessor_invitation"].subject
    db.session.rollback()
