"""GET /stats (secretariat) and the partners' GET /establishments/{siret}/certifications."""

from __future__ import annotations

import logging
import time

from flask import current_app, g, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy.exc import SQLAlchemyError

from app.api.problems import problem
from app.api.schemas import (
    BaseSchema,
    CodeTitle,
    ComputedDate,
    ComputedDict,
    ComputedList,
    ComputedNested,
    ComputedString,
)
from app.core.errors import DomainError
from app.core.permissions import roles_required
from app.extensions import limiter
from app.files.models import DECISION_STATUSES, FileStatus
from app.stats import cache, partners
from app.stats.filters import parse_filters

log = logging.getLogger(__name__)
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
STATUSES = [s.value for s in FileStatus]
DECISIONS = [s.value for s in DECISION_STATUSES]


# ---------------------------------------------------------------- GET /stats


def _counts(description: str) -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": description})


class CqpFigures(BaseSchema):
    cqp_code = fields.String()
    cqp_title = fields.String()
    files = fields.Integer()
    decided = fields.Integer()
    valide = fields.Integer()
    partiel = fields.Integer()
    non_valide = fields.Integer()
    abandonne = fields.Integer()
    valide_rate = fields.Float(allow_none=True, metadata={"description": "% des décisions"})
    partiel_rate = fields.Float(allow_none=True)
    non_valide_rate = fields.Float(allow_none=True)


class SessionFigures(BaseSchema):
    id = fields.Integer()
    date = fields.Date()
    location = fields.String(allow_none=True)
    capacity = fields.Integer()
    seats_taken = fields.Integer()
    fill_rate = fields.Float(allow_none=True)
    files = fields.Integer(metadata={"description": "dossiers placés dans la session (filtrés)"})
    rolled_over = fields.Integer(metadata={"description": "dont reportés d'une session complète ou close"})
    published = fields.Boolean()


class Durations(BaseSchema):
    files = fields.Integer()
    median_days = fields.Float(allow_none=True)
    p90_days = fields.Float(allow_none=True)


class FunnelStep(BaseSchema):
    step = fields.String()
    label = fields.String()
    files = fields.Integer()
    share = fields.Float(allow_none=True)


class StatusDurations(BaseSchema):
    status = fields.String(metadata={"enum": STATUSES})
    label = fields.String()
    stays = fields.Integer()
    median_days = fields.Float(allow_none=True)
    p90_days = fields.Float(allow_none=True)


class SessionsSummary(BaseSchema):
    sessions = fields.Integer()
    capacity = fields.Integer()
    seats_taken = fields.Integer()
    fill_rate = fields.Float(allow_none=True)
    files = fields.Integer()
    rolled_over = fields.Integer()


class CompetenceFailures(BaseSchema):
    cqp_code = fields.String()
    competence_code = fields.String()
    competence_title = fields.String()
    failures = fields.Integer()
    assessed = fields.Integer()
    failure_rate = fields.Float(allow_none=True)


class StatsOut(BaseSchema):
    """The branch's figures (docs/api.md's keys, and more)."""

    filters = ComputedDict(keys=fields.String(), values=fields.String(),
                           compute=lambda stats: stats.filters.as_args())
    total_files = fields.Integer()
    files_by_status = _counts("dossiers par statut (" + ", ".join(STATUSES) + ")")
    decisions = _counts("dossiers par décision du jury (" + ", ".join(DECISIONS) + ")")
    by_cqp = fields.Nested(CqpFigures, many=True)
    jury_sessions = fields.Nested(SessionFigures, many=True, attribute="sessions")
    median_days_to_decision = fields.Float(allow_none=True, attribute="time_to_decision.median_days")
    time_to_decision = fields.Nested(Durations)
    funnel = fields.Nested(FunnelStep, many=True)
    time_in_status = fields.Nested(StatusDurations, many=True)
    jury_sessions_summary = fields.Nested(SessionsSummary, attribute="sessions_summary")
    competences_not_acquired = fields.Nested(CompetenceFailures, many=True)
    competences_not_validated = fields.Nested(CompetenceFailures, many=True)


@blp.route("/stats")
class Stats(MethodView):
    @roles_required("secretariat")
    @blp.doc(parameters=FILTER_PARAMETERS)
    @blp.response(200, StatsOut)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE", description=(
        "Les chiffres de ces filtres, non demandés récemment, sont en cours de calcul : réessayer après le "
        "délai de l'en-tête Retry-After (secondes)."))
    def get(self):
        """Les statistiques de la branche (filtres facultatifs : year, cqp, domain, siret, region)."""
        filters = parse_filters(request.args)
        stats = cache.statistics(filters, session_limit=None)
        if stats is None:
            response = problem(503, f"Statistiques en cours de calcul ({filters.describe()}) : réessayez dans "
                                    f"{cache.RETRY_AFTER_SECONDS} secondes.")
            response.headers["Retry-After"] = str(cache.RETRY_AFTER_SECONDS)
            return response
        return stats


# ---------------------------------------------------------------- partners


class EstablishmentCard(BaseSchema):
    siret = fields.String()
    name = fields.String()
    postcode = fields.String(allow_none=True)
    city = fields.String(allow_none=True)


class PublishedDecision(BaseSchema):
    status = fields.String(metadata={"enum": DECISIONS})
    jury_date = ComputedDate(allow_none=True, compute=lambda decision: decision.file.jury_session.date
                             if decision.file.jury_session else None)
    competences_validated = ComputedList(fields.String(), compute=partners.validated_codes)
    parchment_number = ComputedString(allow_none=True, compute=lambda decision: decision.file.parchment.number
                                      if decision.file.parchment else None)


class Certification(BaseSchema):
    """A file as a partner may see it: published decisions only."""

    file_id = fields.Integer(attribute="id")
    holder = fields.String(attribute="candidate.public_name")
    cqp = fields.Nested(CodeTitle)
    status = ComputedString(compute=partners.shown_status, metadata={"enum": STATUSES})
    status_label = ComputedString(compute=partners.shown_status_label)
    created_on = ComputedDate(compute=lambda file: file.created_at.date())
    decision = ComputedNested(PublishedDecision, allow_none=True, compute=partners.shown_decision)


class CertificationsOut(BaseSchema):
    establishment = fields.Nested(EstablishmentCard)
    certifications = fields.Nested(Certification, many=True, attribute="files")
    context = fields.String()
    recipient = fields.String()
    object = fields.String()


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
    @blp.response(200, CertificationsOut)
    def get(self, siret):
        """Les certifications CQP d'un établissement : CQP, statut et décisions publiées.

        context, recipient (un SIRET) et object sont obligatoires ; chaque appel est journalisé."""
        params = {name: (request.args.get(name) or "").strip() for name in partners.TRACE_PARAMETERS}
        try:
            return partners.establishment_certifications(siret, params, current_user, request.remote_addr)
        except DomainError as error:
            # The refusal is rolled back with the request; its line of the access log is written
            # once the request's transaction is over (write_refused_calls).
            g.refused_partner_call = partners.RefusedCall(current_user.id, siret, params, error.status_code,
                                                          request.remote_addr)
            raise


@blp.teardown_request
def write_refused_calls(_exc) -> None:
    """A refused partner call is kept in the access log too, in a transaction of its own, after the
    request's has been rolled back (on SQLite the request's transaction may hold the write lock)."""
    refused = g.pop("refused_partner_call", None)
    if refused is None:
        return
    try:
        partners.log_refused_call(refused)
    except SQLAlchemyError:
        # The answer is already made: a database down now loses this line, not the caller's answer.
        log.exception("Appel refusé non journalisé : %s", refused)


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
