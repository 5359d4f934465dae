"""Certifia: the application factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_talisman import Talisman
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from app.config import check_production, load_config
from app.extensions import csrf, db, limiter, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)

CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(app.instance_path, config))
    check_production(app.config)  # refuses to start, naming each unsafe setting
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="same-origin",
        strict_transport_security=app.config["FORCE_HTTPS"],
    )

    from app import models  # noqa: F401  (every table known to metadata and Alembic)
    from app.core import cache_headers, input_safety, request_log, static_files, templating

    request_log.init_app(app)  # first: the request id exists before any other hook can refuse
    cache_headers.init_app(app)
    templating.init_app(app)
    static_files.init_app(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    input_safety.init_app(app)  # after the role check (401/403 first): bad characters refused before any view
    _register_error_pages(app)
    _register_index(app)
    _register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from app.accounts.views import bp as accounts_bp
    from app.api import init_api
    from app.core.health import bp as health_bp
    from app.core.views import bp as core_bp

    # The files and jury blueprints' routes are in several modules: importing them registers the routes.
    from app.files import candidate_views, evaluation_views, exchange_views, views  # noqa: F401
    from app.files import habilitation_views as _habilitation_views  # noqa: F401
    from app.files import import_views as _import_views  # noqa: F401  (candidates from an HR export)
    from app.files import webhook_views as _webhook_views  # noqa: F401  (and the webhooks' workflow listener)
    from app.files.web import bp as files_bp
    from app.jury import (  # noqa: F401
        attendance_views,
        cdc_views,
        decision_views,
        parchment_views,
        privacy_views,  # noqa: F401
        record_views,
        seat_offer_views,  # noqa: F401
    )
    from app.jury import views as jury_views  # noqa: F401
    from app.jury.web import bp as jury_bp
    from app.referential import independence_views  # noqa: F401
    from app.referential.public_assessors import bp as public_assessors_bp
    from app.referential.renewal_views import bp as renewals_bp
    from app.referential.views import bp as referential_bp
    from app.stats import export_views as _export_views  # noqa: F401  (exports prepared by the worker)
    from app.stats.views import bp as stats_bp

    for blueprint in (health_bp, core_bp, accounts_bp, referential_bp, files_bp, jury_bp, stats_bp, public_assessors_bp,
                      renewals_bp):
        app.register_blueprint(blueprint)
    init_api(app)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


ERROR_MESSAGES = {
    400: "La requête est mal formée.",
    403: "Votre rôle ne permet pas d'accéder à cette page.",
    404: "Cette page n'existe pas, ou vous n'y avez pas accès.",
    405: "Cette méthode n'est pas permise ici.",
    409: "L'opération entre en conflit avec l'état actuel.",
    410: "Ce lien a déjà été utilisé ou a expiré.",
    413: "Le fichier envoyé est trop volumineux (10 Mo au maximum).",
    429: "Trop de tentatives : réessayez dans quelques minutes.",
    500: "Une erreur inattendue s'est produite. L'équipe technique a été prévenue.",
    503: "Le service est momentanément indisponible.",
}
CONFLICT_AT_COMMIT = "L'opération entre en conflit avec une donnée existante."
CSRF_EXPIRED = "Le formulaire a expiré ou n'est pas valide (jeton CSRF). Rechargez la page et recommencez."


def error_response(code: int, message: str, errors: dict | None = None):
    """problem+json under /api/, the error page elsewhere."""
    if is_api_request():
        from app.api.problems import problem

        return problem(code, message, errors=errors or None)
    return render_template("errors/error.html", code=code, message=message), code


def _register_request_hooks(app: Flask) -> None:
    from app.accounts.auth import load_user_from_session, load_user_from_token
    from app.core.permissions import enforce_roles
    from app.worker import dispatch_after_commit

    login_manager.user_loader(load_user_from_session)
    login_manager.request_loader(load_user_from_token)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Connectez-vous pour accéder à cette page."
    login_manager.login_message_category = "info"

    def unauthenticated():
        if is_api_request():
            return error_response(401, "Jeton d'API absent ou invalide (en-tête Authorization: Bearer <jeton>).")
        return login_manager.unauthorized()

    @app.before_request
    def check_roles():
        return enforce_roles(unauthenticated)

    @app.teardown_request
    def forget_request_user(_exc):
        """g lives in the app context, which a request reuses when one is already pushed (tests,
        CLI): the user and flags of one request must not leak into the next."""
        g.pop("_login_user", None)
        g.pop("csrf_token", None)  # Flask-WTF caches the session's token in g for the request

    @app.after_request
    def commit_once(response):
        """The request commits once, unless it failed: success commits, any error status (and every
        exception, through the error handlers) rolls back. Views and API handlers never commit. A
        conflict found only by the database at commit (a unique constraint lost to a concurrent
        request) is a 409."""
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            log.exception("Conflit d'intégrité à la validation")
            return app.make_response(error_response(409, CONFLICT_AT_COMMIT))
        dispatch_after_commit()
        return response


def _register_error_pages(app: Flask) -> None:
    """Every failure rolls the request back and answers in French: problem+json under /api/, the error
    page elsewhere (a refused action from a page goes back to it with the message flashed)."""
    from app.core.errors import DomainError, RefusedAction

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        code = error.code or 500
        message = ERROR_MESSAGES.get(code, error.description)
        if code == 400 and "CSRF" in str(error.description or ""):
            message = CSRF_EXPIRED
        errors = (getattr(error, "data", None) or {}).get("errors") if is_api_request() else None
        response = app.make_response(error_response(code, message, errors))
        for name, value in error.get_headers():  # Allow on a 405, Retry-After on a 429 or 503
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        """A refusal raised by a service or the workflow: nothing of the request is kept."""
        db.session.rollback()
        return error_response(error.status_code, error.message, error.errors)

    @app.errorhandler(RefusedAction)
    def refused_action(error: RefusedAction):
        """A refused action from a page: rolled back, its message flashed, back to the page (303)."""
        db.session.rollback()
        flash(error.message, "error")
        return redirect(error.location, 303)

    @app.errorhandler(OperationalError)
    def database_down(_error):
        db.session.rollback()
        log.exception("Base de données indisponible")
        return error_response(503, ERROR_MESSAGES[503])

    @app.errorhandler(Exception)
    def unexpected(error):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        log.exception("Erreur inattendue")
        return error_response(500, ERROR_MESSAGES[500])


def _register_index(app: Flask) -> None:
    from app.core.permissions import public

    @app.route("/")
    @public
    def index():
        if current_user.is_authenticated:
            return redirect(url_for("core.home"))
        return redirect(url_for("accounts.login"))


def _register_cli(app: Flask) -> None:
    from app.cli import register
    from app.referential.cli import register as register_cog_cli
    from app.referential.training_org_cli import register as register_training_orgs_cli

    register(app)
    register_cog_cli(app)
    register_training_orgs_cli(app)
