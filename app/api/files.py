"""API resources of the files area (see shared/API.md): candidates, files, documents, evaluation."""

from __future__ import annotations

from flask import jsonify, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.api.schemas import BaseSchema
from app.core.permissions import public, roles_required
from app.core.uploads import serve_document
from app.files import access, candidates, evaluation, services
from app.files.models import DOCUMENT_KINDS, STATUS_LABELS, CandidateFile, FileStatus

blp = Blueprint("api_files", __name__, description="Candidats, dossiers, documents, évaluation")



def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def decision_payload(file: CandidateFile, viewer) -> dict | None:
    """{"status", "results": [{competence_code, validated}], "parchment_number", "comment"} or None (R10)."""
    decision = file.decision
    if not file.is_decided or decision is None or not file.decision_visible_to(viewer):
        return None
    parchment = file.parchment
    return {
        "status": decision.status,
        "results": [
            {"competence_code": r.competence.code, "validated": r.validated}
            for r in sorted(decision.results, key=lambda r: r.competence.position)
        ],
        "parchment_number": parchment.number if parchment and (file.is_published or viewer.is_secretariat) else None,
        "comment": decision.comment,
    }


def _history(file: CandidateFile, viewer) -> list[dict]:
    rows = []
    for change in file.visible_history_for(viewer):
        rows.append({
            "from": change.from_status,
            "to": change.to_status,
            "event": change.event,
            "at": _iso(change.at),
            "by": change.actor.full_name if change.actor is not None else None,
        })
    return rows


def file_json(file: CandidateFile, viewer) -> dict:
    """A file as API.md shows it, as `viewer` may see it (R10: unpublished decisions hidden)."""
    status = file.visible_status_for(viewer)
    session = file.jury_session
    return {
        "id": file.id,
        "status": status,
        "status_label": STATUS_LABELS[FileStatus(status)],
        "candidate": {
            "id": file.candidate.id,
            "first_name": file.candidate.first_name,
            "last_name": file.candidate.last_name,
        },
        "establishment": {"siret": file.establishment.siret, "name": file.establishment.name},
        "cqp": {"code": file.cqp.code, "title": file.cqp.title},
        "competences": [{"code": c.code, "title": c.title} for c in file.competences],
        "assessor": {"id": file.assessor.id, "name": file.assessor.name} if file.assessor else None,
        "interview_date": _iso(file.interview_date),
        "jury_session": {"id": session.id, "date": _iso(session.date)} if session else None,
        "rolled_over": bool(file.rolled_over),
        "decision": decision_payload(file, viewer),
        "history": _history(file, viewer),
        # Extensions (API.md allows them): what POST/PATCH /files accept, read back.
        "training_path": file.training_path,
        "training_scheme": file.training_scheme,
        "training_org_siret": file.training_org_siret,
        "planned_interview_date": _iso(file.planned_interview_date),
        "assessor_confirmed_on": _iso(file.assessor_confirmed_on),
        "withdraw_reason": file.withdraw_reason,
    }


# ---------------------------------------------------------------- schemas


class CandidateIn(BaseSchema):
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    birth_date = fields.Date(required=True)
    birth_place = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True)
    job_title = fields.String(load_default=None, allow_none=True)
    highest_diploma = fields.String(load_default=None, allow_none=True)


class FilePatch(BaseSchema):
    cqp_code = fields.String()
    competence_codes = fields.List(fields.String())
    training_path = fields.String(allow_none=True)
    training_scheme = fields.String(allow_none=True)
    training_org_siret = fields.String(allow_none=True)
    assessor_id = fields.Integer(allow_none=True, strict=False)
    interview_date = fields.Date(allow_none=True)


class FileIn(FilePatch):
    candidate_id = fields.Integer(required=True, strict=False)
    cqp_code = fields.String(required=True)
    competence_codes = fields.List(fields.String(), required=True)
    training_path = fields.String(required=True)
    training_scheme = fields.String(required=True)


class FileQuery(BaseSchema):
    status = fields.String(load_default=None)
    cqp = fields.String(load_default=None)
    q = fields.String(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, error="Doit être supérieur ou égal à 1."))
    per_page = fields.Integer(load_default=20, validate=validate.Range(
        min=1, max=100, error="Doit être compris entre 1 et 100."))


class ConfirmAssessorIn(BaseSchema):
    assessor_id = fields.Integer(load_default=None, allow_none=True, strict=False)
    interview_date = fields.Date(load_default=None, allow_none=True)


class JobAssessorInvitationIn(BaseSchema):
    email = fields.String(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)


class ObservationIn(BaseSchema):
    competence_code = fields.String(required=True)
    comment = fields.String(required=True)


class ObservationsIn(BaseSchema):
    observations = fields.List(fields.Nested(ObservationIn), required=True)
    general_comment = fields.String(load_default=None, allow_none=True)


class ResultIn(BaseSchema):
    competence_code = fields.String(required=True)
    acquired = fields.Boolean(load_default=None, allow_none=True)
    comment = fields.String(load_default=None, allow_none=True)


class EvaluationIn(BaseSchema):
    interview_date = fields.Date(required=True)
    results = fields.List(fields.Nested(ResultIn), load_default=list)
    candidate_observations = fields.String(load_default=None, allow_none=True)


class WithdrawIn(BaseSchema):
    reason = fields.String(required=True)


# ---------------------------------------------------------------- response shapes (for the OpenAPI description;
# the handlers build the JSON with file_json & co, the one source of the shape)


class CandidateRef(BaseSchema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()


class EstablishmentRef(BaseSchema):
    siret = fields.String()
    name = fields.String()


class CodeTitle(BaseSchema):
    code = fields.String()
    title = fields.String()


class AssessorRef(BaseSchema):
    id = fields.Integer()
    name = fields.String()


class SessionRef(BaseSchema):
    id = fields.Integer()
    date = fields.Date()


class HistoryOut(BaseSchema):
    from_ = fields.String(data_key="from", allow_none=True)
    to = fields.String()
    event = fields.String()
    at = fields.DateTime()
    by = fields.String(allow_none=True)


class FileOut(BaseSchema):
    id = fields.Integer()
    status = fields.String()
    status_label = fields.String()
    candidate = fields.Nested(CandidateRef)
    establishment = fields.Nested(EstablishmentRef)
    cqp = fields.Nested(CodeTitle)
    competences = fields.List(fields.Nested(CodeTitle))
    assessor = fields.Nested(AssessorRef, allow_none=True)
    interview_date = fields.Date(allow_none=True)
    jury_session = fields.Nested(SessionRef, allow_none=True)
    rolled_over = fields.Boolean()
    decision = fields.Dict(allow_none=True)
    history = fields.List(fields.Nested(HistoryOut))
    training_path = fields.String(allow_none=True)
    training_scheme = fields.String(allow_none=True)
    training_org_siret = fields.String(allow_none=True)
    planned_interview_date = fields.Date(allow_none=True)
    assessor_confirmed_on = fields.Date(allow_none=True)
    withdraw_reason = fields.String(allow_none=True)


class FilePageOut(BaseSchema):
    items = fields.List(fields.Nested(FileOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class CandidateOut(CandidateIn):
    id = fields.Integer()
    establishment = fields.Nested(EstablishmentRef)
    file_ids = fields.List(fields.Integer())


class DocumentOut(BaseSchema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    size = fields.Integer()
    content_type = fields.String()
    uploaded_at = fields.DateTime()


class InvitationOut(BaseSchema):
    id = fields.Integer()
    file_id = fields.Integer()
    email = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    expires_at = fields.DateTime()


class ObservationsOut(BaseSchema):
    file_id = fields.Integer()
    submitted_at = fields.DateTime()
    observations = fields.List(fields.Nested(ObservationIn))
    general_comment = fields.String(allow_none=True)


class EvaluationOut(BaseSchema):
    file_id = fields.Integer()
    interview_date = fields.Date(allow_none=True)
    results = fields.List(fields.Nested(ResultIn))
    candidate_observations = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    comments_notified_at = fields.DateTime(allow_none=True)


# ---------------------------------------------------------------- payloads


def candidate_json(candidate) -> dict:
    return {
        "id": candidate.id,
        "first_name": candidate.first_name,
        "last_name": candidate.last_name,
        "birth_date": _iso(candidate.birth_date),
        "birth_place": candidate.birth_place,
        "email": candidate.email,
        "phone": candidate.phone,
        "address": candidate.address,
        "job_title": candidate.job_title,
        "highest_diploma": candidate.highest_diploma,
        "establishment": {"siret": candidate.establishment.siret, "name": candidate.establishment.name},
        "file_ids": [f.id for f in candidate.files],
    }


def document_json(document) -> dict:
    return {"id": document.id, "kind": document.kind, "filename": document.filename, "size": document.size,
            "content_type": document.content_type, "uploaded_at": _iso(document.uploaded_at)}


def evaluation_json(evaluation) -> dict:
    file = evaluation.file
    results = {r.competence_id: r for r in evaluation.results}
    return {
        "file_id": file.id,
        "interview_date": _iso(evaluation.interview_date),
        "results": [{
            "competence_code": c.code,
            "acquired": results[c.id].acquired if c.id in results else None,
            "comment": results[c.id].comment if c.id in results else None,
        } for c in file.competences],
        "candidate_observations": evaluation.candidate_observations,
        "submitted_at": _iso(evaluation.submitted_at),
        "comments_notified_at": _iso(evaluation.comments_notified_at),
    }


def _me():
    return current_user._get_current_object()


def _json(payload: dict, status: int = 200):
    response = jsonify(payload)
    response.status_code = status
    return response


# ---------------------------------------------------------------- candidates


@blp.route("/candidates")
class Candidates(MethodView):
    @roles_required("entreprise")
    @blp.arguments(CandidateIn)
    @blp.response(201, CandidateOut)
    def post(self, data):
        """Crée un candidat dans l'établissement (doublon nom + prénom + date de naissance : 409, R12)."""
        candidate = candidates.create_candidate(_me().establishment, _me(), **data)
        return _json(candidate_json(candidate), 201)


@blp.route("/candidates/<int:candidate_id>")
class CandidateItem(MethodView):
    @roles_required("entreprise", "secretariat", "candidat")
    @blp.response(200, CandidateOut)
    def get(self, candidate_id):
        """Un candidat (l'entreprise qui l'a créé, le candidat lui-même, le secrétariat)."""
        return _json(candidate_json(access.get_candidate_for(_me(), candidate_id)))


# ---------------------------------------------------------------- files


@blp.route("/files")
class Files(MethodView):
    @roles_required("entreprise", "evaluateur", "candidat", "secretariat", "jury")
    @blp.arguments(FileQuery, location="query")
    @blp.response(200, FilePageOut)
    def get(self, args):
        """Les dossiers visibles par l'utilisateur, filtrés par statut et CQP, paginés."""
        page = access.search_files(_me(), status=args["status"], cqp=args["cqp"], q=args["q"],
                                     page=args["page"], per_page=args["per_page"])
        return _json({"items": [file_json(f, _me()) for f in page.items], "total": page.total,
                      "page": page.page, "per_page": page.per_page})

    @roles_required("entreprise")
    @blp.arguments(FileIn)
    @blp.response(201, FileOut)
    def post(self, data):
        """Crée une candidature (statut en_cours_inscription)."""
        candidate = access.get_candidate_for(_me(), data.pop("candidate_id"), field="candidate_id")
        file = services.create_file(candidate, _me(), **data)
        return _json(file_json(file, _me()), 201)


@blp.route("/files/<int:file_id>")
class FileItem(MethodView):
    @roles_required("entreprise", "evaluateur", "candidat", "secretariat", "jury")
    @blp.response(200, FileOut)
    def get(self, file_id):
        """Un dossier, avec son historique."""
        return _json(file_json(access.get_file_for(_me(), file_id), _me()))

    @roles_required("entreprise")
    @blp.arguments(FilePatch)
    @blp.response(200, FileOut)
    def patch(self, data, file_id):
        """Modifie la candidature tant qu'elle est en cours d'inscription (409 ensuite)."""
        file = access.get_file_for(_me(), file_id)
        return _json(file_json(services.update_file(file, _me(), **data), _me()))


@blp.route("/files/<int:file_id>/documents")
class FileDocuments(MethodView):
    @roles_required("entreprise", "candidat", "evaluateur")
    @blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["kind", "file"],
        "properties": {"kind": {"type": "string", "enum": list(DOCUMENT_KINDS)},
                       "file": {"type": "string", "format": "binary"}}}}}})
    @blp.response(201, DocumentOut)
    def post(self, file_id):
        """Dépose un document (PDF, PNG ou JPEG vérifié par son contenu, 10 Mo au maximum)."""
        file = access.get_file_for(_me(), file_id)
        document = services.upload_document(_me(), kind=(request.form.get("kind") or "").strip(),
                                            upload=request.files.get("file"), candidate=file.candidate, file=file)
        return _json(document_json(document), 201)


@blp.route("/files/<int:file_id>/documents/<int:document_id>")
class FileDocument(MethodView):
    @roles_required("entreprise", "evaluateur", "candidat", "secretariat", "jury")
    @blp.response(200, content_type="application/octet-stream")
    def get(self, file_id, document_id):
        """Le contenu d'un document du dossier."""
        file = access.get_file_for(_me(), file_id)
        return serve_document(access.get_document_for(_me(), document_id, file=file))


@blp.route("/files/<int:file_id>/confirm-assessor")
class ConfirmAssessor(MethodView):
    @roles_required("entreprise")
    @blp.arguments(ConfirmAssessorIn)
    @blp.response(200, FileOut)
    def post(self, data, file_id):
        """Confirme l'évaluateur (R2) : le dossier passe en attente d'évaluation, l'évaluateur est prévenu."""
        file = access.get_file_for(_me(), file_id)
        return _json(file_json(services.confirm_assessor(file, _me(), **data), _me()))


@blp.route("/files/<int:file_id>/job-assessor-invitations")
class JobAssessorInvitations(MethodView):
    @roles_required("evaluateur")
    @blp.arguments(JobAssessorInvitationIn)
    @blp.response(201, InvitationOut)
    def post(self, data, file_id):
        """Invite l'évaluateur métier (R3) : lien à usage unique valable 30 jours, envoyé par email."""
        file = access.get_file_for(_me(), file_id)
        invitation, _token = evaluation.invite_job_assessor(file, _me(), **data)
        return _json({"id": invitation.id, "file_id": file.id, "email": invitation.email,
                      "first_name": invitation.first_name, "last_name": invitation.last_name,
                      "expires_at": _iso(invitation.expires_at)}, 201)


@blp.route("/invitations/<token>/observations")
class JobAssessorObservations(MethodView):
    @public
    @blp.arguments(ObservationsIn)
    @blp.response(200, ObservationsOut)
    @blp.doc(security=[])
    def post(self, data, token):
        """Observations de l'évaluateur métier, authentifiées par le lien lui-même (usage unique : 410 ensuite)."""
        observations = {o["competence_code"]: o["comment"] for o in data["observations"]}
        invitation = evaluation.submit_job_assessor_observations(token, observations, data["general_comment"])
        return _json({"file_id": invitation.file_id, "submitted_at": _iso(invitation.used_at),
                      "observations": [{"competence_code": o.competence.code, "comment": o.comment}
                                       for o in invitation.observations],
                      "general_comment": invitation.general_comment})


@blp.route("/files/<int:file_id>/evaluation")
class FileEvaluation(MethodView):
    @roles_required("evaluateur")
    @blp.arguments(EvaluationIn)
    @blp.response(200, EvaluationOut)
    def put(self, data, file_id):
        """Enregistre le brouillon de l'évaluation (fenêtre R5 : jour de l'entretien à J+8)."""
        file = access.get_file_for(_me(), file_id)
        return _json(evaluation_json(evaluation.save_evaluation(file, _me(), **data)))


@blp.route("/files/<int:file_id>/submit-evaluation")
class SubmitEvaluation(MethodView):
    @roles_required("evaluateur")
    @blp.response(200, FileOut)
    def post(self, file_id):
        """Transmet l'évaluation (R3, R5, R6) : le dossier passe en validation de l'évaluation."""
        file = access.get_file_for(_me(), file_id)
        return _json(file_json(evaluation.submit_evaluation(file, _me()), _me()))


@blp.route("/files/<int:file_id>/withdraw")
class Withdraw(MethodView):
    @roles_required("entreprise", "secretariat")
    @blp.arguments(WithdrawIn)
    @blp.response(200, FileOut)
    def post(self, data, file_id):
        """Abandon du dossier, avec son motif."""
        file = access.get_file_for(_me(), file_id)
        return _json(file_json(services.withdraw(file, _me(), data["reason"]), _me()))
