"""The CPF register (R16): the fluxes sent to the Caisse des Dépôts and each passage they carried."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import now as app_now
from app.extensions import db

PASSAGE_STATUSES = ("transmis", "accepte", "rejete")


class CdcExport(db.Model):
    """One flux (XML file) deposited with the Caisse des Dépôts, and what its processing report said."""

    __tablename__ = "cdc_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    flux_id: Mapped[str] = mapped_column(String(50), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=app_now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    passages_count: Mapped[int] = mapped_column(default=0)
    report_received_at: Mapped[datetime | None]
    report_id: Mapped[str | None] = mapped_column(String(100))  # the CDC's idTraitement
    accepted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)

    created_by: Mapped[User | None] = relationship()
    passages: Mapped[list[CdcPassage]] = relationship(back_populates="export", order_by="CdcPassage.id",
                                                      cascade="all, delete-orphan")


class CdcPassage(db.Model):
    """A holder as one flux sent them: the file, the parchment number (idTechnique) and version sent, and
    what the CDC answered (accepted, or rejected with its message)."""

    __tablename__ = "cdc_passages"
    __table_args__ = (
        CheckConstraint("status IN ('transmis', 'accepte', 'rejete')", name="status"),
        Index("ix_cdc_passages_file_id_status", "file_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("cdc_exports.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32))
    version: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default="transmis")
    error: Mapped[str | None] = mapped_column(Text)

    export: Mapped[CdcExport] = relationship(back_populates="passages")
