"""GET /stats (secretariat) and the partners' GET /establishments/{siret}/certifications."""

from __future__ import annotations

import time

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_smorest import Blueprint

from app.api.problems import problem
from app.core.errors import DomainError
from app.core.permissions import roles_required
from app.extensions import db, limiter
from app.stats import partners, services

blp = Blueprint("api_stats", __name__, description="Statistiques de la branche, API partenaires")

FILTER_PARAMETERS = [
    {"name": "year", "in": "query", "schema": {"type": "integer"}, "description": "Année de création du dossier"},
    {"name": "cqp", "in": "query", "schema": {"type": "string"}, "description": "Code du CQP"},
    {"name": "domain", "in": "query", "schema": {"type": "string"}, "description": "Domaine du CQP"},
    {"name": "siret", "in": "query", "schema": {"type": "string"}, "description": "SIRET de l'établissement"},
    {"name": "region", "in": "query", "schema": {"type": "string"},
     "description": "Département de l'établissement (ex. 69, 2A, 974)"},
]
TRACE_PARAMETERS = [
    {"name": name, "in": "query", "required": True, "schema": {"type": "string"}, "description": meaning}
    for name, meaning in partners.TRACE_PARAMETERS.items()
]


def _iso(value):
    return value.isoformat() if value is not None else None


def stats_json(stats: services.BranchStatistics) -> dict:
    return {
        "filters": stats.filters.as_args(),
        "total_files": stats.total_files,
        "files_by_status": stats.files_by_status,
        "decisions": stats.decisions,
        "by_cqp": stats.by_cqp,
        "jury_sessions": [{**s, "date": _iso(s["date"])} for s in stats.sessions],
        "median_days_to_decision": stats.time_to_decision["median_days"],
        "time_to_decision": stats.time_to_decision,
        "funnel": stats.funnel,
        "time_in_status": stats.time_in_status,
        "jury_sessions_summary": stats.sessions_summary,
        "competences_not_acquired": stats.competences_not_acquired,
        "competences_not_validated": stats.competences_not_validated,
    }


@blp.route("/stats")
class Stats(MethodView):
    @roles_required("secretariat")
    @blp.doc(parameters=FILTER_PARAMETERS)
    def get(self):
        """Les statistiques de la branche (filtres facultatifs : year, cqp, domain, siret, region)."""
        filters = services.parse_filters(request.args)
        return jsonify(stats_json(services.branch_statistics(filters, session_limit=None)))


def _partner_limit() -> str:
    return current_app.config["PARTNER_RATE_LIMIT"]


def _partner_key() -> str:
    """Per caller (the user behind the token), not per IP: partners often sit behind one proxy."""
    if current_user and current_user.is_authenticated:
        return f"partner-user:{current_user.id}"
    return get_remote_address()


@blp.route("/establishments/<siret>/certifications")
class EstablishmentCertifications(MethodView):
    @roles_required("partenaire", "secretariat")
    @limiter.limit(_partner_limit, key_func=_partner_key)
    @blp.doc(parameters=TRACE_PARAMETERS)
    def get(self, siret):
        """Les certifications CQP d'un établissement : CQP, statut et décisions publiées.

        context, recipient (un SIRET) et object sont obligatoires ; chaque appel est journalisé."""
        params = {name: (request.args.get(name) or "").strip() for name in partners.TRACE_PARAMETERS}
        try:
            return jsonify(partners.establishment_certifications(siret, params, current_user, request.remote_addr))
        except DomainError as error:
            db.session.rollback()
            partners.log_access(current_user, siret, params, error.status_code, request.remote_addr)
            # The refused call is kept in the access log too: this commit is that log line only
            # (the request's own work was rolled back just above).
            db.session.commit()
            return problem(error.status_code, error.message, errors=error.errors or None)


@blp.after_request
def ietf_rate_limit_headers(response):
    """Flask-Limiter writes X-RateLimit-*; partners expect the IETF names (RateLimit-Limit,
    -Remaining, and -Reset in seconds from now, as API Entreprise sends them)."""
    current = limiter.current_limit
    if current is not None:
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(max(current.remaining, 0))
        response.headers["RateLimit-Reset"] = str(max(int(current.reset_at - time.time()), 0))
    return response
