"""The candidature (a CandidateFile): creation and edits while it is being registered, documents,
confirmation of the assessor (R2) and withdrawal. One function per business action, shared by the
web pages and the API; they flush, never commit (the request commits once); status changes go
through `workflow.fire`; emails are queued by app.files.notifications in the same transaction."""

from __future__ import annotations

from sqlalchemy import event, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts import services as accounts
from app.accounts.models import Role
from app.core import audit, uploads
from app.core import uploads as uploads_module
from app.core.clock import now, today
from app.core.errors import Conflict, NotFound, TooLarge, ValidationFailed
from app.core.validation import as_id, parse_date, required_text
from app.extensions import db
from app.files import candidates, carry_over, workflow
from app.files.models import (
    DOCUMENT_KINDS,
    FINAL_STATUSES,
    TRAINING_PATHS,
    TRAINING_SCHEMES,
    Candidate,
    CandidateFile,
    Document,
    FileStatus,
)
from app.files.quotas import upload_room
from app.referential import services as referential
from app.referential.models import Assessor, Competence, Cqp

UPLOAD_KINDS_BY_ROLE = {
    Role.ENTREPRISE.value: {"diplome", "dossier_candidature"},
    Role.CANDIDAT.value: {"diplome", "dossier_candidature"},
    Role.EVALUATEUR.value: {"guide_evaluation"},
}

def _check_choice(value, choices: dict, field: str, label: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in choices:
        raise ValidationFailed.for_field(field, f"{label} « {value} » n'existe pas.")
    return value


def _competences_of(cqp: Cqp, codes) -> list[Competence]:
    if isinstance(codes, str):
        codes = [codes]
    codes = [str(c).strip().upper() for c in codes or [] if str(c).strip()]
    if not codes:
        raise ValidationFailed.for_field("competence_codes", "Choisissez au moins une compétence du CQP.")
    by_code = {c.code.upper(): c for c in cqp.active_competences}
    unknown = [c for c in codes if c not in by_code]
    if unknown:
        raise ValidationFailed.for_field(
            "competence_codes",
            f"Compétence(s) {', '.join(unknown)} inconnue(s) pour le CQP {cqp.code}.",
        )
    return sorted({by_code[c] for c in codes}, key=lambda c: c.position)


def _habilitated_assessor(assessor_id, cqp: Cqp) -> Assessor:
    ident = as_id(assessor_id)
    assessor = db.session.get(Assessor, ident) if ident else None
    if assessor is None:
        raise ValidationFailed.for_field("assessor_id", "Cet évaluateur n'existe pas.")
    if not assessor.is_habilitated(today(), cqp):
        if assessor.habilitation_until < today():
            message = (f"L'habilitation de l'évaluateur {assessor.name} a pris fin le "
                       f"{assessor.habilitation_until.strftime('%d/%m/%Y')}.")
        else:
            message = f"L'évaluateur {assessor.name} n'est pas habilité pour le CQP {cqp.code}."
        raise ValidationFailed.for_field("assessor_id", message)
    return assessor


def _check_training_org_siret(value) -> str | None:
    siret = accounts.normalize_siret(value)
    return accounts.check_siret(siret, "training_org_siret") if siret else None


def _apply_file_fields(file: CandidateFile, cqp: Cqp, data: dict, partial: bool) -> None:
    """Validates every field first, then writes: a refusal leaves the file untouched."""
    changes: dict = {}
    if not partial or "competence_codes" in data or file.cqp_id != cqp.id:
        acquired = carry_over.acquired_for(file.candidate_id, cqp)  # R13: only the others are offered
        carry_over.refuse_acquired(cqp, data.get("competence_codes"), acquired)
        changes["competences"] = _competences_of(cqp, data.get("competence_codes"))
        changes["carried_competences"] = acquired
    if not partial or "training_path" in data:
        changes["training_path"] = _check_choice(data.get("training_path"), TRAINING_PATHS, "training_path",
                                                 "Le parcours")
    if not partial or "training_scheme" in data:
        changes["training_scheme"] = _check_choice(data.get("training_scheme"), TRAINING_SCHEMES,
                                                   "training_scheme", "Le dispositif de formation")
    if not partial or "training_org_siret" in data:
        changes["training_org_siret"] = _check_training_org_siret(data.get("training_org_siret"))
    if not partial or "assessor_id" in data:
        assessor_id = data.get("assessor_id")
        changes["assessor"] = _habilitated_assessor(assessor_id, cqp) if assessor_id not in (None, "") else None
    if not partial or "interview_date" in data:
        planned = parse_date(data.get("interview_date"), "interview_date", "La date d'entretien prévue")
        if planned is not None and planned < today():
            raise ValidationFailed.for_field("interview_date", "La date d'entretien prévue ne peut pas être passée.")
        changes["planned_interview_date"] = planned
    file.cqp = cqp
    for name, value in changes.items():
        setattr(file, name, value)


def require_no_open_file(candidate: Candidate, cqp: Cqp, except_file_id: int | None = None) -> None:
    """R12b: a candidate has at most one open (not final) file per CQP; 409 naming the open one."""
    stmt = select(CandidateFile).where(
        CandidateFile.candidate_id == candidate.id, CandidateFile.cqp_id == cqp.id,
        CandidateFile.status.not_in([s.value for s in FINAL_STATUSES]))
    if except_file_id is not None:
        stmt = stmt.where(CandidateFile.id != except_file_id)
    open_file = db.session.scalars(stmt.limit(1)).first()
    if open_file is not None:
        message = (f"{candidate.full_name} a déjà un dossier ouvert pour le CQP {cqp.code} : le dossier "
                   f"n° {open_file.id} (« {open_file.status_label} »). Un candidat ne peut avoir qu'un dossier "
                   "ouvert par CQP : poursuivez celui-ci, ou abandonnez-le avant d'en créer un autre.")
        raise Conflict(message, {"cqp_code": [message]})


def file_created_with(establishment_id: int, token) -> CandidateFile | None:
    """The file an earlier post of the same creating form made (back, then resubmit)."""
    token = candidates.clean_creation_token(token)
    if token is None:
        return None
    return db.session.scalars(select(CandidateFile).where(
        CandidateFile.creation_token == token, CandidateFile.establishment_id == establishment_id)).first()


def create_file(candidate: Candidate, actor, *, cqp_code, creation_token=None, **data) -> CandidateFile:
    """A candidature: the candidate, a CQP and its competences, the training, the assessor (R12b: one open
    file per candidate and CQP, backed by a partial unique index). The same creating form posted twice
    (`creation_token`) answers the file made the first time."""
    already = file_created_with(candidate.establishment_id, creation_token)
    if already is not None:
        return already
    cqp = referential.get_cqp_by_code(required_text(cqp_code, "cqp_code", "Le CQP"))
    require_no_open_file(candidate, cqp)
    # Built detached (ids, not the candidate relationship) so that a refused field leaves nothing pending.
    file = CandidateFile(candidate_id=candidate.id, establishment_id=candidate.establishment_id,
                         status=FileStatus.EN_COURS_INSCRIPTION.value, created_by_id=getattr(actor, "id", None),
                         creation_token=candidates.clean_creation_token(creation_token))
    _apply_file_fields(file, cqp, data, partial=False)
    try:
        with db.session.begin_nested():  # a simultaneous creation meets the unique index: 409, not 500
            db.session.add(file)
            db.session.flush()
    except IntegrityError:
        require_no_open_file(candidate, cqp)
        raise
    db.session.expire(candidate, ["files"])
    audit.record("file.create", actor, file, cqp=cqp.code)
    return file


def _require_registration(file: CandidateFile) -> None:
    if file.status != FileStatus.EN_COURS_INSCRIPTION:
        raise Conflict(
            f"Le dossier ne peut plus être modifié : il est au statut « {file.status_label} » "
            "(modifiable seulement « En cours d'inscription »).",
            {"status": [file.status]},
        )


def update_file(file: CandidateFile, actor, **data) -> CandidateFile:
    """Edits the candidature while it is `en_cours_inscription` (409 afterwards)."""
    _require_registration(file)
    cqp = referential.get_cqp_by_code(data["cqp_code"]) if data.get("cqp_code") else file.cqp
    if cqp.id != file.cqp_id:
        require_no_open_file(file.candidate, cqp, except_file_id=file.id)
    _apply_file_fields(file, cqp, data, partial=True)
    db.session.flush()
    audit.record("file.update", actor, file)
    return file


def allowed_upload_kinds(user, file: CandidateFile | None) -> list[str]:
    kinds = UPLOAD_KINDS_BY_ROLE.get(getattr(user, "role", None), set())
    if file is not None and file.status_enum in FINAL_STATUSES:
        return []
    if file is None or file.status != FileStatus.EN_ATTENTE_EVALUATION:
        kinds = kinds - {"guide_evaluation"}  # the guide belongs to the evaluation step
    return [k for k in DOCUMENT_KINDS if k in kinds]


def _check_upload_kind(actor, kind: str, file: CandidateFile | None) -> None:
    if kind not in DOCUMENT_KINDS:
        raise ValidationFailed.for_field("kind", "Type de document inconnu : choisissez diplôme, dossier de "
                                                 "candidature (outil n°6) ou guide d'évaluation (outil n°4).")
    if kind not in allowed_upload_kinds(actor, file):
        if file is not None and file.status_enum in FINAL_STATUSES:
            raise Conflict(f"Le dossier est au statut « {file.status_label} » : plus aucun document ne peut "
                           "y être déposé.", {"status": [file.status]})
        if kind == "guide_evaluation" and file is not None and getattr(actor, "is_assessor", False):
            raise Conflict(f"Le guide d'évaluation se dépose quand le dossier est « En attente d'évaluation » "
                           f"(statut actuel : « {file.status_label} »).", {"status": [file.status]})
        raise ValidationFailed.for_field("kind", f"Vous ne pouvez pas déposer ce type de document "
                                                 f"({DOCUMENT_KINDS[kind]}).")


def upload_document(actor, *, kind: str, upload, candidate: Candidate, file: CandidateFile | None = None) -> Document:
    """Stores a scan (PDF/PNG/JPEG by content, ≤ 10 MB, within the quotas) for a candidate or one of their files."""
    _check_upload_kind(actor, kind, file)
    stored = uploads.store_upload(upload, check_room=upload_room(candidate, file))
    document = Document(file_id=file.id if file else None, candidate_id=candidate.id, kind=kind,
                        filename=stored.filename, stored_name=stored.stored_name, content_type=stored.content_type,
                        size=stored.size, uploaded_by_id=getattr(actor, "id", None))
    db.session.add(document)
    try:
        db.session.flush()
    except Exception:
        uploads.discard(stored.stored_name)
        raise
    if file is not None:
        db.session.refresh(file, ["documents"])
    audit.record("document.upload", actor, document, kind=kind, file_id=getattr(file, "id", None))
    return document


MAX_DOCUMENTS_AT_ONCE = 10
_DISCARD_KEY = "documents_to_discard"


def file_documents(file: CandidateFile) -> list[Document]:
    """The candidature's documents: its own scans, and those of the candidate page (their diplomas),
    which serve every candidature of the candidate."""
    return list(db.session.scalars(
        select(Document).where(Document.candidate_id == file.candidate_id,
                               or_(Document.file_id == file.id, Document.file_id.is_(None)))
        .order_by(Document.uploaded_at, Document.id)))


def document_of_file(file: CandidateFile, document_id) -> Document:
    """A document of the candidature (which the caller was allowed to open): its own, or one of the candidate page (a
    diploma) that serves it; any other is a 404."""
    ident = as_id(document_id)
    document = db.session.get(Document, ident) if ident else None
    if document is None or document.candidate_id != file.candidate_id or document.file_id not in (None, file.id):
        raise NotFound("Ce document n'existe pas, ou vous n'y avez pas accès.")
    return document


def upload_documents(actor, *, kind: str, uploads, candidate: Candidate,
                     file: CandidateFile | None = None) -> list[Document]:
    """Several scans of one kind at once: all stored or none; each refused file is named."""
    uploads = [u for u in uploads or [] if u is not None and getattr(u, "filename", None)]
    if len(uploads) <= 1:
        return [upload_document(actor, kind=kind, upload=uploads[0] if uploads else None, candidate=candidate,
                                file=file)]
    if len(uploads) > MAX_DOCUMENTS_AT_ONCE:
        raise ValidationFailed.for_field("file", f"Déposez au plus {MAX_DOCUMENTS_AT_ONCE} fichiers à la fois "
                                                 f"({len(uploads)} choisis).")
    _check_upload_kind(actor, kind, file)
    stored, refusals, too_large = [], [], []
    check_room = upload_room(candidate, file)
    for upload in uploads:
        try:
            stored.append(uploads_module.store_upload(upload, check_room=check_room))
        except (ValidationFailed, TooLarge) as error:
            refusals.append(f"« {upload.filename} » : {error.message}")
            too_large.append(isinstance(error, TooLarge))
    if refusals:
        for done in stored:
            uploads_module.discard(done.stored_name)
        kept = "Aucun fichier n'est déposé : corrigez ou retirez " + (
            "ce fichier." if len(refusals) == 1 else f"ces {len(refusals)} fichiers.")
        error_class = TooLarge if all(too_large) else ValidationFailed
        raise error_class(" ".join([*refusals, kept]), {"file": [*refusals, kept]})
    documents = [Document(file_id=file.id if file else None, candidate_id=candidate.id, kind=kind,
                          filename=done.filename, stored_name=done.stored_name, content_type=done.content_type,
                          size=done.size, uploaded_by_id=getattr(actor, "id", None)) for done in stored]
    db.session.add_all(documents)
    try:
        db.session.flush()
    except Exception:
        for done in stored:
            uploads_module.discard(done.stored_name)
        raise
    if file is not None:
        db.session.refresh(file, ["documents"])
    for document in documents:
        audit.record("document.upload", actor, document, kind=kind, file_id=getattr(file, "id", None))
    return documents


def deposited_message(documents: list[Document]) -> str:
    """What the page says once documents are deposited, naming them."""
    if len(documents) == 1:
        return f"Le document est déposé : « {documents[0].filename} »."
    return f"{len(documents)} documents sont déposés : " + ", ".join(f"« {d.filename} »" for d in documents) + "."


def _discard_after_commit(stored_name: str) -> None:
    """The stored scan goes once the change that drops it is committed (a rollback keeps it)."""
    db.session.info.setdefault(_DISCARD_KEY, []).append(stored_name)


@event.listens_for(Session, "after_commit")
def _discard_dropped_scans(session) -> None:
    for stored_name in session.info.pop(_DISCARD_KEY, []):
        uploads_module.discard(stored_name)


@event.listens_for(Session, "after_rollback")
def _keep_scans_of_a_rollback(session) -> None:
    session.info.pop(_DISCARD_KEY, None)


def _require_changeable(document: Document, actor) -> None:
    refusal = document.change_refusal(actor)
    if refusal is not None:
        raise Conflict(refusal, {"document": [refusal]})


def delete_document(document: Document, actor) -> None:
    """Deletes a scan while the step that uses it is not done (Document.change_refusal: 409 otherwise)."""
    _require_changeable(document, actor)
    file, details = document.file, {"kind": document.kind, "filename": document.filename,
                                    "file_id": document.file_id}
    stored_name = document.stored_name
    audit.record("document.delete", actor, document, **details)
    db.session.delete(document)
    db.session.flush()
    if file is not None:
        db.session.expire(file, ["documents"])
    _discard_after_commit(stored_name)


def replace_document(document: Document, actor, upload) -> Document:
    """Replaces a scan by a new one (same document, same kind) while the step that uses it is not done."""
    _require_changeable(document, actor)
    stored = uploads_module.store_upload(upload, check_room=upload_room(document.candidate, document.file,
                                                                        replacing=document))
    previous = (document.filename, document.stored_name)
    document.filename, document.stored_name = stored.filename, stored.stored_name
    document.content_type, document.size = stored.content_type, stored.size
    document.uploaded_by_id, document.uploaded_at = getattr(actor, "id", None), now()
    try:
        db.session.flush()
    except Exception:
        uploads_module.discard(stored.stored_name)
        raise
    _discard_after_commit(previous[1])
    audit.record("document.replace", actor, document, kind=document.kind, previous_filename=previous[0],
                 filename=document.filename, file_id=document.file_id)
    return document


def confirm_assessor(file: CandidateFile, actor, *, assessor_id=None, interview_date=None) -> CandidateFile:
    """R2: moves the file to `en_attente_evaluation` (guards in the workflow) and emails the assessor."""
    if file.status != FileStatus.EN_COURS_INSCRIPTION:
        workflow.fire(file, "confirm_assessor", actor)  # raises the Conflict naming the status
    data = {}
    if assessor_id not in (None, ""):
        data["assessor_id"] = assessor_id
    if interview_date not in (None, ""):
        data["interview_date"] = interview_date
    if data:
        _apply_file_fields(file, file.cqp, data, partial=True)
    workflow.fire(file, "confirm_assessor", actor)
    file.assessor_confirmed_on = today()
    db.session.flush()
    return file


def withdraw(file: CandidateFile, actor, reason: str) -> CandidateFile:
    reason = (reason or "").strip()
    workflow.fire(file, "withdraw", actor, reason=reason)
    file.withdraw_reason = reason
    db.session.flush()
    return file
