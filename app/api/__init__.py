"""The /api/v1 blueprint (flask-smorest): one module per resource, thin handlers over the services.

The OpenAPI description (/api/v1/openapi.json) is generated from the same schemas that validate
requests. Every error is problem+json with a French detail."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from app.api.problems import problem
from app.core.errors import DomainError
from app.extensions import csrf, db


class CertifiaApi(Api):
    def _register_error_handlers(self):
        """Not flask-smorest's JSON handler: the app's handlers answer problem+json under /api/."""


def _messages_from_webargs(error: HTTPException) -> tuple[str, dict]:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or {}
    flat: dict[str, list[str]] = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            _flatten(location_messages, "", flat)
        elif isinstance(location_messages, list):
            flat.setdefault("_schema", []).extend(str(m) for m in location_messages)
    if "_schema" in flat and any("JSON" in m or "json" in m for m in flat["_schema"]):
        return "Le corps de la requête n'est pas un JSON valide.", {}
    names = ", ".join(k for k in flat if k != "_schema")
    detail = f"Champs invalides ou manquants : {names}." if names else "Les données envoyées sont invalides."
    return detail, flat


def _flatten(node, prefix: str, out: dict[str, list[str]]) -> None:
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            _flatten(value, name, out)
        elif isinstance(value, list):
            out.setdefault(name, []).extend(str(v) for v in value)
        else:
            out.setdefault(name, []).append(str(value))


api = CertifiaApi()


def init_api(app: Flask) -> None:
    app.config["OPENAPI_URL_PREFIX"] = "/api/v1"
    app.config["OPENAPI_JSON_PATH"] = "openapi.json"
    api.init_app(app, spec_kwargs={
        "info": {"description": "API Certifia : dossiers candidats CQP, jurys, résultats. Voir API.md."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
    from app.api import files, jury, referential, stats

    for module in (referential, files, jury, stats):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
        csrf.exempt(module.blp)
    _mark_openapi_public(app)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if request.path.startswith("/api/"):
            return problem(error.status_code, error.message, errors=error.errors or None)
        return render_template("errors/error.html", code=error.status_code, message=error.message), error.status_code

    @app.errorhandler(422)
    @app.errorhandler(400)
    def validation_error(error: HTTPException):
        db.session.rollback()
        if request.path.startswith("/api/"):
            if error.code == 422 or getattr(error, "data", None):
                detail, errors = _messages_from_webargs(error)
                status = 400 if not errors and "JSON" in detail else error.code
                return problem(status, detail, errors=errors or None)
            return problem(400, "La requête est mal formée.")
        message = "La requête est mal formée."
        if "CSRF" in str(getattr(error, "description", "")):
            message = "Le formulaire a expiré ou n'est pas valide (jeton CSRF). Rechargez la page et recommencez."
        return render_template("errors/error.html", code=error.code, message=message), error.code


def _mark_openapi_public(app: Flask) -> None:
    """The OpenAPI description is public (its views are bound methods: listed by endpoint)."""
    app.config.setdefault("PUBLIC_ENDPOINTS", set()).update(
        endpoint for endpoint in app.view_functions if endpoint.startswith("api-docs.")
    )
