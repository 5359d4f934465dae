"""Home page per role, the development mailbox, and the secretariat's list of emails that failed."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.core import mail
from app.core.errors import DomainError
from app.core.models import OutboxEmail
from app.core.permissions import login_required, public, roles_required
from app.extensions import db

bp = Blueprint("core", __name__)

HOME_ENDPOINTS = {
    "entreprise": "stats.company_home",
    "candidat": "stats.candidate_home",
    "evaluateur": "stats.assessor_home",
    "jury": "stats.jury_home",
    "secretariat": "stats.secretariat_home",
    "partenaire": "stats.partner_home",
}


@bp.route("/accueil")
@login_required
def home():
    endpoint = HOME_ENDPOINTS.get(current_user.role)
    if endpoint is None:
        abort(403)
    return redirect(url_for(endpoint))


def _dev_mailbox_only() -> None:
    """The development mailbox shows one-time links: only to a logged-in secretariat user (roles_required), and
    not at all once an SMTP server is configured or in production."""
    config = current_app.config
    if not config.get("MAIL_DEV_MAILBOX") or config.get("MAIL_SERVER_CONFIGURED") or config["APP_ENV"] == "production":
        abort(404)


@bp.route("/boite-mail")
@roles_required("secretariat")
def mailbox():
    """Development only: the emails the platform sent, since there is no SMTP server."""
    _dev_mailbox_only()
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(200)).all()
    return render_template("core/mailbox.html", emails=emails)


@bp.route("/boite-mail/<int:email_id>")
@roles_required("secretariat")
def mailbox_email(email_id: int):
    _dev_mailbox_only()
    email = db.get_or_404(OutboxEmail, email_id)
    return render_template("core/mailbox_email.html", email=email)


@bp.route("/donnees-personnelles")
@public
def personal_data():
    """« Données personnelles »: purposes, retention durations (from the configuration) and rights."""
    from app.core.retention import policy

    return render_template("core/personal_data.html", policy=policy())


@bp.route("/secretariat/emails-en-echec")
@roles_required("secretariat")
def failed_emails():
    return render_template("core/failed_emails.html", emails=mail.failed_emails(), form=FlaskForm())


@bp.route("/secretariat/emails-en-echec/<int:email_id>/renvoyer", methods=["POST"])
@roles_required("secretariat")
def resend_email(email_id: int):
    email = db.get_or_404(OutboxEmail, email_id)
    try:
        mail.requeue_failed(email, current_user._get_current_object())
    except DomainError as error:
        flash(error.message, "error")
        return render_template("core/failed_emails.html", emails=mail.failed_emails(), form=FlaskForm()), \
            error.status_code
    flash(f"L'email « {email.subject} » est remis en file d'envoi vers {email.recipients}.", "success")
    return redirect(url_for("core.failed_emails"))
