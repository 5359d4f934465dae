"""Outbox: emails are written in the same transaction as the change that causes them, then sent
after the commit (app/worker.py: by the RQ worker with REDIS_URL, else by a background thread of the
process, never inside the request) or by `flask outbox send`. An email is marked sent only once an
SMTP server accepted it (the development mailbox, refused in production, aside).
SMTP failures are retried with exponential backoff; after OUTBOX_MAX_ATTEMPTS the email is marked
failed and shown to the secretariat. Without MAIL_SERVER (development), delivery means the local
mailbox page (/boite-mail)."""

from __future__ import annotations

import logging
import re
import smtplib
from datetime import timedelta
from email import charset

from flask import current_app, render_template
from flask_mail import Connection, Message
from sqlalchemy import select, update

from app.core import audit
from app.core.clock import utcnow
from app.core.errors import Conflict
from app.core.models import OutboxEmail
from app.extensions import db, mail

# flask-mail registers UTF-8 bodies as 8bit, unwrapped: a user's 5,000-character comment quoted in an email is
# a line SMTP refuses (RFC 5321: 998 characters at most) and the email never leaves. Quoted-printable wraps
# long lines losslessly (soft line breaks) and keeps short French text readable.
charset.add_charset("utf-8", charset.SHORTEST, charset.QP, "utf-8")

log = logging.getLogger(__name__)
QUEUED_FLAG = "outbox_queued"
# The one-time links emails carry (password, candidate and job-assessor invitations): once the SMTP server has
# the email, the outbox keeps no usable copy of them.
ONE_TIME_LINK = re.compile(r"(/(?:mot-de-passe|invitations|invitation-candidat)/)[A-Za-z0-9_\-]{16,}")
REDACTED = "[lien-retire-apres-envoi]"


def redact_links(text: str | None) -> str | None:
    return ONE_TIME_LINK.sub(lambda m: m.group(1) + REDACTED, text) if text else text


def queue_email(kind: str, recipients: list[str] | str, subject: str, template: str, *, file=None, **context) -> OutboxEmail | None:
    """Renders templates/emails/<template>.txt and .html and adds them to the outbox (no commit)."""
    if isinstance(recipients, str):
        recipients = [recipients]
    unique = sorted({r.strip().lower() for r in recipients if r and r.strip()})
    if not unique:
        return None
    context.setdefault("base_url", current_app.config["BASE_URL"])
    context.setdefault("subject", subject)
    email = OutboxEmail(
        kind=kind,
        recipients=",".join(unique),
        subject=subject,
        body_text=render_template(f"emails/{template}.txt", **context),
        body_html=render_template(f"emails/{template}.html", **context),
        file_id=getattr(file, "id", None),
        next_attempt_at=utcnow(),
    )
    db.session.add(email)
    db.session.info[QUEUED_FLAG] = True
    return email


class _SmtpConnection(Connection):
    """flask-mail's connection, with a timeout so that a silent SMTP server cannot hang a sender."""

    def configure_host(self) -> smtplib.SMTP:
        timeout = current_app.config.get("MAIL_TIMEOUT", 15)
        smtp_class = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp_class(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


def _smtp_settings():
    """The SMTP settings as the config says now (flask-mail freezes them at init_app, and silently
    suppresses sending whenever TESTING is on: our tests deliver to a real loopback server)."""
    config = current_app.config
    return mail.init_mail({**config, "MAIL_SUPPRESS_SEND": config.get("MAIL_SUPPRESS_SEND", False)})


class NotDelivered(RuntimeError):
    """No SMTP server accepted the email: it stays pending (retried), never marked sent."""


def _deliver(email: OutboxEmail) -> None:
    """Hands the email to the SMTP server; returns only once the server accepted it (else raises)."""
    if current_app.config.get("MAIL_DEV_MAILBOX"):
        if current_app.config.get("APP_ENV") == "production":
            raise NotDelivered("boîte mail de développement refusée en production : MAIL_SERVER requis")
        return  # development: kept in the outbox table, listed by the development mailbox page
    message = Message(
        subject=email.subject,
        recipients=email.recipient_list,
        body=email.body_text,
        html=email.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )
    settings = _smtp_settings()
    if settings.suppress:  # flask-mail would skip the SMTP server and report nothing
        raise NotDelivered("MAIL_SUPPRESS_SEND est actif : aucun serveur SMTP n'a reçu l'email")
    with _SmtpConnection(settings) as connection:
        if connection.host is None:
            raise NotDelivered("aucune connexion SMTP")
        message.send(connection)


def send_pending(limit: int | None = None) -> dict[str, int]:
    """Sends what is due; each email is committed on its own so that one failure loses nothing."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    backoff = current_app.config["OUTBOX_BACKOFF_SECONDS"]
    query = (
        select(OutboxEmail.id)
        .where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= utcnow())
        .order_by(OutboxEmail.id)
    )
    if limit:
        query = query.limit(limit)
    ids = db.session.scalars(query).all()
    for email_id in ids:
        # Claim the row so that two senders (worker + cron) never send it twice.
        email = db.session.execute(
            select(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.status == "pending")
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if email is None:
            db.session.rollback()
            continue
        try:
            _deliver(email)
        except Exception as exc:  # SMTP errors of every kind: retried later, never lost
            email.attempts += 1
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if email.attempts >= max_attempts:
                email.status = "failed"
                counts["failed"] += 1
            else:
                email.next_attempt_at = utcnow() + timedelta(seconds=backoff * 2 ** (email.attempts - 1))
                counts["retry"] += 1
            log.warning("Envoi de l'email %s échoué (%s)", email.id, email.last_error)
        else:
            email.attempts += 1
            email.status = "sent"
            email.sent_at = utcnow()
            email.last_error = None
            if not current_app.config.get("MAIL_DEV_MAILBOX"):  # the development mailbox IS the delivery
                email.body_text, email.body_html = redact_links(email.body_text), redact_links(email.body_html)
            counts["sent"] += 1
        db.session.commit()
    return counts


def pending_count() -> int:
    return db.session.query(OutboxEmail).filter(OutboxEmail.status == "pending").count()


def failed_emails() -> list[OutboxEmail]:
    return list(db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.status == "failed").order_by(OutboxEmail.id.desc())))


def requeue_failed(email: OutboxEmail, actor=None) -> OutboxEmail:
    """The secretariat's « renvoyer »: back to pending with a fresh set of attempts, sent after the commit."""
    requeued = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email.id, OutboxEmail.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if requeued.rowcount != 1:
        raise Conflict("Cet email n'est plus en échec : il a déjà été remis en file d'envoi.")
    db.session.refresh(email)
    db.session.info[QUEUED_FLAG] = True
    audit.record("outbox.requeue", actor, email, recipients=email.recipients)
    return email
