"""The /api/v1 blueprint (flask-smorest): one module per resource, thin handlers over the services.

The OpenAPI description (/api/v1/openapi.json) is generated from the same schemas that validate
requests. Every error is problem+json with a French detail."""

from __future__ import annotations

import http

from apispec import BasePlugin
from flask import Flask, render_template, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from app.api.problems import problem
from app.extensions import csrf

FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error path answers (documented in openapi.json)."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Raw(metadata={
        "description": "chaque champ invalide et ses messages ; pour un import de fichier, chaque erreur de chaque "
                       "ligne ({row, field, message})",
        "oneOf": [
            FIELD_ERRORS,
            {"type": "array", "items": {"type": "object", "properties": {
                "row": {"type": "integer", "nullable": True}, "field": {"type": "string", "nullable": True},
                "message": {"type": "string"}}}},
        ]})


class CertifiaApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """Not flask-smorest's JSON handler: the app's handlers answer problem+json under /api/."""

    def _register_responses(self):
        """flask-smorest's default error responses, but as they really are: application/problem+json."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
                content_type = "application/problem+json"
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Erreur", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, "application/problem+json")
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class ProblemResponses(BasePlugin):
    """Every error answer of the API is problem+json (RFC 9457): an error response a handler documents with a
    schema (`@blp.alt_response(422, schema=…)`) is described under that content type, not application/json;
    a list schema there is what the problem's `errors` holds (an import's row errors), wrapped in the problem."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            for status, response in (operation.get("responses") or {}).items():
                content = response.get("content") if isinstance(response, dict) else None
                if not content or str(status)[:1] not in "45" or "application/json" not in content:
                    continue
                media = content.setdefault("application/problem+json", content.pop("application/json"))
                schema = media.get("schema")
                if isinstance(schema, dict) and schema.get("type") == "array":
                    # Or the fields' messages, when the input-safety layer refuses the request first.
                    media["schema"] = {"type": "object", "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                        "detail": {"type": "string"}, "errors": {"oneOf": [schema, FIELD_ERRORS]}}}


def _messages_from_webargs(error: HTTPException) -> tuple[int, str, dict]:
    """(status, French detail, errors by field) from webargs' messages {location: {field: [..]}}.

    webargs puts a body it could not parse as a bare list under its location ("Invalid JSON body."):
    that is a 400. A body that parses but is not an object lands in `_schema`: a 422 that says so."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or {}
    flat: dict[str, list[str]] = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            _flatten(location_messages, "", flat)
        elif isinstance(location_messages, list):
            return 400, "Le corps de la requête n'est pas un JSON valide.", {}
    names = ", ".join(k for k in flat if k != "_schema")
    if names:
        return error.code or 422, f"Champs invalides ou manquants : {names}.", flat
    if flat.get("_schema"):
        return error.code or 422, " ".join(flat["_schema"]), flat
    return error.code or 422, "Les données envoyées sont invalides.", flat


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
        "extra_plugins": [ProblemResponses()],
        "info": {"description": "API Certifia : dossiers candidats CQP, jurys, résultats. Voir docs/api.md."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
    from app.api import (  # noqa: F401 (candidates: routes on files.blp)  # noqa: F401 (candidate_import: a route on files.blp)
        assessors,
        candidate_import,
        candidates,
        cdc,
        exchanges,
        files,
        geography,
        jury,
        privacy,
        referential,
        stats,
        training_orgs,
        webhooks,
    )

    for module in (referential, geography, files, jury, cdc, stats, assessors, webhooks, exchanges, privacy,
                   training_orgs):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
        csrf.exempt(module.blp)
    _mark_openapi_public(app)

    @app.errorhandler(422)
    @app.errorhandler(400)
    def validation_error(error: HTTPException):
        """Rolled back by the app's after_request, as every answer of status 400 or more."""
        if request.path.startswith("/api/"):
            if error.code == 422 or getattr(error, "data", None):
                status, detail, errors = _messages_from_webargs(error)
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
