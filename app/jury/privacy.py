"""RGPD rights over a candidate, across the files and the jury: the export of everything held on the person,
and the erasure (anonymisation) that keeps only what an issued parchment requires. Also the audit entries
about a person (`GET /audit?candidate_id=`). Functions flush, never commit: the request commits once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import selectinload

from app.core import audit
from app.core.clock import now
from app.core.errors import Conflict, ValidationFailed
from app.core.models import AuditEntry, AuditEntryCandidate, OutboxEmail
from app.extensions import db
from app.files import services as file_services
from app.files import workflow
from app.files.exchange_models import CorrectionRequest, FileMessage
from app.files.models import (
    FINAL_STATUSES,
    Candidate,
    CandidateFile,
    Document,
    Evaluation,
    EvaluationResult,
    JobAssessorInvitation,
    JobAssessorObservation,
    name_key,
)
from app.jury.models import Parchment

ERASED_FIRST_NAME = "Personne"
ERASED_TEXT = "[effacé]"
# The candidate's fields the erasure empties (names and birth date are replaced: they are required columns).
ERASED_FIELDS = ("birth_place", "sex", "usage_name", "other_first_names", "birth_place_code", "birth_country",
                 "email", "phone", "address", "job_title", "highest_diploma", "creation_token")
AUDIT_PAGE_SIZE = 500


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):  # stored naive UTC: RFC 3339 with its offset
        return value.replace(tzinfo=UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _emails_of(candidate: Candidate, file_ids: list[int]):
    """The outbox rows sent to the person or about one of their files."""
    clauses = [OutboxEmail.file_id.in_(file_ids)] if file_ids else []
    if candidate.email:
        address = candidate.email.strip().lower()
        clauses += [OutboxEmail.recipients == address, OutboxEmail.recipients.like(f"{address},%"),
                    OutboxEmail.recipients.like(f"%,{address}"), OutboxEmail.recipients.like(f"%,{address},%")]
    return or_(*clauses) if clauses else None


def audit_entries(candidate_id: int, limit: int = AUDIT_PAGE_SIZE) -> list[AuditEntry]:
    """Who read or changed the person's data, newest first: the entries naming them and the bulk reads (exports
    of a list) that listed them (`audit_log_candidates`). Two indexed statements, each limited, merged here (an OR
    across the two tables would not use either index)."""
    newest = (AuditEntry.at.desc(), AuditEntry.id.desc())
    own = db.session.scalars(select(AuditEntry).where(AuditEntry.candidate_id == candidate_id)
                             .order_by(*newest).limit(limit)).all()
    bulk = db.session.scalars(select(AuditEntry).join(AuditEntryCandidate, AuditEntryCandidate.audit_id == AuditEntry.id)
                              .where(AuditEntryCandidate.candidate_id == candidate_id)
                              .order_by(*newest).limit(limit)).all()
    if not bulk:
        return list(own)
    return sorted({e.id: e for e in (*own, *bulk)}.values(), key=lambda e: (e.at, e.id), reverse=True)[:limit]


def audit_answer(entry: AuditEntry, actors: dict[int, str]) -> dict:
    return {"id": entry.id, "at": _iso(entry.at), "user_email": actors.get(entry.actor_id),
            "action": entry.action, "what": (entry.details or {}).get("what"), "page": entry.page,
            "details": entry.details, "ip": entry.ip}


def actor_emails(entries: list[AuditEntry]) -> dict[int, str]:
    from app.accounts.models import User

    ids = {e.actor_id for e in entries if e.actor_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())


def export_candidate(candidate: Candidate, actor) -> dict:
    """Everything held on the person: identity, files (training, evaluation, observations, decision,
    parchment versions, history), documents' names, emails sent to them or about their files, audit entries."""
    files = list(db.session.scalars(
        select(CandidateFile).where(CandidateFile.candidate_id == candidate.id).order_by(CandidateFile.id)
        .options(selectinload(CandidateFile.history), selectinload(CandidateFile.cqp),
                 selectinload(CandidateFile.competences),
                 selectinload(CandidateFile.evaluation).selectinload(Evaluation.results)
                 .selectinload(EvaluationResult.competence),
                 selectinload(CandidateFile.invitations).selectinload(JobAssessorInvitation.observations)
                 .selectinload(JobAssessorObservation.competence),
                 selectinload(CandidateFile.decision), selectinload(CandidateFile.parchment)
                 .selectinload(Parchment.versions))))
    documents = db.session.scalars(select(Document).where(Document.candidate_id == candidate.id)
                                   .order_by(Document.id)).all()
    email_scope = _emails_of(candidate, [f.id for f in files])
    emails = db.session.scalars(select(OutboxEmail).where(email_scope).order_by(OutboxEmail.id)).all() \
        if email_scope is not None else []
    entries = audit_entries(candidate.id, limit=10_000)
    actors = actor_emails(entries)
    file_ids = [f.id for f in files]
    messages = db.session.scalars(select(FileMessage).where(FileMessage.file_id.in_(file_ids))
                                  .order_by(FileMessage.id)).all() if file_ids else []
    corrections = db.session.scalars(select(CorrectionRequest).where(CorrectionRequest.file_id.in_(file_ids))
                                     .order_by(CorrectionRequest.id)).all() if file_ids else []
    audit.record("candidate.export", actor, candidate)
    identity = {name: getattr(candidate, name) for name in (
        "first_name", "last_name", "usage_name", "other_first_names", "sex", "birth_place", "birth_place_code",
        "birth_country", "email", "phone", "address", "job_title", "highest_diploma")}
    return {
        "id": candidate.id,
        "exported_at": _iso(now()),
        "identity": {**identity, "birth_date": _iso(candidate.birth_date)},
        "establishment": {"siret": candidate.establishment.siret, "name": candidate.establishment.name},
        "account": {"email": candidate.user.email, "active": candidate.user.active} if candidate.user else None,
        "created_at": _iso(candidate.created_at), "erased_at": _iso(candidate.erased_at),
        "files": [_file_export(f) for f in files],
        "documents": [{"id": d.id, "file_id": d.file_id, "kind": d.kind, "filename": d.filename, "size": d.size,
                       "content_type": d.content_type, "uploaded_at": _iso(d.uploaded_at)} for d in documents],
        "emails": [{"id": e.id, "kind": e.kind, "recipients": e.recipient_list, "subject": e.subject,
                    "status": e.status, "created_at": _iso(e.created_at), "sent_at": _iso(e.sent_at),
                    "body_text": e.body_text} for e in emails],
        "messages": [{"id": m.id, "file_id": m.file_id, "at": _iso(m.at), "body": m.body,
                      "attachment": m.attachment_filename} for m in messages],
        "correction_requests": [{"id": c.id, "file_id": c.file_id, "message": c.message, "answer": c.answer,
                                 "requested_at": _iso(c.requested_at), "resolved_at": _iso(c.resolved_at)}
                                for c in corrections],
        "audit": [audit_answer(e, actors) for e in entries],
    }


def _file_export(file: CandidateFile) -> dict:
    evaluation = file.evaluation
    decision = file.decision
    parchment = file.parchment
    return {
        "id": file.id, "status": file.status, "cqp": {"code": file.cqp.code, "title": file.cqp.title},
        "competences": [c.code for c in file.competences], "training_path": file.training_path,
        "training_scheme": file.training_scheme, "training_org_siret": file.training_org_siret,
        "planned_interview_date": _iso(file.planned_interview_date), "withdraw_reason": file.withdraw_reason,
        "created_at": _iso(file.created_at),
        "evaluation": None if evaluation is None else {
            "interview_date": _iso(evaluation.interview_date), "submitted_at": _iso(evaluation.submitted_at),
            "candidate_observations": evaluation.candidate_observations,
            "results": [{"competence_code": r.competence.code, "acquired": r.acquired, "comment": r.comment}
                        for r in evaluation.results]},
        "job_assessor_observations": [
            {"by": f"{i.first_name} {i.last_name}", "general_comment": i.general_comment,
             "observations": [{"competence_code": o.competence.code, "comment": o.comment} for o in i.observations]}
            for i in file.invitations if i.used_at is not None],
        "decision": None if decision is None else {"status": decision.status, "comment": decision.comment,
                                                   "decided_at": _iso(decision.decided_at)},
        "parchment": None if parchment is None else {
            "number": parchment.number, "kind": parchment.kind,
            "versions": [{"version": v.version, "issued_at": _iso(v.issued_at), "holder": v.holder,
                          "cqp_code": v.cqp_code} for v in parchment.versions]},
        "history": [{"from": h.from_status, "to": h.to_status, "event": h.event, "at": _iso(h.at),
                     "comment": h.comment} for h in file.history],
    }


def erase_candidate(candidate: Candidate, actor, reason) -> dict:
    """Withdraws the person's open files (with `reason`), anonymises their identity and the free texts about
    them, deletes their scans (files removed after the commit) and the emails about them, deactivates their
    account; keeps what the certification register needs for an issued parchment (its frozen versions: holder,
    number, CQP, date), and says so. 422 without a reason, 409 when already erased or a file cannot be
    withdrawn; nothing is written then."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationFailed.for_field("reason", "Le motif de l'effacement est obligatoire (par exemple : "
                                                   "« demande de la personne du 2 décembre 2026 »).")
    if candidate.erased_at is not None:
        raise Conflict(f"Les données de ce candidat sont déjà effacées (le {candidate.erased_at:%d/%m/%Y}).")
    files = list(db.session.scalars(select(CandidateFile).where(CandidateFile.candidate_id == candidate.id)
                                    .options(selectinload(CandidateFile.parchment))))
    withdrawn = []
    for file in files:
        if file.status_enum not in FINAL_STATUSES:
            workflow.fire(file, "withdraw", actor, reason=f"Effacement des données personnelles : {reason}")
            file.withdraw_reason = f"Effacement des données personnelles : {reason}"
            withdrawn.append(file.id)
    file_ids = [f.id for f in files]
    email_scope = _emails_of(candidate, file_ids)
    if email_scope is not None:
        db.session.execute(delete(OutboxEmail).where(email_scope, OutboxEmail.status == "pending")
                           .execution_options(synchronize_session=False))
        db.session.execute(update(OutboxEmail).where(email_scope).values(
            subject="Email effacé (données personnelles)", body_text="", body_html=None)
            .execution_options(synchronize_session=False))
    documents = db.session.scalars(select(Document).where(Document.candidate_id == candidate.id)).all()
    for document in documents:
        file_services._discard_after_commit(document.stored_name)  # noqa: SLF001 (the scan goes with the commit)
        db.session.delete(document)
    if file_ids:
        evaluations = select(Evaluation.id).where(Evaluation.file_id.in_(file_ids))
        db.session.execute(update(Evaluation).where(Evaluation.file_id.in_(file_ids))
                           .values(candidate_observations=None).execution_options(synchronize_session=False))
        db.session.execute(update(EvaluationResult).where(EvaluationResult.evaluation_id.in_(evaluations))
                           .values(comment=None).execution_options(synchronize_session=False))
        invitations = select(JobAssessorInvitation.id).where(JobAssessorInvitation.file_id.in_(file_ids))
        db.session.execute(update(JobAssessorObservation).where(JobAssessorObservation.invitation_id.in_(invitations))
                           .values(comment=ERASED_TEXT).execution_options(synchronize_session=False))
        db.session.execute(update(JobAssessorInvitation).where(JobAssessorInvitation.file_id.in_(file_ids))
                           .values(general_comment=None).execution_options(synchronize_session=False))
        for stored_name in db.session.scalars(select(FileMessage.attachment_stored_name).where(
                FileMessage.file_id.in_(file_ids), FileMessage.attachment_stored_name.is_not(None))):
            file_services._discard_after_commit(stored_name)  # noqa: SLF001
        db.session.execute(update(FileMessage).where(FileMessage.file_id.in_(file_ids)).values(
            body=ERASED_TEXT, attachment_filename=None, attachment_stored_name=None, attachment_content_type=None,
            attachment_size=None).execution_options(synchronize_session=False))
        db.session.execute(update(CorrectionRequest).where(CorrectionRequest.file_id.in_(file_ids)).values(
            message=ERASED_TEXT, answer=None).execution_options(synchronize_session=False))
    if candidate.user is not None:
        candidate.user.active = False
        candidate.user.email = f"efface-{candidate.user.id}@anonyme.invalid"
        candidate.user.first_name, candidate.user.last_name = ERASED_FIRST_NAME, ERASED_TEXT
        candidate.user.password_hash = None
    candidate.first_name, candidate.last_name = ERASED_FIRST_NAME, f"effacée n° {candidate.id}"
    candidate.first_name_key, candidate.last_name_key = name_key(candidate.first_name), name_key(candidate.last_name)
    candidate.birth_date = date(1900, 1, 1)
    for name in ERASED_FIELDS:
        setattr(candidate, name, None)
    candidate.user_id = None
    candidate.erased_at = now()
    kept = [{"file_id": f.id, "parchment_number": f.parchment.number, "kind": f.parchment.kind,
             "kept": "identité du titulaire telle que figée sur le document délivré (nom, prénoms, date et lieu de "
                     "naissance), numéro, CQP, date du jury et compétences validées : exigés par le registre de "
                     "certification et la vérification du parchemin"}
            for f in files if f.parchment is not None]
    db.session.flush()
    for file in files:
        db.session.expire(file)
    audit.record("candidate.erase", actor, candidate, reason=reason, withdrawn=withdrawn or None,
                 documents_deleted=len(documents), kept=[k["parchment_number"] for k in kept] or None)
    return {"id": candidate.id, "erased_at": _iso(candidate.erased_at), "withdrawn_files": withdrawn,
            "documents_deleted": len(documents), "kept": kept}
