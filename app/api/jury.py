"""Jury sessions, registration, decisions, parchments and public verification (shared/API.md)."""

from __future__ import annotations

from flask import current_app, make_response
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields

from app.api.files import file_json
from app.api.schemas import BaseSchema
from app.core.errors import NotFound, ValidationFailed
from app.core.permissions import AUTHENTICATED, public, roles_required
from app.extensions import db, limiter
from app.files.access import get_file_for
from app.jury import pdf, services
from app.jury.models import JurySession

blp = Blueprint("api_jury", __name__, description="Sessions de jury, inscriptions, décisions, parchemins, vérification")


def _user():
    return current_user._get_current_object()


def session_json(session: JurySession) -> dict:
    return {
        "id": session.id,
        "date": session.date.isoformat(),
        "capacity": session.capacity,
        "seats_taken": session.seats_taken,
        "seats_left": session.seats_left,
        "registration_deadline": session.registration_deadline.isoformat(),
        "location": session.location,
        "state": services.session_state(session),
        "published_at": session.published_at.isoformat() if session.published_at else None,
        "cancelled_at": session.cancelled_at.isoformat() if session.cancelled_at else None,
    }


class SessionIn(BaseSchema):
    date = fields.Date(required=True)
    capacity = fields.Integer(required=True)
    location = fields.String(load_default=None, allow_none=True)
    member_ids = fields.List(fields.Integer(), load_default=list)


class RegisterIn(BaseSchema):
    jury_session_id = fields.Raw(load_default=None, allow_none=True)


class DecisionResultIn(BaseSchema):
    competence_code = fields.String(required=True)
    validated = fields.Boolean(required=True)


class DecisionIn(BaseSchema):
    results = fields.List(fields.Nested(DecisionResultIn), required=True)
    comment = fields.String(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)


def _session_by_id(value, field: str = "jury_session_id") -> JurySession:
    session = None
    if not isinstance(value, bool) and str(value).strip().isdigit() and len(str(value).strip()) < 12:
        session = db.session.get(JurySession, int(str(value).strip()))
    if session is None:
        message = f"La session de jury {value!r} n'existe pas."
        raise ValidationFailed(message, {field: [message]})
    return session


@blp.route("/jury-sessions")
class JurySessions(MethodView):
    @roles_required(AUTHENTICATED)
    def get(self):
        """Les sessions de jury par date, avec places prises et date limite d'inscription (date − 21 jours)."""
        return [session_json(s) for s in services.list_sessions()]

    @roles_required("secretariat")
    @blp.arguments(SessionIn)
    def post(self, data):
        """Crée une session de jury (secrétariat)."""
        session = services.create_session(actor=_user(), **data)
        return session_json(session), 201


@blp.route("/jury-sessions/<session_id>")
class JurySessionItem(MethodView):
    @roles_required(AUTHENTICATED)
    def get(self, session_id):
        """Une session de jury."""
        try:
            return session_json(services.get_session(session_id))
        except NotFound as err:
            raise NotFound(err.message) from err


@blp.route("/jury-sessions/<session_id>/publish")
class PublishSession(MethodView):
    @roles_required("secretariat")
    def post(self, session_id):
        """Publie les résultats de la session (R10) : visibles des entreprises, qui reçoivent un email."""
        session = services.get_session(session_id)
        return session_json(services.publish_session(session, _user()))


@blp.route("/files/<file_id>/register-jury")
class RegisterJury(MethodView):
    @roles_required("entreprise")
    @blp.arguments(RegisterIn)
    def post(self, data, file_id):
        """Inscrit le dossier à la session demandée ou à la suivante qui a une place (R7–R8)."""
        file = get_file_for(_user(), file_id)
        requested = _session_by_id(data["jury_session_id"]) if data.get("jury_session_id") not in (None, "") else None
        registration = services.register_to_jury(file, _user(), requested)
        return file_json(registration.file, _user())


@blp.route("/files/<file_id>/unregister-jury")
class UnregisterJury(MethodView):
    @roles_required("entreprise", "secretariat")
    def post(self, file_id):
        """Désinscrit le dossier du jury avant la date limite ; la place est libérée."""
        file = get_file_for(_user(), file_id)
        return file_json(services.unregister_from_jury(file, _user()), _user())


@blp.route("/files/<file_id>/decision")
class FileDecision(MethodView):
    @roles_required("secretariat")
    @blp.arguments(DecisionIn)
    def post(self, data, file_id):
        """Enregistre (ou corrige avant publication) la décision du jury par compétence (R9). Après
        publication, `reason` rectifie la décision en gardant l'ancienne dans l'historique."""
        file = get_file_for(_user(), file_id)
        results = services.results_from_codes(file, data["results"])
        services.record_decision(file, _user(), results, comment=data.get("comment"), reason=data.get("reason"))
        return file_json(file, _user())


@blp.route("/files/<file_id>/parchment.pdf")
class ParchmentPdf(MethodView):
    @roles_required("secretariat", "entreprise")
    def get(self, file_id):
        """Le parchemin (valide) ou l'attestation (partiel) en PDF ; 409 sinon."""
        file = get_file_for(_user(), file_id)
        parchment = services.parchment_for_download(file, _user())
        if _user().role == "secretariat":
            services.record_prints([parchment], _user(), db.session.get(JurySession, file.jury_session_id))
        response = make_response(pdf.parchment_pdf(parchment))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'inline; filename="{parchment.kind}-{parchment.number}.pdf"'
        return response


@blp.route("/verify/<number>")
class Verify(MethodView):
    @public
    @limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"])
    def get(self, number):
        """Vérification publique d'un numéro de parchemin (sans jeton)."""
        result = services.verify_number(number)
        if result is None:
            raise NotFound("Numéro inconnu : aucun parchemin ni attestation publié ne porte ce numéro.",
                           {"number": ["Numéro inconnu."]})
        result = dict(result)
        result["jury_date"] = result["jury_date"].isoformat()
        result["competences_validated"] = [c["code"] for c in result["competences_validated"]]
        return result
