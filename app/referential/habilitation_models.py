"""An assessor's habilitation renewal request (the OPQTECC cycle the branch reuses): filed with its documents,
examined by the secretariat, granted with a new end date or refused with a reason."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import now
from app.extensions import db
from app.referential.models import Assessor


class RenewalStatus(StrEnum):
    DEPOSEE = "deposee"
    ACCORDEE = "accordee"
    REFUSEE = "refusee"


RENEWAL_STATUS_LABELS = {
    RenewalStatus.DEPOSEE: "En cours d'examen",
    RenewalStatus.ACCORDEE: "Accordé",
    RenewalStatus.REFUSEE: "Refusé",
}
PENDING = text("status = 'deposee'")


class HabilitationRenewal(db.Model):
    __tablename__ = "habilitation_renewals"
    __table_args__ = (
        CheckConstraint("status IN ('deposee', 'accordee', 'refusee')", name="status"),
        CheckConstraint("status <> 'accordee' OR granted_until IS NOT NULL", name="granted_until"),
        CheckConstraint("status <> 'refusee' OR refusal_reason IS NOT NULL", name="refusal_reason"),
        # One request under examination per assessor, even for two simultaneous submissions.
        Index("uq_habilitation_renewals_pending", "assessor_id", unique=True,
              sqlite_where=PENDING, postgresql_where=PENDING),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("assessors.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=RenewalStatus.DEPOSEE.value)
    previous_until: Mapped[date] = mapped_column()
    message: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=now)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_until: Mapped[date | None] = mapped_column()
    refusal_reason: Mapped[str | None] = mapped_column(Text)

    assessor: Mapped[Assessor] = relationship()
    decided_by: Mapped[User | None] = relationship()
    documents: Mapped[list[RenewalDocument]] = relationship(
        back_populates="renewal", order_by="RenewalDocument.id", cascade="all, delete-orphan")

    @property
    def is_pending(self) -> bool:
        return self.status == RenewalStatus.DEPOSEE.value

    @property
    def status_label(self) -> str:
        return RENEWAL_STATUS_LABELS[RenewalStatus(self.status)]


class RenewalDocument(db.Model):
    __tablename__ = "habilitation_renewal_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    renewal_id: Mapped[int] = mapped_column(ForeignKey("habilitation_renewals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    uploaded_at: Mapped[datetime] = mapped_column(default=now)

    renewal: Mapped[HabilitationRenewal] = relationship(back_populates="documents")
