"""Jury sessions, decisions, parchments and what was printed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    case,
    false,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Role, User
from app.core.clock import now as app_now
from app.core.clock import today
from app.core.templating import PARIS
from app.db import date_add_days
from app.extensions import db
from app.files.models import CandidateFile
from app.referential.models import Competence

REGISTRATION_DAYS_BEFORE = 21  # R7: at the latest 3 weeks before the jury date
PUBLICATION_DELAY_HOURS = 48  # R10

# R14: a member's row also says the college (salariés / employeurs), whether the member was present and
# whether presided (NULL college: a member named on the session whose attendance was not recorded yet).
COLLEGES = {"salaries": "Collège des salariés", "employeurs": "Collège des employeurs"}
jury_members = Table(
    "jury_members",
    db.metadata,
    Column("session_id", ForeignKey("jury_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("college", String(16)),
    Column("present", Boolean, nullable=False, default=False, server_default=false()),
    Column("president", Boolean, nullable=False, default=False, server_default=false()),
    CheckConstraint("college IS NULL OR college IN ('salaries', 'employeurs')", name="college"),
    CheckConstraint("NOT president OR present", name="president_present"),
)


class JuryMembership(db.Model):
    """A member of a session as its attendance records them (R14); written by `app.jury.attendance` only."""

    __table__ = jury_members

    user: Mapped[User] = relationship(viewonly=True, lazy="joined")

    @property
    def college_label(self) -> str | None:
        return COLLEGES.get(self.college) if self.college else None


class JurySession(db.Model):
    __tablename__ = "jury_sessions"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_positive"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[date] = mapped_column(index=True)
    capacity: Mapped[int]
    # Kept equal to the number of files registered; changed only by conditional UPDATEs (R8).
    seats_taken: Mapped[int] = mapped_column(default=0)
    location: Mapped[str | None] = mapped_column(String(255))
    cancelled_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=app_now)

    members: Mapped[list[User]] = relationship(secondary=jury_members, order_by="User.last_name")
    files: Mapped[list[CandidateFile]] = relationship(
        foreign_keys=[CandidateFile.jury_session_id], viewonly=True, order_by=CandidateFile.id)
    memberships: Mapped[list[JuryMembership]] = relationship(viewonly=True)

    # ------------------------------------------------------------ facts (Python and SQL)

    @hybrid_property
    def registration_deadline(self) -> date:
        """R7: registrations close 3 weeks before the jury date."""
        return self.date - timedelta(days=REGISTRATION_DAYS_BEFORE)

    @registration_deadline.inplace.expression
    @classmethod
    def _registration_deadline_expression(cls):
        return date_add_days(cls.date, -REGISTRATION_DAYS_BEFORE)

    @hybrid_property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @seats_left.inplace.expression
    @classmethod
    def _seats_left_expression(cls):
        return case((cls.capacity > cls.seats_taken, cls.capacity - cls.seats_taken), else_=0)

    @hybrid_property
    def is_open(self) -> bool:
        """Open for registration today: not cancelled nor published, deadline not passed (R7)."""
        return self.cancelled_at is None and self.published_at is None and today() <= self.registration_deadline

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        # date − 21 days ≥ today, written on the date column so that its index serves.
        last_date = today() + timedelta(days=REGISTRATION_DAYS_BEFORE)
        return and_(cls.cancelled_at.is_(None), cls.published_at.is_(None), cls.date >= last_date)

    @property
    def publication_due_at(self) -> datetime:
        return datetime.combine(self.date, datetime.min.time()) + timedelta(hours=PUBLICATION_DELAY_HOURS)

    @hybrid_property
    def is_late(self) -> bool:
        """R10: not published 48 hours after the jury date."""
        return self.cancelled_at is None and self.published_at is None and self.publication_due_at < app_now()

    @is_late.inplace.expression
    @classmethod
    def _is_late_expression(cls):
        cutoff = app_now() - timedelta(hours=PUBLICATION_DELAY_HOURS)  # late when date (at midnight) < cutoff
        held_before = cls.date <= cutoff.date() if cutoff.time() > datetime.min.time() else cls.date < cutoff.date()
        return and_(cls.cancelled_at.is_(None), cls.published_at.is_(None), held_before)

    @property
    def is_held(self) -> bool:
        return today() >= self.date

    @property
    def state(self) -> str:
        """ouverte (registrations open), close (deadline passed), tenue (date reached), publiee, annulee."""
        on = today()
        if self.cancelled_at is not None:
            return "annulee"
        if self.published_at is not None:
            return "publiee"
        if on >= self.date:
            return "tenue"
        if on > self.registration_deadline:
            return "close"
        return "ouverte"

    @property
    def state_label(self) -> str:
        return SESSION_STATES[self.state]

    # ------------------------------------------------------------ who may see it

    @classmethod
    def visible_to(cls, user) -> Select:
        """Every signed-in user sees the calendar; a jury member's own sessions are `sat_by(user)`."""
        return select(cls) if getattr(user, "is_authenticated", False) else select(cls).where(false())

    @classmethod
    def sat_by(cls, user) -> Select:
        return select(cls).where(cls.cancelled_at.is_(None), cls.members.any(User.id == user.id))

    def can_view(self, user) -> bool:
        """The session's page (files, booklet): the secretariat, and its members while it is not cancelled."""
        if getattr(user, "role", None) == Role.SECRETARIAT:
            return True
        return getattr(user, "role", None) == Role.JURY and self.cancelled_at is None and user in self.members

    def can_publish(self, user) -> bool:
        return getattr(user, "is_secretariat", False) and self.cancelled_at is None \
            and self.published_at is None and self.is_held

    def publication_refusal(self, undecided: int) -> str | None:
        """Why the results cannot be published now (R10), in French; None when they can, given the
        number of registered files still without a decision."""
        if self.cancelled_at is not None:
            return "Session annulée : ses résultats ne peuvent pas être publiés."
        if self.published_at is not None:
            return f"Résultats déjà publiés le {self.published_at.strftime('%d/%m/%Y')}."
        if not self.is_held:
            return f"Publication possible à partir de la date du jury, le {self.date.strftime('%d/%m/%Y')}."
        if undecided:
            files = "1 dossier sans décision" if undecided == 1 else f"{undecided} dossiers sans décision"
            return f"Publication impossible : {files}. Enregistrez toutes les décisions avant de publier."
        missing = self.attendance_missing
        if missing:
            return "Publication impossible : la feuille de présence du jury n'est pas complète (" + " ; ".join(missing) + ")."
        return None

    # ------------------------------------------------------------ attendance (R14)

    @property
    def present_by_college(self) -> dict[str, list[User]]:
        present = {college: [] for college in COLLEGES}
        for membership in sorted(self.memberships, key=lambda m: (m.user.last_name, m.user.first_name)):
            if membership.present and membership.college in present:
                present[membership.college].append(membership.user)
        return present

    @property
    def president(self) -> User | None:
        return next((m.user for m in self.memberships if m.president and m.present), None)

    @property
    def attendance_recorded(self) -> bool:
        return any(m.college for m in self.memberships)

    @property
    def attendance_missing(self) -> list[str]:
        """What the attendance lacks for the jury to be paritaire (R14), in French; empty when complete."""
        minimum = current_app.config.get("JURY_MIN_PER_COLLEGE", 2)
        missing = []
        for college, present in self.present_by_college.items():
            if len(present) < minimum:
                label = COLLEGES[college].replace("Collège", "collège")
                missing.append(f"{label} : {len(present)} membre présent sur {minimum} requis"
                               if len(present) <= 1 else
                               f"{label} : {len(present)} membres présents sur {minimum} requis")
        if self.president is None:
            missing.append("aucun président présent désigné")
        return missing

    @staticmethod
    def deadline_passed_for(on_date: date | None) -> bool:
        """A session on that date would open with its registration deadline (R7) already past."""
        return on_date is not None and on_date - timedelta(days=REGISTRATION_DAYS_BEFORE) < today()


SESSION_STATES = {
    "ouverte": "Ouverte",
    "close": "Inscriptions closes",
    "tenue": "Tenue",
    "publiee": "Publiée",
    "annulee": "Annulée",
}


class Decision(db.Model):
    """The jury's decision on a file, per competence. Correctable until publication."""

    __tablename__ = "decisions"
    __table_args__ = (CheckConstraint("status IN ('valide', 'partiel', 'non_valide')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("jury_sessions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(default=app_now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)

    file: Mapped[CandidateFile] = relationship(back_populates="decision")
    jury_session: Mapped[JurySession] = relationship()
    results: Mapped[list[DecisionResult]] = relationship(back_populates="decision", cascade="all, delete-orphan")
    rectifications: Mapped[list[DecisionRectification]] = relationship(
        back_populates="decision", order_by="DecisionRectification.id", cascade="all, delete-orphan"
    )

    @property
    def validated_competences(self) -> list[Competence]:
        """The competences the jury validated, in the CQP's order (what a parchment lists)."""
        return [r.competence for r in sorted(self.results, key=lambda r: r.competence.position) if r.validated]


class DecisionResult(db.Model):
    __tablename__ = "decision_results"
    __table_args__ = (UniqueConstraint("decision_id", "competence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    validated: Mapped[bool]

    decision: Mapped[Decision] = relationship(back_populates="results")
    competence: Mapped[Competence] = relationship()


class DecisionRectification(db.Model):
    """A decision changed after publication: the old one is kept with the reason."""

    __tablename__ = "decision_rectifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    previous_status: Mapped[str] = mapped_column(String(16))
    previous_results: Mapped[list] = mapped_column(JSON)
    new_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=app_now)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)

    decision: Mapped[Decision] = relationship(back_populates="rectifications")


class Parchment(db.Model):
    """Parchemin (valide) or attestation of validated competences (partiel), with a public number."""

    __tablename__ = "parchments"
    __table_args__ = (CheckConstraint("kind IN ('parchemin', 'attestation')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=app_now)

    file: Mapped[CandidateFile] = relationship(back_populates="parchment")
    prints: Mapped[list[PrintRecord]] = relationship(back_populates="parchment", order_by="PrintRecord.id")
    # R15: what the document says, frozen at the decision; a rectification adds a version, never overwrites.
    versions: Mapped[list[ParchmentVersion]] = relationship(
        back_populates="parchment", order_by="ParchmentVersion.version", cascade="all, delete-orphan")

    @property
    def current_version(self) -> ParchmentVersion | None:
        """The version in force (the last issued); None only for a row written without one (bulk inserts of
        benchmarks and older tools: see `app.jury.parchments.record_of`)."""
        return self.versions[-1] if self.versions else None


class ParchmentVersion(db.Model):
    """One issue of a parchment or attestation (R15): the holder's identity, the competences, the CQP and the
    jury date as printed, under the parchment's number. Version 1 is issued at the decision; each
    rectification (of the civil status or of the decision) issues the next one with its reason."""

    __tablename__ = "parchment_versions"
    __table_args__ = (
        UniqueConstraint("parchment_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("kind IN ('parchemin', 'attestation')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parchment_id: Mapped[int] = mapped_column(ForeignKey("parchments.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(default=app_now)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # None for version 1
    # {first_name, last_name (birth name), usage_name, other_first_names: [..], birth_date (ISO), sex,
    #  birth_place_code, birth_place, birth_country}
    holder: Mapped[dict] = mapped_column(JSON)
    # [{code, label, validated}] in the CQP's order: the jury's decision per competence
    competences: Mapped[list] = mapped_column(JSON)
    cqp_code: Mapped[str] = mapped_column(String(32))
    cqp_title: Mapped[str] = mapped_column(String(255))
    jury_date: Mapped[date]
    # The CQP's registration as printed (Cqp.registration at the first issue, kept by the next versions):
    # {title, repertoire, repertoire_code, level, nsf_code, registered_on}; None in versions issued before.
    cqp_registration: Mapped[dict | None] = mapped_column(JSON)

    parchment: Mapped[Parchment] = relationship(back_populates="versions")
    issued_by: Mapped[User | None] = relationship()

    @property
    def holder_name(self) -> str:
        """« Prénom NOM » (the birth name) as printed."""
        return f"{self.holder.get('first_name', '')} {(self.holder.get('last_name') or '').upper()}".strip()

    @property
    def public_name(self) -> str:
        """« Prénom N. », what public verification shows of a holder."""
        return f"{self.holder.get('first_name', '')} {(self.holder.get('last_name') or '')[:1].upper()}."

    @property
    def issued_on(self) -> date:
        """The day of issue, in Paris (issued_at is naive UTC)."""
        return self.issued_at.replace(tzinfo=UTC).astimezone(PARIS).date()

    @property
    def birth_date(self) -> date | None:
        value = self.holder.get("birth_date")
        return date.fromisoformat(value) if value else None

    @property
    def validated_competences(self) -> list[RecordedCompetence]:
        return [RecordedCompetence(c["code"], c["label"]) for c in self.competences if c.get("validated")]

    @property
    def decision(self) -> str:
        """The decision the document states: valide (parchemin) or partiel (attestation)."""
        return "valide" if self.kind == "parchemin" else "partiel"


@dataclass(frozen=True)
class RecordedCompetence:
    """A competence as a document version lists it."""

    code: str
    label: str


class PrintRecord(db.Model):
    """What the secretariat printed (alone or in a session batch) and when it was sent."""

    __tablename__ = "print_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    parchment_id: Mapped[int] = mapped_column(ForeignKey("parchments.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("jury_sessions.id"), index=True)
    batch: Mapped[str | None] = mapped_column(String(64), index=True)
    printed_at: Mapped[datetime] = mapped_column(default=app_now)
    printed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[datetime | None]

    parchment: Mapped[Parchment] = relationship(back_populates="prints")
