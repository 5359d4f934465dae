"""Cross-area tables: outbox emails, audit log, sent reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.extensions import db

OUTBOX_STATUSES = ("pending", "sent", "failed")


class OutboxEmail(db.Model):
    __tablename__ = "outbox_emails"
    __table_args__ = (
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in OUTBOX_STATUSES) + ")", name="status"),
        Index("ix_outbox_emails_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[str] = mapped_column(Text)  # comma separated
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    file_id: Mapped[int | None] = mapped_column(ForeignKey("candidate_files.id", ondelete="SET NULL"), index=True)

    @property
    def recipient_list(self) -> list[str]:
        return [r for r in self.recipients.split(",") if r]


class AuditEntry(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    # RGPD: whose personal data the entry read or changed (no foreign key: the entry outlives an erasure),
    # and the page or API endpoint that did it.
    candidate_id: Mapped[int | None] = mapped_column(index=True)
    page: Mapped[str | None] = mapped_column(String(255))


class AuditEntryCandidate(db.Model):
    """RGPD, a bulk read (an export of a list): the people one audit entry read, one narrow row each, so that an
    export naming a million people writes one entry and a million (candidate_id, audit_id) pairs. No foreign key
    to the candidate (the link outlives an erasure, as the entry does); the entry's deletion removes its links."""

    __tablename__ = "audit_log_candidates"

    candidate_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id", ondelete="CASCADE"), primary_key=True,
                                          autoincrement=False, index=True)  # the cascade's lookup


class SentReminder(db.Model):
    """One row per reminder sent, so that a daily cron sends each one once."""

    __tablename__ = "sent_reminders"
    __table_args__ = (UniqueConstraint("kind", "target_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    target_key: Mapped[str] = mapped_column(String(128))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def first_time(cls, kind: str, target_key: str) -> bool:
        """True the first time (kind, target_key) is seen; records it (flushed with the caller's transaction)."""
        if db.session.scalar(select(cls.id).where(cls.kind == kind, cls.target_key == target_key)):
            return False
        db.session.add(cls(kind=kind, target_key=target_key))
        return True
