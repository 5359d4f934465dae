"""Jury sessions, registration, decisions, parchments and public verification (docs/api.md).

Each answer is dumped by the schema its `@blp.response` declares, so that /api/v1/openapi.json shows
what is returned; a file is answered as `file_json` builds it (the files area's one shape)."""

from __future__ import annotations

from datetime import UTC

from flask import current_app, jsonify
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.api.files import FileOut, file_answer_loads, file_json
from app.api.schemas import BaseSchema
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.permissions import AUTHENTICATED, public, roles_required
from app.core.templating import PARIS
from app.core.validation import as_id
from app.extensions import db, limiter
from app.files.access import get_file_for
from app.files.models import CandidateFile
from app.jury import attendance, decisions, minutes, parchments, pdf, registration, sessions
from app.jury.models import JurySession

blp = Blueprint("api_jury", __name__, description="Sessions de jury, inscriptions, décisions, parchemins, vérification")


def _user():
    return current_user._get_current_object()


# ---------------------------------------------------------------- schemas


class SessionIn(BaseSchema):
    class Meta(BaseSchema.Meta):
        model = JurySession

    date = fields.Date(required=True)
    capacity = fields.Integer(required=True)
    location = fields.String(load_default=None, allow_none=True)
    member_ids = fields.List(fields.Integer(), load_default=list)
    confirm_past_deadline = fields.Boolean(load_default=False, metadata={
        "description": "true pour créer une session dont la date limite d'inscription (date − 21 jours) est "
                       "déjà passée ; sans lui, 422 sur `date`"})


class RegisterIn(BaseSchema):
    jury_session_id = fields.Raw(load_default=None, allow_none=True)


class BulkRegisterIn(BaseSchema):
    file_ids = fields.List(fields.Raw(), required=True, metadata={"description": "les dossiers à inscrire (au plus 500)"})
    jury_session_id = fields.Raw(load_default=None, allow_none=True)


class RegistrationOut(BaseSchema):
    file_id = fields.Integer()
    jury_session_id = fields.Integer()
    jury_date = fields.Date()
    rolled_over = fields.Boolean()


class RegistrationRefusedOut(BaseSchema):
    file_id = fields.Raw()
    status = fields.Integer(metadata={"description": "404 dossier inconnu, 409 statut ou aucune place"})
    message = fields.String()


class BulkRegistrationOut(BaseSchema):
    registered = fields.List(fields.Nested(RegistrationOut))
    refused = fields.List(fields.Nested(RegistrationRefusedOut))


class AsEvaluatedIn(BaseSchema):
    file_ids = fields.List(fields.Raw(), required=True, metadata={"description": "des dossiers de la session (au plus 500)"})


class DecidedOut(BaseSchema):
    file_id = fields.Integer()
    status = fields.String(metadata={"enum": ["valide", "partiel"]})


class AsEvaluatedOut(BaseSchema):
    decided = fields.List(fields.Nested(DecidedOut))
    refused = fields.List(fields.Nested(RegistrationRefusedOut))


class DecisionResultIn(BaseSchema):
    competence_code = fields.String(required=True)
    validated = fields.Boolean(required=True)


class DecisionIn(BaseSchema):
    results = fields.List(fields.Nested(DecisionResultIn), required=True)
    comment = fields.String(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)


class JurySessionOut(BaseSchema):
    """A jury session: seats, registration deadline (date − 21 days, R7) and state."""

    id = fields.Integer()
    date = fields.Date()
    capacity = fields.Integer()
    seats_taken = fields.Integer()
    seats_left = fields.Integer()
    registration_deadline = fields.Date()
    location = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": ["ouverte", "close", "tenue", "publiee", "annulee"]})
    published_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)


class _CompetenceCode(Schema):
    code = fields.String()


class VerificationOut(BaseSchema):
    """What anyone may know of a published parchment (valide) or attestation (partiel)."""

    number = fields.String()
    kind = fields.String(metadata={"enum": ["parchemin", "attestation"]})
    cqp_code = fields.String()
    cqp_title = fields.String()
    holder = fields.String(metadata={"description": "« Prénom N. »"})
    decision = fields.String(metadata={"enum": ["valide", "partiel"]})
    jury_date = fields.Date()
    competences_validated = fields.Pluck(_CompetenceCode, "code", many=True)
    version = fields.Integer(metadata={"description": "version en vigueur du document (1 à la décision, + 1 à "
                                                      "chaque rectification, même numéro)"})
    issued_at = fields.Function(
        lambda v: _rfc3339(v.issued_at),
        metadata={"type": "string", "format": "date-time",
                  "description": "délivrance de la version en vigueur (RFC 3339, avec décalage)"})


def _rfc3339(value) -> str | None:
    """A naive UTC timestamp as RFC 3339 with the offset of Paris."""
    return value.replace(tzinfo=UTC).astimezone(PARIS).isoformat(timespec="seconds") if value else None


class RecordedCompetenceOut(Schema):
    code = fields.String()
    label = fields.String()
    validated = fields.Boolean()


class HolderOut(Schema):
    first_name = fields.String()
    last_name = fields.String(metadata={"description": "nom de naissance"})
    usage_name = fields.String(allow_none=True)
    other_first_names = fields.List(fields.String())
    birth_date = fields.String(allow_none=True, metadata={"format": "date"})
    sex = fields.String(allow_none=True, metadata={"enum": ["M", "F"]})
    birth_place_code = fields.String(allow_none=True)
    birth_place = fields.String(allow_none=True)
    birth_country = fields.String(allow_none=True)


class ParchmentVersionOut(BaseSchema):
    """One issue of a parchment or attestation (R15): what it says, when, by whom, why."""

    version = fields.Integer()
    kind = fields.String(metadata={"enum": ["parchemin", "attestation"]})
    issued_at = fields.Function(lambda v: _rfc3339(v.issued_at), metadata={"type": "string", "format": "date-time"})
    issued_by = fields.Function(lambda v: v.issued_by.email if v.issued_by else None,
                                metadata={"type": "string", "nullable": True})
    reason = fields.String(allow_none=True, metadata={"description": "motif ; null pour la version 1"})
    holder = fields.Nested(HolderOut)
    competences = fields.List(fields.Nested(RecordedCompetenceOut))
    cqp_code = fields.String()
    cqp_title = fields.String()
    jury_date = fields.Date()
    in_force = fields.Function(lambda v: v is v.parchment.current_version, metadata={"type": "boolean"})


class ParchmentVersionsOut(BaseSchema):
    number = fields.String()
    kind = fields.String(metadata={"enum": ["parchemin", "attestation"]})
    versions = fields.List(fields.Nested(ParchmentVersionOut))


def _session_by_id(value, field: str = "jury_session_id") -> JurySession:
    ident = as_id(str(value))  # as text: a JSON number too large for an id is refused like any other
    jury_session = db.session.get(JurySession, ident) if ident is not None else None
    if jury_session is None:
        message = f"La session de jury {value!r} n'existe pas."
        raise ValidationFailed(message, {field: [message]})
    return jury_session


def _file_answer(file):
    """The file as `file_json` shows it to the user (already JSON: not dumped again)."""
    return jsonify(file_json(file, _user()))


# ---------------------------------------------------------------- sessions


@blp.route("/jury-sessions")
class JurySessions(MethodView):
    @roles_required(AUTHENTICATED)
    @blp.response(200, JurySessionOut(many=True))
    def get(self):
        """Les sessions de jury par date, avec places prises et date limite d'inscription (date − 21 jours)."""
        return sessions.list_sessions()

    @roles_required("secretariat")
    @blp.arguments(SessionIn)
    @blp.response(201, JurySessionOut)
    def post(self, data):
        """Crée une session de jury (secrétariat)."""
        return sessions.create_session(actor=_user(), **data)


@blp.route("/jury-sessions/<session_id>")
class JurySessionItem(MethodView):
    @roles_required(AUTHENTICATED)
    @blp.response(200, JurySessionOut)
    def get(self, session_id):
        """Une session de jury."""
        try:
            return sessions.get_session(session_id)
        except NotFound as err:
            raise NotFound(err.message) from err


def _file_ids(values: list) -> list[int]:
    ids = [as_id(str(value)) for value in values]
    if not values or len(values) > 500 or None in ids:
        message = "file_ids : donnez de 1 à 500 identifiants de dossier (des entiers)."
        raise ValidationFailed(message, {"file_ids": [message]})
    return ids


@blp.route("/jury-sessions/<session_id>/decisions/as-evaluated")
class DecideAsEvaluated(MethodView):
    @roles_required("secretariat")
    @blp.arguments(AsEvaluatedIn)
    @blp.response(200, AsEvaluatedOut)
    def post(self, data, session_id):
        """Décide les dossiers donnés conformément à l'évaluation (le résultat de l'évaluateur pour chaque
        compétence), chacun tout ou rien. Refusés : un dossier déjà décidé, sans résultat pour une compétence,
        ou dont l'évaluation conclut « Non acquis » partout (à décider par `POST /files/{id}/decision`).
        409 si aucun n'est décidé."""
        jury_session = sessions.get_session(session_id)
        ids = _file_ids(data["file_ids"])
        files = {f.id: f for f in decisions.files_to_decide(jury_session)}
        refused = [{"file_id": i, "status": 404, "message": f"Le dossier {i} n'est pas inscrit à cette session."}
                   for i in dict.fromkeys(ids) if i not in files]
        decided = []
        for outcome in decisions.decide_as_evaluated([files[i] for i in dict.fromkeys(ids) if i in files], _user()):
            if outcome.error is None:
                decided.append({"file_id": outcome.file.id, "status": outcome.file.status})
            else:
                refused.append({"file_id": outcome.file.id, "status": outcome.error.status_code,
                                "message": outcome.error.message})
        if not decided:
            raise Conflict("Aucun dossier n'a été décidé.", {f"file_ids.{r['file_id']}": [r["message"]] for r in refused})
        return {"decided": decided, "refused": refused}


@blp.route("/jury-sessions/<session_id>/publish")
class PublishSession(MethodView):
    @roles_required("secretariat")
    @blp.response(200, JurySessionOut)
    def post(self, session_id):
        """Publie les résultats de la session (R10) : visibles des entreprises, qui reçoivent un email."""
        return decisions.publish_session(sessions.get_session(session_id), _user())


# ---------------------------------------------------------------- attendance and minutes (R14)


class AttendeeIn(BaseSchema):
    email = fields.String(required=True)
    college = fields.String(required=True, metadata={"enum": ["salaries", "employeurs"]})
    present = fields.Boolean(load_default=False)
    president = fields.Boolean(load_default=False)


class AttendanceIn(BaseSchema):
    members = fields.List(fields.Nested(AttendeeIn), required=True)


class AttendeeOut(BaseSchema):
    email = fields.String()
    name = fields.String()
    college = fields.String(allow_none=True, metadata={"enum": ["salaries", "employeurs", None]})
    present = fields.Boolean()
    president = fields.Boolean()


class SessionAttendanceOut(JurySessionOut):
    """A session with its attendance (R14) and what it lacks before publication."""

    attendance = fields.Function(lambda s: attendance.attendance_json(s), metadata={
        "type": "array", "items": {"type": "object"}, "description": "les membres : email, name, college, present, president"})
    attendance_missing = fields.List(fields.String(), metadata={
        "description": "ce qui manque pour publier (R14), vide quand le jury est paritaire et présidé"})


@blp.route("/jury-sessions/<session_id>/attendance")
class SessionAttendance(MethodView):
    @roles_required("secretariat")
    @blp.response(200, SessionAttendanceOut)
    def get(self, session_id):
        """La feuille de présence de la session (R14)."""
        return sessions.get_session(session_id)

    @roles_required("secretariat")
    @blp.arguments(AttendanceIn)
    @blp.response(200, SessionAttendanceOut)
    def put(self, data, session_id):
        """Enregistre la feuille de présence (R14) : les membres (rôle jury) deviennent ceux de la session, avec
        leur collège, leur présence et le président (présent, un seul). Un email inconnu ou d'un utilisateur
        qui n'est pas membre du jury : 422 qui le nomme ; session annulée ou publiée : 409."""
        lines = [attendance.Attendee(m["email"], m["college"], m["present"], m["president"]) for m in data["members"]]
        return attendance.record_attendance(sessions.get_session(session_id), lines, _user())


@blp.route("/jury-sessions/<session_id>/minutes.pdf")
class SessionMinutes(MethodView):
    @roles_required("secretariat", "jury")
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
                  description="Le procès-verbal de la session en PDF.")
    def get(self, session_id):
        """Le procès-verbal (R14) : date, lieu, membres présents par collège, président, chaque dossier (candidat,
        CQP, décision, compétences validées), signatures. Secrétariat et membres de la session ; 409 tant
        qu'un dossier inscrit n'a pas de décision."""
        jury_session = sessions.get_session(session_id)
        if not jury_session.can_view(_user()):
            raise NotFound("Cette session de jury n'existe pas.", {"jury_session_id": ["Session de jury inconnue."]})
        return pdf.as_response(minutes.minutes_pdf(jury_session), minutes.minutes_filename(jury_session))


# ---------------------------------------------------------------- a file's registration, decision, parchment


@blp.route("/files/<file_id>/register-jury")
class RegisterJury(MethodView):
    @roles_required("entreprise")
    @blp.arguments(RegisterIn)
    @blp.response(200, FileOut)
    def post(self, data, file_id):
        """Inscrit le dossier à la session demandée ou à la suivante qui a une place (R7–R8)."""
        file, requested = _file_and_session(_user(), file_id, data.get("jury_session_id"))
        return _file_answer(registration.register_to_jury(file, _user(), requested).file)


def _file_and_session(user, file_id, session_value) -> tuple:
    """The file as `get_file_for` reads it with what the answer shows (404 first), and the session asked
    (`_session_by_id`: 422 when unknown, None when none is asked), read in the file's own statement: an
    outer join on the session's id (one statement fewer per registration)."""
    loads = file_answer_loads(user)  # the answer's, in a few statements
    if session_value in (None, ""):
        return get_file_for(user, file_id, loads=loads), None
    file_ident, session_ident = as_id(file_id), as_id(str(session_value))
    if file_ident is None or session_ident is None:
        return get_file_for(user, file_id, loads=loads), _session_by_id(session_value)
    row = db.session.execute(
        CandidateFile.visible_to(user).where(CandidateFile.id == file_ident).options(*loads)
        .add_columns(JurySession).outerjoin(JurySession, JurySession.id == session_ident)).first()
    if row is None:
        get_file_for(user, file_id)  # raises the 404 it answers for a file the user may not see
    file, requested = row
    if requested is None:
        _session_by_id(session_value)  # raises the 422 of an unknown session
    return file, requested


@blp.route("/jury-registrations")
class JuryRegistrations(MethodView):
    @roles_required("entreprise", "secretariat")
    @blp.arguments(BulkRegisterIn)
    @blp.response(200, BulkRegistrationOut)
    def post(self, data):
        """Inscrit plusieurs dossiers au jury, chacun comme `register-jury` (R7–R8) et chacun tout ou rien ;
        répond qui est inscrit où et qui ne l'est pas, et pourquoi. 409 si aucun ne l'est."""
        ids = _file_ids(data["file_ids"])
        requested = _session_by_id(data["jury_session_id"]) if data.get("jury_session_id") not in (None, "") else None
        files = registration.files_to_register(_user(), ids)
        found = {f.id for f in files}
        refused = [{"file_id": i, "status": 404, "message": f"Le dossier {i} n'existe pas."}
                   for i in dict.fromkeys(ids) if i not in found]
        registered = []
        for placement in registration.register_many(files, _user(), requested):
            if placement.error is None:
                placed = placement.registration
                registered.append({"file_id": placement.file.id, "jury_session_id": placed.jury_session.id,
                                   "jury_date": placed.jury_session.date, "rolled_over": placed.rolled_over})
            else:
                refused.append({"file_id": placement.file.id, "status": placement.error.status_code,
                                "message": placement.error.message})
        if not registered:
            raise Conflict("Aucun dossier n'a pu être inscrit au jury.",
                           {f"file_ids.{r['file_id']}": [r["message"]] for r in refused})
        return {"registered": registered, "refused": refused}


@blp.route("/files/<file_id>/unregister-jury")
class UnregisterJury(MethodView):
    @roles_required("entreprise", "secretariat")
    @blp.response(200, FileOut)
    def post(self, file_id):
        """Désinscrit le dossier du jury avant la date limite ; la place est libérée."""
        file = get_file_for(_user(), file_id)
        return _file_answer(registration.unregister_from_jury(file, _user()))


@blp.route("/files/<file_id>/decision")
class FileDecision(MethodView):
    @roles_required("secretariat")
    @blp.arguments(DecisionIn)
    @blp.response(200, FileOut)
    def post(self, data, file_id):
        """Enregistre (ou corrige avant publication) la décision du jury par compétence (R9). Après
        publication, `reason` rectifie la décision en gardant l'ancienne dans l'historique."""
        file = get_file_for(_user(), file_id)
        results = decisions.results_from_codes(file, data["results"])
        decisions.record_decision(file, _user(), results, comment=data.get("comment"), reason=data.get("reason"))
        return _file_answer(file)


@blp.route("/files/<file_id>/parchment.pdf")
class ParchmentPdf(MethodView):
    @roles_required("secretariat", "entreprise")
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
                  description="Le parchemin (valide) ou l'attestation (partiel) en PDF.")
    def get(self, file_id):
        """Le parchemin (valide) ou l'attestation (partiel) en PDF ; 409 sinon."""
        data, filename = parchments.download_parchment(get_file_for(_user(), file_id), _user())
        return pdf.as_response(data, filename)


@blp.route("/files/<file_id>/parchment/versions")
class ParchmentVersions(MethodView):
    @roles_required("secretariat")
    @blp.response(200, ParchmentVersionsOut)
    def get(self, file_id):
        """Les versions du parchemin ou de l'attestation du dossier (R15), de la première à celle en vigueur :
        identité du titulaire, décision par compétence, date, auteur et motif ; 404 sans document."""
        file = get_file_for(_user(), file_id)
        if file.parchment is None:
            raise NotFound("Ce dossier n'a ni parchemin ni attestation.", {"file_id": ["Aucun document."]})
        return file.parchment


# ---------------------------------------------------------------- public verification


@blp.route("/verify/<number>")
class Verify(MethodView):
    @public
    @limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"])
    @blp.response(200, VerificationOut)
    def get(self, number):
        """Vérification publique d'un numéro de parchemin (sans jeton)."""
        verification = parchments.verify_number(number)
        if verification is None:
            raise NotFound("Numéro inconnu : aucun parchemin ni attestation publié ne porte ce numéro.",
                           {"number": ["Numéro inconnu."]})
        return verification
