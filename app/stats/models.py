"""Exports prepared in the background (XLSX of the file list, a session's parchments): who asked, what,
how far it is, and the file once done (app/stats/export_jobs.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import now as app_now
from app.extensions import db

EXPORT_STATUSES = ("en_attente", "en_cours", "termine", "echec")
EXPORT_STATUS_LABELS = {"en_attente": "En attente", "en_cours": "En cours", "termine": "Terminé",
                        "echec": "Échec"}


class ExportJob(db.Model):
    __tablename__ = "export_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('en_attente', 'en_cours', 'termine', 'echec')", name="status"),
        CheckConstraint("done >= 0 AND (total IS NULL OR done <= total)", name="progress"),
        CheckConstraint("status <> 'termine' OR file_path IS NOT NULL", name="done_has_file"),
        Index("ix_export_jobs_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="en_attente")
    done: Mapped[int] = mapped_column(default=0)  # rows or documents written so far
    total: Mapped[int | None]  # known once the job started
    file_path: Mapped[str | None] = mapped_column(String(500))
    file_name: Mapped[str | None] = mapped_column(String(200))  # the download's name
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=app_now, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def status_label(self) -> str:
        return EXPORT_STATUS_LABELS[self.status]

    @property
    def percent(self) -> int:
        if self.status == "termine":
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in ("termine", "echec")

    def can_download(self, user) -> bool:
        """Only the user who asked for the export (not even another secretariat account)."""
        return user is not None and user.id == self.user_id and self.status == "termine"
