"""Exchanges on a file that are not workflow steps: correction requests (the secretariat or the file's assessor
asks the company to correct something; every workflow event but `withdraw` waits for the answer) and the
file's thread of messages between the company, the file's assessor and the secretariat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import now as app_now
from app.extensions import db
from app.files.models import CandidateFile

__all__ = ["CorrectionRequest", "FileMessage"]

# The fields a correction request may name (`fields`), with what the company reads.
CORRECTABLE_FIELDS = {
    "first_name": "Prénom du candidat",
    "last_name": "Nom de naissance du candidat",
    "birth_date": "Date de naissance du candidat",
    "birth_place": "Lieu de naissance du candidat",
    "sex": "Sexe du candidat",
    "competence_codes": "Compétences choisies",
    "training_path": "Parcours de formation",
    "training_scheme": "Dispositif de formation",
    "training_org_siret": "Organisme de formation (SIRET)",
    "interview_date": "Date d'entretien",
    "diplome": "Diplôme",
    "dossier_candidature": "Dossier de candidature (outil n°6)",
}


class CorrectionRequest(db.Model):
    """« Correction demandée »: open until the company answers it (resolved_at and answer set together).
    At most one open request per file (partial unique index)."""

    __tablename__ = "correction_requests"
    __table_args__ = (
        CheckConstraint("(resolved_at IS NULL AND answer IS NULL) OR (resolved_at IS NOT NULL AND answer IS NOT NULL)",
                        name="answered_when_resolved"),
        Index("uq_correction_requests_open_per_file", "file_id", unique=True,
              sqlite_where=text("resolved_at IS NULL"), postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    # The names of the fields to correct (CORRECTABLE_FIELDS), in the order given.
    fields: Mapped[list[str] | None] = mapped_column(JSON)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=app_now)
    answer: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    resolved_at: Mapped[datetime | None]

    file: Mapped[CandidateFile] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def by(self) -> str | None:
        return self.requested_by.full_name if self.requested_by else None

    @property
    def at(self) -> datetime:
        return self.requested_at

    @property
    def answered_by(self) -> str | None:
        return self.resolved_by.full_name if self.resolved_by else None

    @property
    def reference(self) -> str:
        """How a refusal names it: « la demande de correction n° 3 du 02/12/2026 (Prénom Nom) »."""
        by = f" ({self.by})" if self.by else ""
        return f"la demande de correction n° {self.id} du {self.requested_at.strftime('%d/%m/%Y')}{by}"


def open_correction_request(file: CandidateFile) -> CorrectionRequest | None:
    """The file's open correction request, if any (one query, read by the workflow before each event)."""
    if file.id is None:
        return None
    return db.session.scalar(select(CorrectionRequest).where(
        CorrectionRequest.file_id == file.id, CorrectionRequest.resolved_at.is_(None)))


@dataclass(frozen=True)
class Attachment:
    """What app.core.uploads.serve_document needs of a stored scan."""

    filename: str
    stored_name: str
    content_type: str
    size: int


class FileMessage(db.Model):
    """One message of the file's thread, with an optional attachment checked as the file's documents are
    (app.core.uploads.store_upload: PDF, PNG or JPEG by content, size limit)."""

    __tablename__ = "file_messages"
    __table_args__ = (
        Index("ix_file_messages_file_id_at", "file_id", "at"),
        CheckConstraint("(attachment_stored_name IS NULL) = (attachment_filename IS NULL)", name="attachment_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=app_now)
    attachment_filename: Mapped[str | None] = mapped_column(String(255))
    attachment_stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    attachment_content_type: Mapped[str | None] = mapped_column(String(64))
    attachment_size: Mapped[int | None]

    file: Mapped[CandidateFile] = relationship()
    author: Mapped[User | None] = relationship()

    @property
    def by(self) -> str | None:
        return self.author.full_name if self.author else None

    @property
    def attachment(self) -> Attachment | None:
        if not self.attachment_stored_name:
            return None
        return Attachment(self.attachment_filename, self.attachment_stored_name, self.attachment_content_type or
                          "application/octet-stream", self.attachment_size or 0)
