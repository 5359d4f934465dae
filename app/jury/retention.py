"""`flask retention purge`: applies the retention policy (app/core/retention.py) phase by phase.

- active files: an open file untouched for RETENTION_ACTIVE_FILE_MONTHS is withdrawn;
- closed files: a candidate whose files are all closed since RETENTION_CLOSED_FILE_MONTHS (or who never had one,
  created that long ago) is erased as by the secretariat (app/jury/privacy.py: an issued parchment keeps its
  frozen holder, number, CQP and date);
- scans: the documents of files closed since RETENTION_SCAN_MONTHS (and the candidate page's once every file is);
- audit log entries older than RETENTION_AUDIT_MONTHS, outbox bodies of emails sent before RETENTION_OUTBOX_MONTHS.
The two first phases email the company a notice RETENTION_NOTICE_DAYS before, once (SentReminder), and act only
once the notice is that old. A phase of 0 months is never applied. Flushes; the command commits once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from app.core import audit
from app.core.clock import add_months, now, utcnow
from app.core.mail import queue_email
from app.core.models import AuditEntry, AuditEntryCandidate, OutboxEmail, SentReminder
from app.core.retention import notice_days, policy
from app.extensions import db
from app.files import services as file_services
from app.files import workflow
from app.files.exchange_models import FileMessage
from app.files.models import FINAL_STATUSES, Candidate, CandidateFile, Document
from app.jury import privacy
from app.jury.notifications import company_recipients

NOTICE_KIND = "retention_notice"
CLOSED = [s.value for s in FINAL_STATUSES]


@dataclass
class PurgeReport:
    dry_run: bool
    notices: list[str] = field(default_factory=list)
    withdrawn_files: list[int] = field(default_factory=list)
    erased_candidates: list[int] = field(default_factory=list)
    deleted_documents: int = 0
    deleted_audit_entries: int = 0
    cleared_outbox_bodies: int = 0

    def lines(self) -> list[str]:
        verb = "à " if self.dry_run else ""
        return [
            f"Avis envoyés {'(à envoyer) ' if self.dry_run else ''}: {len(self.notices)}",
            f"Dossiers {verb}abandonner (sans activité) : {len(self.withdrawn_files)}"
            + (f" — n° {', '.join(map(str, self.withdrawn_files))}" if self.withdrawn_files else ""),
            f"Candidats {verb}effacer (dossiers clos) : {len(self.erased_candidates)}"
            + (f" — n° {', '.join(map(str, self.erased_candidates))}" if self.erased_candidates else ""),
            f"Pièces {verb}supprimer : {self.deleted_documents}",
            f"Entrées du journal {verb}supprimer : {self.deleted_audit_entries}",
            f"Textes d'emails {verb}effacer : {self.cleared_outbox_bodies}",
        ]


def _cutoff(months: int, moment: datetime) -> datetime:
    return datetime.combine(add_months(moment.date(), -months), moment.time())


def _notice_ready(target_key: str, moment: datetime, report: PurgeReport, email) -> bool:
    """True once the notice for `target_key` went out RETENTION_NOTICE_DAYS ago; sends it otherwise."""
    days = notice_days()
    if days == 0:
        return True
    sent = db.session.scalar(select(SentReminder).where(SentReminder.kind == NOTICE_KIND,
                                                        SentReminder.target_key == target_key))
    if sent is not None:
        return sent.sent_at <= utcnow() - timedelta(days=days)
    report.notices.append(target_key)
    if not report.dry_run:
        email()
        db.session.add(SentReminder(kind=NOTICE_KIND, target_key=target_key))
    return False


def _phase_months() -> dict[str, int]:
    return {p.key: p.months for p in policy()}


def _active_files(months: int, moment: datetime, report: PurgeReport) -> None:
    notice_at = _cutoff(months, moment) + timedelta(days=notice_days())
    stale = db.session.scalars(select(CandidateFile).where(CandidateFile.status.not_in(CLOSED),
                                                           CandidateFile.updated_at <= notice_at)
                               .order_by(CandidateFile.id)).all()
    for file in stale:
        due = add_months(file.updated_at.date(), months)

        def email(file=file, due=due):
            queue_email("retention_notice", company_recipients(file.establishment),
                        f"Dossier sans activité : {file.candidate.full_name} (CQP {file.cqp.code})",
                        "retention_notice", file=file, phase="active_files", candidate=file.candidate,
                        candidate_file=file, months=months, due=due)

        if not _notice_ready(f"active-file:{file.id}", moment, report, email) or file.updated_at > _cutoff(months, moment):
            continue
        report.withdrawn_files.append(file.id)
        if not report.dry_run:
            reason = f"Sans activité depuis {months} mois (politique de conservation des données)"
            workflow.fire(file, "withdraw", None, reason=reason)
            file.withdraw_reason = reason


def _closed_candidates(months: int, moment: datetime, report: PurgeReport) -> None:
    notice_at = _cutoff(months, moment) + timedelta(days=notice_days())
    last_closed = (select(CandidateFile.candidate_id, func.max(CandidateFile.status_changed_at).label("closed_at"),
                          func.count().filter(CandidateFile.status.not_in(CLOSED)).label("open"))
                   .group_by(CandidateFile.candidate_id).subquery())
    rows = db.session.execute(
        select(Candidate, last_closed.c.closed_at).outerjoin(last_closed, last_closed.c.candidate_id == Candidate.id)
        .where(Candidate.erased_at.is_(None), func.coalesce(last_closed.c.open, 0) == 0,
               func.coalesce(last_closed.c.closed_at, Candidate.created_at) <= notice_at)
        .order_by(Candidate.id)).all()
    for candidate, closed_at in rows:
        since = closed_at or candidate.created_at
        due = add_months(since.date(), months)

        def email(candidate=candidate, due=due):
            queue_email("retention_notice", company_recipients(candidate.establishment),
                        f"Effacement prochain des données de {candidate.full_name}", "retention_notice",
                        phase="closed_files", candidate=candidate, months=months, due=due)

        if not _notice_ready(f"candidate:{candidate.id}", moment, report, email) or since > _cutoff(months, moment):
            continue
        report.erased_candidates.append(candidate.id)
        if not report.dry_run:
            privacy.erase_candidate(candidate, None, f"Durée de conservation échue ({months} mois après la clôture)")


def _scans(months: int, moment: datetime, report: PurgeReport) -> None:
    cutoff = _cutoff(months, moment)
    closed_file = select(CandidateFile.id).where(CandidateFile.status.in_(CLOSED),
                                                 CandidateFile.status_changed_at <= cutoff)
    still_used = select(CandidateFile.candidate_id).where(
        (CandidateFile.status.not_in(CLOSED)) | (CandidateFile.status_changed_at > cutoff))
    documents = db.session.scalars(select(Document).where(
        Document.file_id.in_(closed_file)
        | (Document.file_id.is_(None) & Document.candidate_id.not_in(still_used) & (Document.uploaded_at <= cutoff)))
    ).all()
    attachments = db.session.scalars(select(FileMessage).where(
        FileMessage.file_id.in_(closed_file), FileMessage.attachment_stored_name.is_not(None))).all()
    report.deleted_documents += len(documents) + len(attachments)
    if report.dry_run:
        return
    for document in documents:
        audit.record("document.retention_delete", None, document, kind=document.kind, filename=document.filename)
        file_services._discard_after_commit(document.stored_name)  # noqa: SLF001 (the scan goes with the commit)
        db.session.delete(document)
    for message in attachments:  # the thread's attachments (app.files.exchanges) go with the scans
        file_services._discard_after_commit(message.attachment_stored_name)  # noqa: SLF001
        message.attachment_filename = message.attachment_stored_name = None
        message.attachment_content_type, message.attachment_size = None, None


def _audit_log(months: int, report: PurgeReport) -> None:
    cutoff = _cutoff(months, utcnow())
    report.deleted_audit_entries = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.at < cutoff))
    if not report.dry_run:
        # the bulk reads' people first: ON DELETE CASCADE does it on PostgreSQL, not on SQLite (the app does not
        # turn PRAGMA foreign_keys on), so explicitly, in one statement
        db.session.execute(delete(AuditEntryCandidate).where(AuditEntryCandidate.audit_id.in_(
            select(AuditEntry.id).where(AuditEntry.at < cutoff))).execution_options(synchronize_session=False))
        db.session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff).execution_options(synchronize_session=False))


def _outbox_bodies(months: int, report: PurgeReport) -> None:
    cutoff = _cutoff(months, utcnow())
    scope = (OutboxEmail.status.in_(("sent", "failed")), OutboxEmail.created_at < cutoff,
             (OutboxEmail.body_text != "") | OutboxEmail.body_html.is_not(None))
    report.cleared_outbox_bodies = db.session.scalar(select(func.count(OutboxEmail.id)).where(*scope))
    if not report.dry_run:
        db.session.execute(update(OutboxEmail).where(*scope).values(body_text="", body_html=None)
                           .execution_options(synchronize_session=False))


def purge(*, dry_run: bool = False) -> PurgeReport:
    """Applies every phase of the policy; with `dry_run`, only counts (no notice sent, nothing changed)."""
    months, moment = _phase_months(), now()
    report = PurgeReport(dry_run=dry_run)
    if months["active_files"]:
        _active_files(months["active_files"], moment, report)
        db.session.flush()
    if months["closed_files"]:
        _closed_candidates(months["closed_files"], moment, report)
        db.session.flush()
    if months["scans"]:
        _scans(months["scans"], moment, report)
    db.session.flush()
    if months["audit"]:
        _audit_log(months["audit"], report)
    if months["outbox"]:
        _outbox_bodies(months["outbox"], report)
    return report
