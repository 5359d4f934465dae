"""Home page per role and the development mailbox."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app.core.models import OutboxEmail
from app.core.permissions import login_required, public
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


@bp.route("/boite-mail")
@public
def mailbox():
    """Development only: the emails the platform sent, since there is no SMTP server."""
    if not current_app.config.get("MAIL_DEV_MAILBOX") or current_app.config["APP_ENV"] == "production":
        abort(404)
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(200)).all()
    return render_template("core/mailbox.html", emails=emails)


@bp.route("/boite-mail/<int:email_id>")
@public
def mailbox_email(email_id: int):
    if not current_app.config.get("MAIL_DEV_MAILBOX") or current_app.config["APP_ENV"] == "production":
        abort(404)
    email = db.get_or_404(OutboxEmail, email_id)
    return render_template("core/mailbox_email.html", email=email)
