"""CQP referential (CQPs and competences) and assessors with their habilitation."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, SmallInteger, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.clock import utcnow
from app.extensions import db


class Cqp(db.Model):
    __tablename__ = "cqps"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(120), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Registration by France compétences: the repertoire (RNCP or RS), its code (RNCP35842, RS5614), the level
    # of the national framework (1..8, none for most RS), the NSF code (222, 222n), the date of the decision.
    repertoire: Mapped[str | None] = mapped_column(String(4))
    repertoire_code: Mapped[str | None] = mapped_column(String(16))
    level: Mapped[int | None] = mapped_column(SmallInteger)
    nsf_code: Mapped[str | None] = mapped_column(String(4))
    registered_on: Mapped[date | None] = mapped_column()
    # How many years the competences validated by a partial decision stay acquired (R13).
    carry_over_years: Mapped[int] = mapped_column(SmallInteger, default=5, server_default="5")

    competences: Mapped[list[Competence]] = relationship(
        back_populates="cqp", order_by="Competence.position", cascade="all, delete-orphan"
    )

    @property
    def active_competences(self) -> list[Competence]:
        return [c for c in self.competences if c.active]

    @property
    def is_registered(self) -> bool:
        """Registered in the RNCP or the RS: the branch is then a certifier (R16: holders go to the CPF)."""
        return bool(self.repertoire_code)

    @property
    def registration(self) -> dict:
        """What a parchment prints of the registration (frozen in the version at issue time)."""
        return {"title": self.title, "repertoire": self.repertoire, "repertoire_code": self.repertoire_code,
                "level": self.level, "nsf_code": self.nsf_code,
                "registered_on": self.registered_on.isoformat() if self.registered_on else None}


class Competence(db.Model):
    __tablename__ = "competences"
    __table_args__ = (UniqueConstraint("cqp_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cqp_id: Mapped[int] = mapped_column(ForeignKey("cqps.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    cqp: Mapped[Cqp] = relationship(back_populates="competences")


assessor_cqps = Table(
    "assessor_cqps",
    db.metadata,
    Column("assessor_id", ForeignKey("assessors.id", ondelete="CASCADE"), primary_key=True),
    Column("cqp_id", ForeignKey("cqps.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Assessor(db.Model):
    """An assessor habilitated by the branch (évaluateur habilité). No CQP listed = every CQP."""

    __tablename__ = "assessors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    habilitation_until: Mapped[date] = mapped_column(index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    organisation: Mapped[str | None] = mapped_column(String(255))
    # The SIRET of the organisation the assessor works for, as declared (independence: app.files.independence).
    organisation_siret: Mapped[str | None] = mapped_column(String(14))
    # Where the assessor works (code of the département, 2A, 974…): shown by the public list of assessors.
    departement: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    cqps: Mapped[list[Cqp]] = relationship(secondary=assessor_cqps, order_by="Cqp.code")

    @property
    def name(self) -> str:
        return self.user.full_name

    def is_habilitated(self, on: date, cqp: Cqp | None = None) -> bool:
        if self.habilitation_until < on or not self.user.active:
            return False
        return cqp is None or not self.cqps or cqp in self.cqps
