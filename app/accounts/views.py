"""Login, logout, the company account request, password links; the secretariat's account requests
and users pages."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts import services
from app.accounts.auth import verify_password
from app.accounts.forms import (
    AccountRequestForm,
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    InviteColleagueForm,
    InviteUserForm,
    LoginForm,
    ProfileForm,
    RefuseRequestForm,
    SetPasswordForm,
)
from app.accounts.models import ROLE_LABELS, Role, User
from app.accounts.throttle import LoginAttempt
from app.core.errors import DomainError, Gone, refusal_goes_back_to
from app.core.permissions import login_required, public, require, roles_required
from app.core.redirects import safe_next
from app.core.templating import pluriel
from app.extensions import db, limiter

bp = Blueprint("accounts", __name__)


@bp.app_template_filter("role_label")
def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(Role(role), role) if role else ""


bp.add_app_template_global(Role, "Role")


def _email_key() -> str:
    """The forgotten-password form is limited per address and per email asked for."""
    return (request.form.get("email") or "").strip().lower() or request.remote_addr or "anonyme"


def _rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/connexion", methods=["GET", "POST"])
@public
def login():
    """Failed attempts are throttled per (account, address), per address and per account, never so that
    the right password from another address is refused (app/accounts/throttle.py)."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = LoginAttempt(form.email.data, request.remote_addr)
        refusal = attempt.refusal()
        if refusal is not None:
            form.form_errors.append(refusal.message)
            response = make_response(render_template("accounts/login.html", form=form), 429)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        user = services.find_user_by_email(form.email.data)
        if verify_password(user, form.password.data) and user.active:
            attempt.succeeded()
            services.start_session(user, remember=form.remember.data)
            flash(f"Bienvenue, {user.full_name}.", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
        attempt.failed()
        form.form_errors.append("Adresse email ou mot de passe incorrect.")
    status = 422 if form.errors or form.form_errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
@login_required
def logout():
    """Ends this device's session only: the user stays logged in on their other devices."""
    services.end_session(current_user._get_current_object())
    flash("Vous êtes déconnecté.", "success")
    return redirect(url_for("accounts.login"))


# ---------------------------------------------------------------- every logged-in user: « Mon compte »


def _render_account(status: int = 200, *, profile_form: ProfileForm | None = None,
                    password_form: ChangePasswordForm | None = None, colleague_form: InviteColleagueForm | None = None):
    """The page with its forms: the one posted keeps what was typed and its errors, the others are fresh."""
    user = current_user._get_current_object()
    return render_template(
        "accounts/account.html", user=user, sessions=services.open_sessions(user),
        profile_form=profile_form or ProfileForm(formdata=None, obj=user),
        password_form=password_form or ChangePasswordForm(formdata=None),
        colleagues=services.list_colleagues(user),
        colleague_form=colleague_form or InviteColleagueForm(formdata=None, prefix="collegue"),
        action_form=ConfirmForm(formdata=None)), status


@bp.route("/mon-compte/collegues", methods=["POST"])
@roles_required("entreprise")
def invite_colleague():
    form = InviteColleagueForm(prefix="collegue")
    if not form.validate_on_submit():
        return _render_account(422, colleague_form=form)
    try:
        colleague = services.invite_colleague(current_user._get_current_object(), form.email.data,
                                              form.first_name.data, form.last_name.data)
    except DomainError as error:  # nothing written: the error status rolls back
        form.add_domain_errors(error)
        return _render_account(error.status_code, colleague_form=form)
    flash(f"Compte créé pour {colleague.full_name} : {colleague.email} a reçu un lien pour choisir son mot de passe "
          "(valable 7 jours).", "success")
    return redirect(url_for("accounts.account"))


@bp.route("/mon-compte/collegues/<int:user_id>/renvoyer-lien", methods=["POST"])
@roles_required("entreprise")
def reinvite_colleague(user_id: int):
    if not ConfirmForm().validate_on_submit():
        return _render_account(400)
    with refusal_goes_back_to(url_for("accounts.account")):
        colleague = services.reinvite_colleague(current_user._get_current_object(), user_id)
    flash(f"Un nouveau lien pour choisir le mot de passe a été envoyé à {colleague.email} (l'ancien ne sert plus).",
          "success")
    return redirect(url_for("accounts.account"))


@bp.route("/mon-compte/profil", methods=["POST"])
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _render_account(422, profile_form=form)
    try:
        services.update_profile(current_user._get_current_object(), form.first_name.data, form.last_name.data,
                                form.email.data)
    except DomainError as error:  # nothing written: the error status rolls back
        form.add_domain_errors(error)
        return _render_account(error.status_code, profile_form=form)
    flash("Vos nom et adresse email sont enregistrés.", "success")
    return redirect(url_for("accounts.account"))


@bp.route("/mon-compte/mot-de-passe", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _render_account(422, password_form=form)
    try:
        services.change_password(current_user._get_current_object(), form.current_password.data, form.password.data)
    except DomainError as error:
        form.add_domain_errors(error)
        return _render_account(error.status_code, password_form=form)
    flash("Votre mot de passe est changé : vos sessions sur les autres appareils sont terminées.", "success")
    return redirect(url_for("accounts.account"))


@bp.route("/mon-compte")
@login_required
def account():
    return _render_account()


@bp.route("/mon-compte/deconnexion-partout", methods=["POST"])
@login_required
def logout_everywhere():
    if not ConfirmForm().validate_on_submit():
        return _render_account(400)
    ended = services.end_everywhere(current_user._get_current_object())
    flash(f"Vous êtes déconnecté de tous vos appareils ({pluriel(ended, 'session terminée', 'sessions terminées')}).",
          "success")
    return redirect(url_for("accounts.login"))


@bp.route("/mon-compte/sessions/<int:session_id>/terminer", methods=["POST"])
@login_required
def end_device_session(session_id: int):
    if not ConfirmForm().validate_on_submit():
        return _render_account(400)
    user = current_user._get_current_object()
    require(user.current_session is None or user.current_session.id != session_id)  # this device: « Se déconnecter »
    with refusal_goes_back_to(url_for("accounts.account")):
        services.end_other_session(user, session_id)
    flash("La session de cet appareil est terminée : il devra se reconnecter.", "success")
    return redirect(url_for("accounts.account"))


# ---------------------------------------------------------------- public: account request, passwords


@bp.route("/demande-de-compte", methods=["GET", "POST"])
@public
@limiter.limit(_rate_limit, methods=["POST"])
def account_request():
    form = AccountRequestForm()
    if form.validate_on_submit():
        try:
            services.request_account(_account_request_data(form))
        except DomainError as error:
            form.add_domain_errors(error)
            return render_template("accounts/account_request.html", form=form), error.status_code
        return redirect(url_for("accounts.account_request_sent"))
    if form.is_submitted() and "csrf_token" not in form.errors:
        try:  # every mistake at once: the service's checks too (SIRET key, postcode, phone, email)
            services.validate_account_request(_account_request_data(form))
        except DomainError as error:
            form.add_domain_errors(error)
    status = 422 if form.errors else 200
    return render_template("accounts/account_request.html", form=form), status


def _account_request_data(form: AccountRequestForm) -> services.AccountRequestData:
    return services.AccountRequestData(**{name: form[name].data for name in (
        "siret", "establishment_name", "address", "postcode", "city", "contact_first_name",
        "contact_last_name", "email", "phone")})


@bp.route("/demande-de-compte/envoyee")
@public
def account_request_sent():
    return render_template("accounts/account_request_sent.html")


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@public
@limiter.limit(_rate_limit, methods=["POST"])
@limiter.limit(_rate_limit, methods=["POST"], key_func=_email_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        # The same answer whether the address has an account or not.
        return render_template("accounts/forgot_password_sent.html", email=form.email.data)
    status = 422 if form.errors else 200
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_rate_limit, methods=["POST"])
def set_password(token: str):
    try:
        link = services.find_password_link(token)
    except Gone as error:
        return render_template("accounts/link_gone.html", message=error.message), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.set_password_from_link(token, form.password.data)
        except Gone as error:
            return render_template("accounts/link_gone.html", message=error.message), 410
        except DomainError as error:
            form.add_domain_errors(error)
            return render_template("accounts/set_password.html", form=form, link=link), error.status_code
        services.start_session(user)
        flash("Votre mot de passe est enregistré. Vous êtes connecté.", "success")
        return redirect(url_for("core.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/set_password.html", form=form, link=link), status


# ---------------------------------------------------------------- secretariat: account requests


def _load_request(request_id: int):
    account_request = services.get_account_request(request_id)
    require(account_request is not None)
    return account_request


def _render_request(account_request, refuse_form=None, error: DomainError | None = None, status: int = 200):
    if error is not None:
        flash(error.message, "error")
    return render_template(
        "accounts/account_request_detail.html", req=account_request, approve_form=ConfirmForm(),
        refuse_form=refuse_form or RefuseRequestForm(formdata=None),
        existing=services.find_establishment(account_request.siret),
    ), status


@bp.route("/secretariat/demandes-de-compte")
@roles_required("secretariat")
def account_requests():
    return render_template("accounts/account_requests.html", requests=services.list_account_requests())


@bp.route("/secretariat/demandes-de-compte/<int:request_id>")
@roles_required("secretariat")
def account_request_detail(request_id: int):
    return _render_request(_load_request(request_id))


@bp.route("/secretariat/demandes-de-compte/<int:request_id>/approuver", methods=["POST"])
@roles_required("secretariat")
def approve_request(request_id: int):
    account_request = _load_request(request_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _render_request(account_request, status=400)
    try:
        user = services.approve_account_request(account_request, current_user._get_current_object())
    except DomainError as error:  # refused before anything was written; the error status rolls back
        return _render_request(account_request, error=error, status=error.status_code)
    flash(f"Demande approuvée : l'établissement est créé et un lien pour choisir le mot de passe a été envoyé à "
          f"{user.email}.", "success")
    return redirect(url_for("accounts.account_requests"))


@bp.route("/secretariat/demandes-de-compte/<int:request_id>/refuser", methods=["POST"])
@roles_required("secretariat")
def refuse_request(request_id: int):
    account_request = _load_request(request_id)
    form = RefuseRequestForm()
    if form.validate_on_submit():
        try:
            services.refuse_account_request(account_request, form.reason.data, current_user._get_current_object())
        except DomainError as error:  # refused before anything was written; the error status rolls back
            form.add_domain_errors(error)
            return _render_request(account_request, refuse_form=form, status=error.status_code)
        flash(f"Demande refusée : le motif a été envoyé à {account_request.email}.", "success")
        return redirect(url_for("accounts.account_requests"))
    return _render_request(account_request, refuse_form=form, status=422)


# ---------------------------------------------------------------- secretariat: users


def _render_users(form: InviteUserForm, status: int = 200):
    role = request.args.get("role") or None
    if role not in {r.value for r in Role}:
        role = None
    return render_template("accounts/users.html", form=form, users=services.list_users(role), role=role,
                           role_labels={r.value: label for r, label in ROLE_LABELS.items()},
                           action_form=ConfirmForm(formdata=None)), status


@bp.route("/secretariat/utilisateurs", methods=["GET", "POST"])
@roles_required("secretariat")
def users():
    form = InviteUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_invited_user(form.email.data, form.role.data, form.first_name.data,
                                                form.last_name.data, current_user._get_current_object())
        except DomainError as error:
            form.add_domain_errors(error)
            return _render_users(form, error.status_code)
        flash(f"Compte créé : {user.email} a reçu un lien pour choisir son mot de passe (valable 7 jours).",
              "success")
        return redirect(url_for("accounts.users"))
    return _render_users(form, 422 if form.errors else 200)


def _load_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    require(user is not None)
    return user


@bp.route("/secretariat/utilisateurs/<int:user_id>/<any(desactiver, reactiver):action>", methods=["POST"])
@roles_required("secretariat")
def user_activation(user_id: int, action: str):
    user = _load_user(user_id)
    if not ConfirmForm().validate_on_submit():
        return _render_users(InviteUserForm(formdata=None), 400)
    try:
        services.set_user_active(user, action == "reactiver", current_user._get_current_object())
    except DomainError as error:
        flash(error.message, "error")
        return _render_users(InviteUserForm(formdata=None), error.status_code)
    flash(f"Compte {'réactivé' if user.active else 'désactivé'} : {user.email}.", "success")
    return redirect(url_for("accounts.users"))


@bp.route("/secretariat/utilisateurs/<int:user_id>/renvoyer-lien", methods=["POST"])
@roles_required("secretariat")
def reinvite_user(user_id: int):
    user = _load_user(user_id)
    if not ConfirmForm().validate_on_submit():
        return _render_users(InviteUserForm(formdata=None), 400)
    try:
        services.invite_user(user, current_user._get_current_object())
    except DomainError as error:
        flash(error.message, "error")
        return _render_users(InviteUserForm(formdata=None), error.status_code)
    flash(f"Un nouveau lien pour choisir le mot de passe a été envoyé à {user.email}.", "success")
    return redirect(url_for("accounts.users"))
