"""R13: competences acquired by a published partial decision, and which of them a later file carries.

Why a table of the files area rather than a query over the jury's decisions: the files area never imports
the jury (tests/test_architecture.py), yet it must know, when a company creates a new file, what the
candidate already holds. The jury area writes these rows when it publishes a `partiel` decision (and keeps
them right when it rectifies one); the files area reads them. `valid_until` is fixed at publication (jury
date + the CQP's `carry_over_years` then in force): a later change of the branch's duration does not
shorten nor lengthen what a jury already granted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now as app_now
from app.extensions import db
from app.referential.models import Competence


class AcquiredCompetence(db.Model):
    """One competence of a CQP validated for a candidate by a published `partiel` decision (its source file),
    acquired from the jury date up to `valid_until` included."""

    __tablename__ = "acquired_competences"
    __table_args__ = (
        UniqueConstraint("file_id", "competence_id"),
        Index("ix_acquired_competences_candidate_id_cqp_id", "candidate_id", "cqp_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    cqp_id: Mapped[int] = mapped_column(ForeignKey("cqps.id"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    # The file whose published decision validated it (the attempt).
    file_id: Mapped[int] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"), index=True)
    jury_date: Mapped[date]
    valid_until: Mapped[date] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=app_now)

    competence: Mapped[Competence] = relationship(lazy="joined")
    source_file: Mapped[CandidateFile] = relationship(  # noqa: F821
        "CandidateFile", foreign_keys=[file_id])

    def is_valid_on(self, day: date) -> bool:
        return self.jury_date <= day <= self.valid_until

    @property
    def counts(self) -> bool:
        """Still a competence of the referential (one removed since is neither offered nor counted)."""
        return bool(self.competence.active)


# The acquired competences a file carries (fixed while the file is being registered): the evaluation and the
# jury decide the others only, and its decision counts these (R9 read with R13).
file_carried_competences = Table(
    "file_carried_competences",
    db.metadata,
    Column("file_id", ForeignKey("candidate_files.id", ondelete="CASCADE"), primary_key=True),
    Column("acquired_id", ForeignKey("acquired_competences.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)
