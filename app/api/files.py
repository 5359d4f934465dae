"""API resources of the files area (docs/api.md): files, documents, evaluation. The candidates' resources
are in app/api/candidates.py, on this blueprint."""

from __future__ import annotations

from datetime import datetime

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.api.exchanges import CorrectionOut
from app.api.schemas import (
    BaseSchema,
    CodeTitle,
    ComputedDate,
    ComputedNested,
    ComputedString,
    dump_for,
    one_of,
    viewer,
)
from app.core import audit
from app.core.clock import now
from app.core.permissions import public, roles_required
from app.core.uploads import serve_document
from app.extensions import db
from app.files import access, carry_over, evaluation, services
from app.files.models import (
    DOCUMENT_KINDS,
    STATUS_LABELS,
    TRAINING_PATHS,
    TRAINING_SCHEMES,
    CandidateFile,
    FileStatus,
    JobAssessorInvitation,
    StatusChange,
)
from app.files.progress import missing_items, next_action
from app.jury.models import Decision, DecisionResult
from app.referential import quiforme
from app.referential.training_org_models import describe as describe_training_org

blp = Blueprint("api_files", __name__, description="Candidats, dossiers, documents, évaluation")

_f = CandidateFile
# What FileOut shows besides a list line (access.FILE_LINE): the history and its actors, the decision
# and its results, the parchment.
BEYOND_A_LINE = (
    selectinload(_f.history).joinedload(StatusChange.actor), joinedload(_f.parchment), joinedload(_f.training_org),
    joinedload(_f.decision).selectinload(Decision.results).joinedload(DecisionResult.competence),
    selectinload(_f.open_correction_request),
)


# What a listed file comes with: its line, the competences and carried ones that FileOut shows of every file,
# and beyond; what only the checks of its first two steps read (access.STEP_CHECKS), for the files at them.
LISTED = (*access.LINE_EVERY_STEP, selectinload(_f.competences), selectinload(_f.carried_competences), *BEYOND_A_LINE)


def file_answer_loads(user) -> tuple:
    """What FileOut shows of a file to `user`: its line (what it waits for, too) and beyond."""
    return access.for_viewer((*access.FILE_LINE, *BEYOND_A_LINE), user)


def load_beyond_a_line(files: list[CandidateFile]) -> None:
    """Loads what FileOut shows of these listed files beyond their line: one query per relationship,
    whatever their number, instead of one per file and relationship."""
    if files:
        db.session.scalars(select(_f).where(_f.id.in_([f.id for f in files])).options(*BEYOND_A_LINE)).all()


# ---------------------------------------------------------------- schemas


_TRAINING_PATH = one_of(TRAINING_PATHS, "Le parcours de formation (training_path)")
_TRAINING_SCHEME = one_of(TRAINING_SCHEMES, "Le dispositif de formation (training_scheme)")


class FilePatch(BaseSchema):
    class Meta(BaseSchema.Meta):
        model = CandidateFile  # the strings' lengths are its columns'

    cqp_code = fields.String(validate=validate.Length(max=32, error="{max} caractères au plus."))
    competence_codes = fields.List(fields.String(validate=validate.Length(max=32, error="{max} caractères au plus.")))
    training_path = fields.String(allow_none=True, validate=_TRAINING_PATH)
    training_scheme = fields.String(allow_none=True, validate=_TRAINING_SCHEME)
    training_org_siret = fields.String(allow_none=True)
    assessor_id = fields.Integer(allow_none=True, strict=False)
    interview_date = fields.Date(allow_none=True)


class FileIn(FilePatch):
    candidate_id = fields.Integer(required=True, strict=False)
    cqp_code = fields.String(required=True)
    competence_codes = fields.List(fields.String(), required=True)
    training_path = fields.String(required=True, validate=_TRAINING_PATH)
    training_scheme = fields.String(required=True, validate=_TRAINING_SCHEME)


class FileQuery(BaseSchema):
    status = fields.String(load_default=None, validate=one_of([s.value for s in FileStatus], "Le statut (status)"))
    cqp = fields.String(load_default=None, validate=validate.Length(max=32, error="{max} caractères au plus."))
    q = fields.String(load_default=None, validate=validate.Length(max=200, error="{max} caractères au plus."))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, error="Doit être supérieur ou égal à 1."))
    per_page = fields.Integer(load_default=20, validate=validate.Range(
        min=1, max=100, error="Doit être compris entre 1 et 100."))
    after = fields.String(load_default=None, validate=validate.Length(max=500, error="{max} caractères au plus."),
                          metadata={"description": "curseur `next_after` de la page précédente : la page suivante "
                                                   "sans parcourir les précédentes (page est alors ignoré)"})


class ConfirmAssessorIn(BaseSchema):
    assessor_id = fields.Integer(load_default=None, allow_none=True, strict=False)
    interview_date = fields.Date(load_default=None, allow_none=True)


class JobAssessorInvitationIn(BaseSchema):
    class Meta(BaseSchema.Meta):
        model = JobAssessorInvitation

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


# ---------------------------------------------------------------- answers (what @blp.response dumps, and the
# OpenAPI description shows)


class CandidateRef(BaseSchema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()


class EstablishmentRef(BaseSchema):
    siret = fields.String()
    name = fields.String()


class AssessorRef(BaseSchema):
    id = fields.Integer()
    name = fields.String()


class SessionRef(BaseSchema):
    id = fields.Integer()
    date = fields.Date()


class HistoryOut(BaseSchema):
    from_ = fields.String(attribute="from_status", data_key="from", allow_none=True)
    to = fields.String(attribute="to_status")
    event = fields.String()
    at = fields.DateTime()
    by = ComputedString(allow_none=True, compute=lambda change: change.actor.full_name if change.actor else None)


class DecisionResultOut(BaseSchema):
    competence_code = fields.String(attribute="competence.code")
    competence_title = fields.String(attribute="competence.title")
    validated = fields.Boolean()


def _parchment_number_seen(decision) -> str | None:
    """The number is the secretariat's at once, everyone else's once the session is published (R10, R11)."""
    file, parchment = decision.file, decision.file.parchment
    return parchment.number if parchment and (file.is_published or viewer().is_secretariat) else None


class DecisionOut(BaseSchema):
    status = fields.String()
    results = ComputedNested(DecisionResultOut, many=True, compute=lambda decision: sorted(
        decision.results, key=lambda result: result.competence.position))
    parchment_number = ComputedString(allow_none=True, compute=_parchment_number_seen)
    comment = fields.String(allow_none=True)


def _decision_seen(file: CandidateFile):
    """The decision once `viewer()` may see it (R10), else None."""
    decision = file.decision
    if not file.is_decided or decision is None or not file.decision_visible_to(viewer()):
        return None
    return decision


class NextActionOut(BaseSchema):
    """What the file waits for, from whom, since when (files.progress.next_action), told to the viewer."""

    waiting_for = fields.String(metadata={"description": "« vous » quand c'est au lecteur d'agir"})
    action = fields.String()
    since = ComputedDate(allow_none=True, compute=lambda action: action.since.date()
                         if isinstance(action.since, datetime) else action.since)
    yours = fields.Boolean()
    text = fields.String()
    missing = fields.List(fields.String(), metadata={"description": "ce qui manque encore à l'étape attendue"})


class MissingOut(BaseSchema):
    """One kind of item the file's step still lacks (files.progress.missing_items), and who must act."""

    who = fields.String(metadata={"description": "« vous », « l'entreprise », « l'évaluateur habilité » ou "
                                                "« l'évaluateur métier »"})
    text = fields.String()


def _missing_seen(file: CandidateFile) -> list:
    """What the step lacks, as « Ce qu'il manque » on the file page (nothing while a decision is hidden)."""
    return missing_items(file, viewer()) if file.visible_status_for(viewer()) == file.status else []


class CpfOut(BaseSchema):
    """R16: where a `valide` holder stands with the CPF register (secretariat only)."""

    status = fields.String(metadata={"enum": ["a_transmettre", "transmis", "accepte", "rejete"]})
    deadline = fields.String(metadata={"description": "date du jury + 3 mois (YYYY-MM-DD)"})
    error = fields.String(allow_none=True)


def _cpf_seen(file: CandidateFile):
    from app.jury.cdc import cpf_of_file

    return cpf_of_file(file) if getattr(viewer(), "is_secretariat", False) else None


class AcquiredOut(BaseSchema):
    """R13: a competence the file carries from an earlier jury's published partial decision."""

    code = fields.String()
    jury_date = fields.Date()
    valid_until = fields.Date()


def _acquired_of(file: CandidateFile) -> list[dict]:
    return [{"code": row.competence.code, "jury_date": row.jury_date, "valid_until": row.valid_until}
            for row in carry_over.counted(file)]


class TrainingOrgRef(BaseSchema):
    """The training organisation of a file's SIRET, as the public list (or the Carif-Oref API) knows it."""

    siret = fields.String()
    name = fields.String(allow_none=True)
    warning = fields.String(allow_none=True, metadata={
        "description": "pas de certification Qualiopi « actions de formation », NDA inactif ou SIRET inconnu de la "
                       "liste publique (jamais bloquant)"})


class FileOut(BaseSchema):
    """A file as docs/api.md shows it, as the viewer may see it (R10: an unpublished decision is hidden, the
    file shown in « Inscription au jury »)."""

    id = fields.Integer()
    status = ComputedString(compute=lambda file: file.visible_status_for(viewer()),
                            metadata={"enum": [s.value for s in FileStatus]})
    status_label = ComputedString(compute=lambda file: STATUS_LABELS[FileStatus(file.visible_status_for(viewer()))])
    candidate = fields.Nested(CandidateRef)
    establishment = fields.Nested(EstablishmentRef)
    cqp = fields.Nested(CodeTitle)
    competences = fields.Nested(CodeTitle, many=True)
    assessor = fields.Nested(AssessorRef, allow_none=True)
    interview_date = fields.Date(allow_none=True)
    jury_session = fields.Nested(SessionRef, allow_none=True)
    rolled_over = fields.Boolean()
    decision = ComputedNested(DecisionOut, allow_none=True, compute=_decision_seen)
    history = ComputedNested(HistoryOut, many=True, compute=lambda file: file.visible_history_for(viewer()))
    # Extensions (docs/api.md allows them): what POST/PATCH /files accept, read back.
    training_path = fields.String(allow_none=True)
    training_scheme = fields.String(allow_none=True)
    training_org_siret = fields.String(allow_none=True)
    planned_interview_date = fields.Date(allow_none=True)
    assessor_confirmed_on = fields.Date(allow_none=True)
    withdraw_reason = fields.String(allow_none=True)
    next_action = ComputedNested(NextActionOut, allow_none=True, compute=lambda file: next_action(file, viewer()))
    missing = ComputedNested(MissingOut, many=True, compute=_missing_seen)
    cpf = ComputedNested(CpfOut, allow_none=True, compute=_cpf_seen)
    training_org = ComputedNested(TrainingOrgRef, allow_none=True, compute=lambda file: describe_training_org(
        file.training_org_siret, file.training_org))
    # « Exchanges on a file »: the correction request waiting for the company's answer (null when none).
    correction_request = ComputedNested(CorrectionOut, allow_none=True,
                                        compute=lambda file: file.open_correction_request)
    acquired_competences = ComputedNested(AcquiredOut, many=True, compute=_acquired_of)


class FilePageOut(BaseSchema):
    items = fields.Nested(FileOut, many=True)
    total = fields.Integer()
    page = fields.Integer(allow_none=True, metadata={"description": "null pour une page lue par curseur (after)"})
    per_page = fields.Integer()
    next_after = fields.String(attribute="next_cursor", allow_none=True, metadata={
        "description": "curseur de la page suivante (?after=…), null sur la dernière page"})


_FILE_OUT = FileOut()


def file_json(file: CandidateFile, viewer) -> dict:
    """A file as docs/api.md shows it, as `viewer` may see it (the jury's API answers files too). One FileOut
    for every call, as `@blp.response` keeps one per endpoint: building it costs more than dumping a file."""
    return dump_for(viewer, _FILE_OUT, file)


class DocumentOut(BaseSchema):
    id = fields.Integer()
    kind = fields.String()
    filename = fields.String()
    size = fields.Integer()
    content_type = fields.String()
    uploaded_at = fields.DateTime()


def _invitation_state(invitation) -> str:
    """Where one job-assessor invitation stands (docs/api.md)."""
    if invitation.used_at is not None:
        return "observations_recues"
    if invitation.replaced_at is not None:
        return "remplacee"
    return "expiree" if invitation.expires_at <= now() else "en_attente"


class InvitationOut(BaseSchema):
    id = fields.Integer()
    file_id = fields.Integer()
    email = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    used_at = fields.DateTime(allow_none=True)
    replaced_at = fields.DateTime(allow_none=True)
    state = ComputedString(compute=_invitation_state, metadata={
        "enum": ["en_attente", "expiree", "remplacee", "observations_recues"]})


class ObservationOut(BaseSchema):
    competence_code = fields.String(attribute="competence.code")
    comment = fields.String()


class ObservationsOut(BaseSchema):
    """A spent job-assessor invitation: its observations."""

    file_id = fields.Integer()
    submitted_at = fields.DateTime(attribute="used_at")
    observations = fields.Nested(ObservationOut, many=True)
    general_comment = fields.String(allow_none=True)


class ResultOut(BaseSchema):
    competence_code = fields.String()
    acquired = fields.Boolean(allow_none=True)
    comment = fields.String(allow_none=True)


def _results_per_competence(evaluation) -> list[dict]:
    """One line per competence of the file, in its order, empty where nothing is entered yet."""
    lines = []
    for competence in evaluation.file.competences:
        result = evaluation.result_for(competence)
        lines.append({"competence_code": competence.code, "acquired": result.acquired if result else None,
                      "comment": result.comment if result else None})
    return lines


class EvaluationOut(BaseSchema):
    file_id = fields.Integer()
    interview_date = fields.Date(allow_none=True)
    results = ComputedNested(ResultOut, many=True, compute=_results_per_competence)
    candidate_observations = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    comments_notified_at = fields.DateTime(allow_none=True)

def _me():
    return current_user._get_current_object()


# ---------------------------------------------------------------- files


@blp.route("/files")
class Files(MethodView):
    @roles_required("entreprise", "evaluateur", "candidat", "secretariat", "jury")
    @blp.arguments(FileQuery, location="query")
    @blp.response(200, FilePageOut)
    def get(self, args):
        """Les dossiers visibles par l'utilisateur, filtrés par statut et CQP, paginés."""
        page = access.search_files(_me(), status=args["status"], cqp=args["cqp"], q=args["q"],
                                   page=args["page"], per_page=args["per_page"], after=args["after"],
                                   cursor_field="after", loads=LISTED, checks=access.STEP_CHECKS)
        if _me().is_secretariat:
            from app.jury.cdc import preload_cpf

            preload_cpf(page.items)  # the CPF status of each valide file in one statement
        audit.record_read("GET /api/v1/files", *(f.candidate_id for f in page.items))
        return page

    @roles_required("entreprise")
    @blp.arguments(FileIn)
    @blp.response(201, FileOut)
    def post(self, data):
        """Crée une candidature (statut en_cours_inscription)."""
        candidate = access.get_candidate_for(_me(), data.pop("candidate_id"), field="candidate_id")
        return services.create_file(candidate, _me(), **data)


@blp.route("/files/<int:file_id>")
class FileItem(MethodView):
    @roles_required("entreprise", "evaluateur", "candidat", "secretariat", "jury")
    @blp.response(200, FileOut)
    def get(self, file_id):
        """Un dossier, avec son historique."""
        file = access.get_file_for(_me(), file_id, loads=file_answer_loads(_me()))
        audit.record_read("GET /api/v1/files/{id}", file.candidate_id)
        quiforme.refresh(file.training_org_siret)
        return file

    @roles_required("entreprise")
    @blp.arguments(FilePatch)
    @blp.response(200, FileOut)
    def patch(self, data, file_id):
        """Modifie la candidature tant qu'elle est en cours d'inscription (409 ensuite)."""
        return services.update_file(access.get_file_for(_me(), file_id), _me(), **data)


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
        return services.upload_document(_me(), kind=(request.form.get("kind") or "").strip(),
                                        upload=request.files.get("file"), candidate=file.candidate, file=file)


@blp.route("/files/<int:file_id>/documents/<int:document_id>")
class FileDocument(MethodView):
    @roles_required("entreprise", "evaluateur", "candidat", "secretariat", "jury")
    @blp.response(200, content_type="application/octet-stream")
    def get(self, file_id, document_id):
        """Le contenu d'un document du dossier (ou d'un diplôme de la fiche du candidat, qui sert au dossier)."""
        return serve_document(services.document_of_file(access.get_file_for(_me(), file_id), document_id))

    @roles_required("entreprise", "candidat", "evaluateur")
    @blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}})
    @blp.response(200, DocumentOut)
    def put(self, file_id, document_id):
        """Remplace le fichier d'un document tant que l'étape qui l'utilise n'est pas franchie (409 ensuite)."""
        document = services.document_of_file(access.get_file_for(_me(), file_id), document_id)
        return services.replace_document(document, _me(), request.files.get("file"))

    @roles_required("entreprise", "candidat", "evaluateur")
    @blp.response(204)
    def delete(self, file_id, document_id):
        """Supprime un document tant que l'étape qui l'utilise n'est pas franchie (409 ensuite)."""
        services.delete_document(services.document_of_file(access.get_file_for(_me(), file_id), document_id), _me())



@blp.route("/files/<int:file_id>/confirm-assessor")
class ConfirmAssessor(MethodView):
    @roles_required("entreprise")
    @blp.arguments(ConfirmAssessorIn)
    @blp.response(200, FileOut)
    def post(self, data, file_id):
        """Confirme l'évaluateur (R2) : le dossier passe en attente d'évaluation, l'évaluateur est prévenu."""
        return services.confirm_assessor(access.get_file_for(_me(), file_id), _me(), **data)


@blp.route("/files/<int:file_id>/job-assessor-invitations")
class JobAssessorInvitations(MethodView):
    @roles_required("evaluateur")
    @blp.arguments(JobAssessorInvitationIn)
    @blp.response(201, InvitationOut)
    def post(self, data, file_id):
        """Invite l'évaluateur métier (R3) : lien à usage unique valable 30 jours, envoyé par email."""
        invitation, _token = evaluation.invite_job_assessor(access.get_file_for(_me(), file_id), _me(), **data)
        return invitation

    @roles_required("evaluateur", "secretariat")
    @blp.response(200, InvitationOut(many=True))
    def get(self, file_id):
        """Les invitations de l'évaluateur métier du dossier, de la plus ancienne à la plus récente, et leur état."""
        return access.get_file_for(_me(), file_id).invitations


@blp.route("/files/<int:file_id>/job-assessor-invitations/<int:invitation_id>/resend")
class JobAssessorInvitationResend(MethodView):
    @roles_required("evaluateur")
    @blp.response(201, InvitationOut)
    def post(self, file_id, invitation_id):
        """Relance l'évaluateur métier : un nouveau lien (30 jours) à la même personne ; l'ancien est remplacé (410)."""
        invitation, _token = evaluation.resend_job_assessor_invitation(
            access.get_file_for(_me(), file_id), _me(), invitation_id)
        return invitation


@blp.route("/invitations/<token>/observations")
class JobAssessorObservations(MethodView):
    @public
    @blp.arguments(ObservationsIn)
    @blp.response(200, ObservationsOut)
    @blp.doc(security=[])
    def post(self, data, token):
        """Observations de l'évaluateur métier, authentifiées par le lien lui-même (usage unique : 410 ensuite)."""
        observations = {o["competence_code"]: o["comment"] for o in data["observations"]}
        return evaluation.submit_job_assessor_observations(token, observations, data["general_comment"])


@blp.route("/files/<int:file_id>/evaluation")
class FileEvaluation(MethodView):
    @roles_required("evaluateur")
    @blp.arguments(EvaluationIn)
    @blp.response(200, EvaluationOut)
    def put(self, data, file_id):
        """Enregistre le brouillon de l'évaluation (fenêtre R5 : jour de l'entretien à J+8)."""
        return evaluation.save_evaluation(access.get_file_for(_me(), file_id), _me(), **data)


class SubmitEvaluationIn(BaseSchema):
    """Optional: the evaluation as the form has it, saved first (as PUT /files/{id}/evaluation), then transmitted."""

    interview_date = fields.Date(load_default=None)
    results = fields.List(fields.Nested(ResultIn), load_default=None)
    candidate_observations = fields.String(load_default=None, allow_none=True)


@blp.route("/files/<int:file_id>/submit-evaluation")
class SubmitEvaluation(MethodView):
    @roles_required("evaluateur")
    @blp.arguments(SubmitEvaluationIn)
    @blp.response(200, FileOut)
    def post(self, data, file_id):
        """Transmet l'évaluation (R3, R5, R6) : le dossier passe en validation de l'évaluation. Avec un corps
        (`interview_date`, `results`, `candidate_observations`), l'évaluation est d'abord enregistrée ; un refus
        (422) n'enregistre rien."""
        file = access.get_file_for(_me(), file_id)
        if any(value is not None for value in data.values()):
            evaluation.save_submitted_evaluation(file, _me(), **data)
        return evaluation.submit_evaluation(file, _me())


@blp.route("/files/<int:file_id>/withdraw")
class Withdraw(MethodView):
    @roles_required("entreprise", "secretariat")
    @blp.arguments(WithdrawIn)
    @blp.response(200, FileOut)
    def post(self, data, file_id):
        """Abandon du dossier, avec son motif."""
        return services.withdraw(access.get_file_for(_me(), file_id), _me(), data["reason"])
