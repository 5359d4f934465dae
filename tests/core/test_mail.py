"""The outbox: emails queued in the transaction, delivered over real SMTP after the commit, retried with
backoff while SMTP is down (never lost), marked failed after OUTBOX_MAX_ATTEMPTS and listed for the
secretariat, who can send them again."""

from __future__ import annotations

import socket
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select, update

from app.core.clock import utcnow
from app.core.mail import queue_email, send_pending
from app.core.models import OutboxEmail
from app.extensions import db
from tests.conftest import submit_form
from tests.factories import make_user


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is: nothing listens there


@pytest.fixture
def smtp_down(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", _closed_port())


def _queue(to: str = "destinataire@exemple.fr") -> OutboxEmail:
    user = make_user("jury", email=to)
    email = queue_email("test", to, "Objet de test", "account_invitation", user=user, link="http://lien", days=7)
    db.session.commit()
    return email


def _make_due(email: OutboxEmail) -> None:
    """The backoff delay has passed."""
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id == email.id)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_queued_email_is_delivered_over_smtp(app_ctx, mailbox):
    email = _queue()
    assert send_pending() == {"sent": 1, "retry": 0, "failed": 0}
    message = mailbox.last_to("destinataire@exemple.fr")
    assert message["Subject"] == "Objet de test"
    assert "http://lien" in mailbox.text_of(message)
    assert message.get_body(preferencelist=("html",)) is not None
    db.session.refresh(email)
    assert (email.status, email.attempts, email.last_error) == ("sent", 1, None)
    assert email.sent_at is not None


def test_an_email_is_sent_once(app_ctx, mailbox):
    _queue()
    send_pending()
    assert send_pending() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(mailbox.to("destinataire@exemple.fr")) == 1


def test_smtp_down_keeps_the_email_pending_with_a_backoff(app, app_ctx, mailbox, smtp_down):
    email = _queue()
    before = utcnow()
    assert send_pending() == {"sent": 0, "retry": 1, "failed": 0}
    db.session.refresh(email)
    assert email.status == "pending" and email.attempts == 1
    assert email.last_error
    backoff = app.config["OUTBOX_BACKOFF_SECONDS"]
    assert email.next_attempt_at >= before + timedelta(seconds=backoff)
    # Not due yet: a second run does not hammer the server.
    assert send_pending() == {"sent": 0, "retry": 0, "failed": 0}


def test_backoff_doubles_at_each_failure(app, app_ctx, smtp_down):
    email = _queue()
    backoff = app.config["OUTBOX_BACKOFF_SECONDS"]
    delays = []
    for _ in range(3):
        start = utcnow()
        send_pending()
        db.session.refresh(email)
        delays.append((email.next_attempt_at - start).total_seconds())
        _make_due(email)
    assert [round(d / backoff) for d in delays] == [1, 2, 4]


def test_email_is_sent_once_smtp_is_back(app, app_ctx, mailbox, monkeypatch):
    real_port = app.config["MAIL_PORT"]
    monkeypatch.setitem(app.config, "MAIL_PORT", _closed_port())
    email = _queue()
    send_pending()
    assert mailbox.to("destinataire@exemple.fr") == []
    monkeypatch.setitem(app.config, "MAIL_PORT", real_port)
    _make_due(email)
    assert send_pending()["sent"] == 1
    db.session.refresh(email)
    assert email.status == "sent" and email.attempts == 2
    assert len(mailbox.to("destinataire@exemple.fr")) == 1


def test_after_max_attempts_the_email_is_failed(app, app_ctx, smtp_down):
    email = _queue()
    for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"] - 1):
        assert send_pending()["retry"] == 1
        _make_due(email)
    assert send_pending() == {"sent": 0, "retry": 0, "failed": 1}
    db.session.refresh(email)
    assert email.status == "failed" and email.attempts == app.config["OUTBOX_MAX_ATTEMPTS"]
    _make_due(email)
    assert send_pending() == {"sent": 0, "retry": 0, "failed": 0}  # failed emails are left alone


def test_a_request_that_fails_queues_no_email(app_ctx, client, mailbox):
    """The outbox is in the request's transaction: a refused form rolls its emails back."""
    make_user("secretariat", email="secretariat@exemple.fr")
    response = submit_form(client, "/demande-de-compte", {
        "siret": "12345678901234", "establishment_name": "Chimie", "address": "1 rue", "postcode": "69007",
        "city": "Lyon", "contact_first_name": "A", "contact_last_name": "B", "email": "a@exemple.fr",
        "phone": "0102030405"})
    assert response.status_code == 422
    assert db.session.scalar(select(db.func.count(OutboxEmail.id))) == 0
    assert mailbox.messages == []


# ---------------------------------------------------------------- the secretariat's page


def _failed_email(app, to="perdu@exemple.fr") -> OutboxEmail:
    email = _queue(to)
    email.status, email.attempts, email.last_error = "failed", app.config["OUTBOX_MAX_ATTEMPTS"], "SMTP refusé"
    db.session.commit()
    return email


def test_failed_emails_are_listed_for_the_secretariat(app, app_ctx, client, login_as, smtp_down):
    email = _queue("perdu@exemple.fr")
    for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"]):
        send_pending()
        _make_due(email)
    sent = _queue("arrive@exemple.fr")
    sent.status = "sent"
    db.session.commit()
    login_as(make_user("secretariat"))
    page = client.get("/secretariat/emails-en-echec")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "perdu@exemple.fr" in html and "Objet de test" in html
    assert "arrive@exemple.fr" not in html


def test_resend_puts_a_failed_email_back_to_pending_and_sends_it(app, app_ctx, client, login_as, mailbox):
    email = _failed_email(app)
    login_as(make_user("secretariat"))
    response = submit_form(client, f"/secretariat/emails-en-echec/{email.id}/renvoyer", {},
                           form_url="/secretariat/emails-en-echec")
    assert response.status_code == 302
    db.session.refresh(email)
    # Dispatched after the commit: SMTP is up, so it is sent at once, with a fresh set of attempts.
    assert email.status == "sent" and email.attempts == 1
    assert len(mailbox.to("perdu@exemple.fr")) == 1


def test_resend_while_smtp_is_down_leaves_it_pending(app, app_ctx, client, login_as, smtp_down):
    email = _failed_email(app)
    login_as(make_user("secretariat"))
    submit_form(client, f"/secretariat/emails-en-echec/{email.id}/renvoyer", {},
                form_url="/secretariat/emails-en-echec")
    db.session.refresh(email)
    assert email.status == "pending" and email.attempts == 1


def test_resend_of_an_email_that_is_not_failed_is_409(app, app_ctx, client, login_as):
    email = _queue()
    email.status = "sent"
    db.session.commit()
    login_as(make_user("secretariat"))
    response = submit_form(client, f"/secretariat/emails-en-echec/{email.id}/renvoyer", {},
                           form_url="/secretariat/emails-en-echec")
    assert response.status_code == 409
    assert "n'est plus en échec" in unescape(response.get_data(as_text=True))
    db.session.refresh(email)
    assert email.status == "sent"


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "jury", "partenaire", "candidat"])
def test_failed_emails_page_is_secretariat_only(app_ctx, client, login_as, role):
    login_as(make_user(role))
    assert client.get("/secretariat/emails-en-echec").status_code == 403


def test_dev_mailbox_is_hidden_when_a_real_smtp_server_is_configured(app, app_ctx, client, login_as, monkeypatch):
    login_as(make_user("secretariat"))
    assert client.get("/boite-mail").status_code == 404
    # Even with the mailbox left on, a configured MAIL_SERVER turns it off.
    monkeypatch.setitem(app.config, "MAIL_DEV_MAILBOX", True)
    monkeypatch.setitem(app.config, "MAIL_SERVER_CONFIGURED", True)
    assert client.get("/boite-mail").status_code == 404


@pytest.mark.parametrize("role", [None, "entreprise", "evaluateur", "jury", "partenaire", "candidat"])
def test_dev_mailbox_needs_a_logged_in_secretariat_user(app, app_ctx, client, login_as, monkeypatch, role):
    monkeypatch.setitem(app.config, "MAIL_DEV_MAILBOX", True)
    email = _queue()
    send_pending()
    if role is not None:
        login_as(make_user(role))
    for url in ("/boite-mail", f"/boite-mail/{email.id}"):
        answer = client.get(url)
        assert answer.status_code == (302 if role is None else 403), url
        assert "Objet de test" not in answer.get_data(as_text=True)


def test_one_time_links_are_redacted_from_the_outbox_once_sent(app_ctx, mailbox):
    user = make_user("jury", email="lien@exemple.fr")
    token = "Ab3_" + "x" * 40
    email = queue_email("test", user.email, "Objet", "password_reset", user=user,
                        link=f"http://127.0.0.1:5000/mot-de-passe/{token}", days=1)
    db.session.commit()
    assert token in email.body_text  # kept until sent (retries need it)
    assert send_pending()["sent"] == 1
    assert token in mailbox.text_of(mailbox.last_to("lien@exemple.fr"))  # the person got the link
    db.session.refresh(email)
    assert token not in email.body_text and token not in (email.body_html or "")
    assert "/mot-de-passe/[lien-retire-apres-envoi]" in email.body_text


def test_dev_mailbox_lists_emails_without_smtp(app, app_ctx, client, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DEV_MAILBOX", True)
    email = _queue()
    assert send_pending()["sent"] == 1  # delivery is the mailbox page itself
    login_as(make_user("secretariat"))
    page = client.get("/boite-mail")
    assert page.status_code == 200 and "Objet de test" in page.get_data(as_text=True)
    detail = client.get(f"/boite-mail/{email.id}")
    assert detail.status_code == 200 and '<a href="http://lien"' in detail.get_data(as_text=True)
