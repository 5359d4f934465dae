"""The retention policy (`flask retention purge [--dry-run]`): per phase from the configuration, a notice emailed to
the company before an erasure or a withdrawal, and only then the deletion; the audit log after 12 months, the
outbox's bodies, the scans of closed files; the worker's daily job runs it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

import app.models  # noqa: F401  (every model mapped before the jury modules inspect them)
from app.accounts.models import Role
from app.core.clock import now, utcnow
from app.core.mail import queue_email
from app.core.models import AuditEntry, AuditEntryCandidate, OutboxEmail, SentReminder
from app.core.uploads import upload_dir
from app.extensions import db
from app.files import services
from app.files.models import Candidate, CandidateFile, Document, FileStatus
from app.jury.retention import NOTICE_KIND, purge
from tests import factories
from tests.files.conftest import PDF, upload
from tests.jury.helpers import make_file


def _age(model, row_id: int, **columns) -> None:
    db.session.execute(update(model).where(model.id == row_id).values(**columns))
    db.session.commit()


def _notice_sent_days_ago(days: int) -> None:
    db.session.execute(update(SentReminder).where(SentReminder.kind == NOTICE_KIND)
                       .values(sent_at=utcnow() - timedelta(days=days)))
    db.session.commit()


@pytest.fixture
def company(app_ctx):
    return factories.make_user(Role.ENTREPRISE)


def test_a_closed_candidate_gets_a_notice_then_is_erased_once_the_notice_is_old_enough(company, mailbox):
    file = make_file(FileStatus.ABANDONNE, establishment=company.establishment)
    _age(CandidateFile, file.id, status_changed_at=now() - timedelta(days=61 * 31))
    first = purge()
    db.session.commit()
    assert first.notices == [f"candidate:{file.candidate_id}"] and first.erased_candidates == []
    from app.core.mail import send_pending

    send_pending()
    notice = mailbox.last_to(company.email)
    assert "seront effacées" in mailbox.text_of(notice) and "/donnees-personnelles" in mailbox.text_of(notice)
    # The next day: the notice is not 30 days old, nothing more (and no second notice).
    again = purge()
    db.session.commit()
    assert again.notices == [] and again.erased_candidates == []
    _notice_sent_days_ago(31)
    done = purge()
    db.session.commit()
    assert done.erased_candidates == [file.candidate_id]
    db.session.expire_all()
    assert db.session.get(Candidate, file.candidate_id).erased_at is not None


def test_a_dry_run_counts_and_changes_nothing(company, runner):
    file = make_file(FileStatus.ABANDONNE, establishment=company.establishment)
    _age(CandidateFile, file.id, status_changed_at=now() - timedelta(days=61 * 31))
    old = AuditEntry(action="x", at=utcnow() - timedelta(days=400))
    db.session.add(old)
    db.session.commit()
    old_id = old.id
    result = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Simulation" in result.output and "Entrées du journal à supprimer : 1" in result.output
    assert "Avis envoyés (à envoyer) : 1" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SentReminder.id))) == 0
    assert db.session.get(AuditEntry, old_id) is not None
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0


def test_the_audit_log_is_kept_12_months(company, runner):
    old = AuditEntry(action="x", at=utcnow() - timedelta(days=370))
    recent = AuditEntry(action="y", at=utcnow() - timedelta(days=300))
    db.session.add_all([old, recent])
    db.session.commit()
    old_id, recent_id = old.id, recent.id
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0 and "Entrées du journal supprimer : 1" in result.output.replace("à ", "")
    db.session.expire_all()
    assert db.session.get(AuditEntry, old_id) is None and db.session.get(AuditEntry, recent_id) is not None


def test_the_purge_removes_an_old_bulk_read_with_its_people_on_sqlite_too(company):
    """The links go with their entry: ON DELETE CASCADE on PostgreSQL; SQLite (foreign keys not enforced by the
    app) relies on the purge's explicit delete. Recent bulk reads keep theirs."""
    from app.core import audit

    candidates = [make_file().candidate_id for _ in range(3)]
    ids = select(Candidate.id).where(Candidate.id.in_(candidates))
    assert audit.record_reads_of("export ancien", ids) == 3
    assert audit.record_reads_of("export récent", ids) == 3
    db.session.commit()
    old_id = db.session.scalar(select(AuditEntry.id).where(AuditEntry.details["what"].as_string() == "export ancien"))
    _age(AuditEntry, old_id, at=utcnow() - timedelta(days=370))
    assert purge().deleted_audit_entries == 1
    db.session.commit()
    assert db.session.get(AuditEntry, old_id) is None
    left = db.session.execute(select(AuditEntryCandidate.audit_id, func.count()).group_by(
        AuditEntryCandidate.audit_id)).all()
    assert len(left) == 1 and left[0][0] != old_id and left[0][1] == 3


def test_outbox_bodies_are_cleared_after_the_configured_months(company):
    sent = queue_email("test", "a@exemple.fr", "Objet", "account_invitation", user=company, link="x", days=1)
    pending = queue_email("test", "b@exemple.fr", "Objet", "account_invitation", user=company, link="x", days=1)
    db.session.commit()
    _age(OutboxEmail, sent.id, status="sent", created_at=utcnow() - timedelta(days=100))
    _age(OutboxEmail, pending.id, created_at=utcnow() - timedelta(days=100))
    assert purge().cleared_outbox_bodies == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(OutboxEmail, sent.id).body_text == "" and db.session.get(OutboxEmail, sent.id).subject
    assert db.session.get(OutboxEmail, pending.id).body_text  # never sent: kept for the sender


def test_scans_of_files_closed_long_ago_are_deleted_with_their_bytes(company):
    closed = make_file(FileStatus.EN_COURS_INSCRIPTION, establishment=company.establishment)
    document = services.upload_document(company, kind="diplome", upload=upload(PDF), candidate=closed.candidate,
                                        file=closed)
    db.session.commit()
    stored = upload_dir() / document.stored_name
    recent = make_file(FileStatus.EN_COURS_INSCRIPTION, establishment=company.establishment)
    kept = services.upload_document(company, kind="diplome", upload=upload(PDF), candidate=recent.candidate,
                                    file=recent)
    db.session.commit()
    _age(CandidateFile, closed.id, status=FileStatus.ABANDONNE.value,
         status_changed_at=now() - timedelta(days=25 * 31))
    report = purge()
    db.session.commit()
    assert report.deleted_documents == 1
    assert db.session.get(Document, document.id) is None and not stored.exists()
    assert db.session.get(Document, kept.id) is not None


def test_an_open_file_without_activity_is_withdrawn_after_its_notice(company, mailbox):
    file = make_file(FileStatus.EN_COURS_INSCRIPTION, establishment=company.establishment)
    _age(CandidateFile, file.id, updated_at=now() - timedelta(days=37 * 31))
    assert purge().notices == [f"active-file:{file.id}"]
    db.session.commit()
    _notice_sent_days_ago(31)
    assert purge().withdrawn_files == [file.id]
    db.session.commit()
    db.session.expire_all()
    withdrawn = db.session.get(CandidateFile, file.id)
    assert withdrawn.status == FileStatus.ABANDONNE and "Sans activité" in withdrawn.withdraw_reason


def test_a_phase_of_zero_months_is_never_applied(app, company):
    app.config["RETENTION_AUDIT_MONTHS"] = 0
    try:
        db.session.add(AuditEntry(action="x", at=utcnow() - timedelta(days=4000)))
        db.session.commit()
        assert purge().deleted_audit_entries == 0
    finally:
        app.config["RETENTION_AUDIT_MONTHS"] = 12


def test_the_daily_job_runs_the_purge(app, company, monkeypatch):
    from app import worker

    old = AuditEntry(action="x", at=utcnow() - timedelta(days=400))
    db.session.add(old)
    db.session.commit()
    old_id = old.id
    monkeypatch.setattr(worker, "worker_app", lambda: app)
    monkeypatch.setattr(worker, "_schedule_from_worker_app", lambda: None)
    counts = worker.daily_job()
    assert "retention_erased" in counts
    with app.app_context():
        assert db.session.get(AuditEntry, old_id) is None
