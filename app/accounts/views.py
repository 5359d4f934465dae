"""Login, logout (account requests and password reset are added by the accounts issue)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts import services
from app.accounts.auth import verify_password
from app.accounts.forms import LoginForm
from app.core.permissions import login_required, public
from app.extensions import limiter

bp = Blueprint("accounts", __name__)


def _login_key() -> str:
    return (request.form.get("email") or "").strip().lower() or request.remote_addr or "anonyme"


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/connexion", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=_login_key)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if verify_password(user, form.password.data) and user.active:
            services.start_session(user, remember=form.remember.data)
            flash(f"Bienvenue, {user.full_name}.", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("core.home"))
        form.form_errors.append("Adresse email ou mot de passe incorrect.")
    status = 422 if form.errors or form.form_errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
@login_required
def logout():
    services.end_session(current_user._get_current_object())
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("accounts.login"))
