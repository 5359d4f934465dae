"""Exchanges on a file (API « Exchanges on a file »): correction requests and the file's thread.

- A correction request: the secretariat (any file) or the file's assessor asks the company to correct something
  (a message, optionally the fields concerned). While it is open, every workflow event but `withdraw` is refused
  (the guard in app.files.workflow.fire, 409 naming the request); the company resolves it with an answer. The
  company is emailed of the request, the requester of the answer; the history keeps both.
- The thread: messages between the company, the file's assessor and the secretariat (nobody else: 404), each one
  emailing the other parties; an attachment goes through the documents' checks (app.core.uploads.store_upload).

Every function flushes, never commits: the request commits once; emails go to the outbox in that transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import Role
from app.core import audit, uploads
from app.core.clock import now
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.templating import day_in_paris
from app.core.validation import as_id
from app.extensions import db
from app.files import exchange_notifications as notify
from app.files.exchange_models import (
    CORRECTABLE_FIELDS,
    CorrectionRequest,
    FileMessage,
    open_correction_request,
)
from app.files.models import CandidateFile, FileStatus, StatusChange

MAX_TEXT = 5000


# ---------------------------------------------------------------- who takes part


def is_file_assessor(file: CandidateFile, user) -> bool:
    return getattr(user, "role", None) == Role.EVALUATEUR and file.assessor is not None \
        and file.assessor.user_id == getattr(user, "id", None)


def is_file_company(file: CandidateFile, user) -> bool:
    return getattr(user, "role", None) == Role.ENTREPRISE and user.belongs_to(file.establishment_id)


def takes_part(file: CandidateFile, user) -> bool:
    """The thread's parties: the company of the file, the file's assessor, the secretariat (not the candidate,
    a jury member, the job assessor nor another company)."""
    return bool(getattr(user, "is_secretariat", False)) or is_file_company(file, user) or is_file_assessor(file, user)


def can_request_correction(file: CandidateFile, user) -> bool:
    return (bool(getattr(user, "is_secretariat", False)) or is_file_assessor(file, user)) \
        and file.status != FileStatus.ABANDONNE


def can_resolve_correction(file: CandidateFile, user) -> bool:
    return is_file_company(file, user)


def _require_party(file: CandidateFile, user) -> None:
    if not takes_part(file, user):
        raise NotFound("Ce fil d'échanges n'existe pas, ou vous n'y avez pas accès.")


def _text(value, field: str, missing: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed.for_field(field, missing)
    if len(text) > MAX_TEXT:
        raise ValidationFailed.for_field(field, f"Le champ « {field} » dépasse {MAX_TEXT} caractères ({len(text)}).")
    return text


def _note_in_history(file: CandidateFile, event: str, actor, comment: str) -> None:
    """A history line that is not a transition (the status stays), as app.jury.record writes its rectifications:
    no stay is closed (stay_seconds NULL), so the statistics of stays are unchanged."""
    file.history.append(StatusChange(from_status=file.status, to_status=file.status, event=event,
                                     actor_id=getattr(actor, "id", None), at=now(), comment=comment))


# ---------------------------------------------------------------- correction requests


def _clean_fields(fields) -> list[str] | None:
    if fields in (None, "", []):
        return None
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, list | tuple) or not all(isinstance(f, str) for f in fields):
        raise ValidationFailed.for_field("fields", "Les champs à corriger doivent être une liste de noms de champs.")
    names = list(dict.fromkeys(f.strip() for f in fields if f.strip()))
    unknown = [f for f in names if f not in CORRECTABLE_FIELDS]
    if unknown:
        raise ValidationFailed.for_field("fields", f"Champ(s) à corriger inconnu(s) : {', '.join(unknown)} (connus : "
                                                   f"{', '.join(CORRECTABLE_FIELDS)}).")
    return names or None


def request_correction(file: CandidateFile, actor, *, message, fields=None) -> CorrectionRequest:
    """« Correction demandée »: 422 without a message or with an unknown field, 409 while another request is open
    or on an abandoned file, 404 for anyone but the secretariat and the file's assessor."""
    if not takes_part(file, actor) or is_file_company(file, actor):
        raise NotFound("Ce dossier n'existe pas, ou vous n'y avez pas accès.")
    text = _text(message, "message", "Le message de la demande de correction est obligatoire : écrivez ce que "
                                     "l'entreprise doit corriger.")
    names = _clean_fields(fields)
    if file.status == FileStatus.ABANDONNE:
        raise Conflict("Le dossier est abandonné : aucune correction ne peut plus être demandée.",
                       {"status": [file.status]})
    already = open_correction_request(file)
    if already is not None:
        raise Conflict(f"Une demande de correction est déjà en cours sur ce dossier : {already.reference} "
                       f"(« {already.message} »), en attente de la réponse de l'entreprise.",
                       {"correction_request": [f"{already.reference} est en cours."]})
    correction = CorrectionRequest(file_id=file.id, message=text, fields=names, requested_by_id=actor.id,
                                   requested_at=now())
    try:
        with db.session.begin_nested():  # two requests at once meet the partial unique index: 409, not 500
            db.session.add(correction)
            db.session.flush()
    except IntegrityError:
        raise Conflict("Une demande de correction vient d'être ouverte sur ce dossier : rechargez la page.") from None
    db.session.refresh(correction)
    _note_in_history(file, "correction_request", actor, text)
    db.session.flush()
    audit.record("file.correction_request", actor, correction, file_id=file.id, fields=names)
    notify.correction_requested(file, correction)
    return correction


def get_correction_request(file: CandidateFile, request_id) -> CorrectionRequest:
    ident = as_id(request_id)
    correction = db.session.get(CorrectionRequest, ident) if ident else None
    if correction is None or correction.file_id != file.id:
        raise NotFound("Cette demande de correction n'existe pas, ou vous n'y avez pas accès.")
    return correction


def resolve_correction(file: CandidateFile, actor, request_id, *, message) -> CorrectionRequest:
    """The company answers the request: the workflow's events are accepted again; the requester is emailed."""
    if not takes_part(file, actor):
        raise NotFound("Ce dossier n'existe pas, ou vous n'y avez pas accès.")
    correction = get_correction_request(file, request_id)
    if not can_resolve_correction(file, actor):
        raise Conflict("Seule l'entreprise du dossier répond à une demande de correction.",
                       {"correction_request": ["Réservé à l'entreprise du dossier."]})
    text = _text(message, "message", "La réponse à la demande de correction est obligatoire : dites ce qui a été "
                                     "corrigé.")
    if not correction.is_open:
        raise Conflict(f"{correction.reference[:1].upper()}{correction.reference[1:]} a déjà reçu sa réponse le "
                       f"{day_in_paris(correction.resolved_at)}.", {"correction_request": ["Déjà résolue."]})
    correction.answer, correction.resolved_by_id, correction.resolved_at = text, actor.id, now()
    _note_in_history(file, "correction_answer", actor, text)
    db.session.flush()
    db.session.refresh(correction)
    audit.record("file.correction_answer", actor, correction, file_id=file.id)
    notify.correction_resolved(file, correction)
    return correction


def correction_requests(file: CandidateFile) -> list[CorrectionRequest]:
    return list(db.session.scalars(
        select(CorrectionRequest).where(CorrectionRequest.file_id == file.id)
        .options(selectinload(CorrectionRequest.requested_by), selectinload(CorrectionRequest.resolved_by))
        .order_by(CorrectionRequest.requested_at, CorrectionRequest.id)))


# ---------------------------------------------------------------- the thread


def messages_of(file: CandidateFile, user) -> list[FileMessage]:
    """The thread, oldest first (404 for anyone who does not take part)."""
    _require_party(file, user)
    return list(db.session.scalars(
        select(FileMessage).where(FileMessage.file_id == file.id).options(selectinload(FileMessage.author))
        .order_by(FileMessage.at, FileMessage.id)))


def post_message(file: CandidateFile, actor, *, body, upload=None) -> FileMessage:
    """A message in the thread (422 without a text), with an optional attachment (PDF, PNG or JPEG checked by
    content, as the documents); the other parties are emailed."""
    _require_party(file, actor)
    text = _text(body, "body", "Le message est vide : écrivez votre message.")
    stored = uploads.store_upload(upload) if upload is not None and getattr(upload, "filename", None) else None
    message = FileMessage(file_id=file.id, author_id=actor.id, body=text, at=now())
    if stored is not None:
        message.attachment_filename, message.attachment_stored_name = stored.filename, stored.stored_name
        message.attachment_content_type, message.attachment_size = stored.content_type, stored.size
    db.session.add(message)
    try:
        db.session.flush()
    except Exception:
        if stored is not None:
            uploads.discard(stored.stored_name)
        raise
    db.session.refresh(message)
    audit.record("file.message", actor, message, file_id=file.id,
                 attachment=stored.filename if stored is not None else None)
    notify.message_posted(file, message, _other_parties(file, actor))
    return message


def get_message(file: CandidateFile, user, message_id) -> FileMessage:
    _require_party(file, user)
    ident = as_id(message_id)
    message = db.session.get(FileMessage, ident) if ident else None
    if message is None or message.file_id != file.id:
        raise NotFound("Ce message n'existe pas, ou vous n'y avez pas accès.")
    return message


def _other_parties(file: CandidateFile, author) -> list[str]:
    """The emails of the thread's parties but the author: the company, the file's assessor, the secretariat."""
    emails = [*notify.company_recipients(file), *notify.secretariat_recipients()]
    if file.assessor is not None and file.assessor.user.active:
        emails.append(file.assessor.user.email)
    mine = (author.email or "").lower()
    return [e for e in emails if e and e.lower() != mine]
