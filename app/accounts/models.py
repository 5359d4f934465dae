"""Establishments, users, account requests, one-time tokens, API tokens, partner access log."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now as app_now
from app.core.clock import utcnow
from app.extensions import db


class Role(enum.StrEnum):
    ENTREPRISE = "entreprise"
    CANDIDAT = "candidat"
    EVALUATEUR = "evaluateur"
    EVALUATEUR_METIER = "evaluateur_metier"
    JURY = "jury"
    SECRETARIAT = "secretariat"
    PARTENAIRE = "partenaire"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ENTREPRISE: "Entreprise",
    Role.CANDIDAT: "Candidat",
    Role.EVALUATEUR: "Évaluateur habilité",
    Role.EVALUATEUR_METIER: "Évaluateur métier",
    Role.JURY: "Membre du jury",
    Role.SECRETARIAT: "Secrétariat CQP",
    Role.PARTENAIRE: "Partenaire",
}

_ROLE_CHECK = "role IN (" + ", ".join(f"'{r.value}'" for r in Role) + ")"


class Establishment(db.Model):
    __tablename__ = "establishments"

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(255))
    postcode: Mapped[str | None] = mapped_column(String(10), index=True)
    city: Mapped[str | None] = mapped_column(String(120))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="establishment")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_ROLE_CHECK, name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), index=True)
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishments.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # No longer read: the login sessions are rows of user_sessions (one per device). Kept until the
    # code outside accounts that still writes it (tests/test_app.py, tests/perf/synthetic.py) stops.
    session_nonce: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    establishment: Mapped[Establishment | None] = relationship(back_populates="users")

    # The device's session this request runs in (set by the session loader and at login), or None.
    current_session = None  # a UserSession; not a column

    def get_id(self) -> str:
        """What the session cookie carries: the user's id and the device session's random key (only
        its hash is stored). Ending that row kills the cookie and every copy of it."""
        key = self.current_session.key if self.current_session is not None else ""
        return f"{self.id}:{key}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def full_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    # What a user is, for permission methods and templates (never a role string compared in a template).
    @property
    def is_secretariat(self) -> bool:
        return self.role == Role.SECRETARIAT

    @property
    def is_company(self) -> bool:
        return self.role == Role.ENTREPRISE

    @property
    def is_assessor(self) -> bool:
        return self.role == Role.EVALUATEUR

    @property
    def is_candidate(self) -> bool:
        return self.role == Role.CANDIDAT

    @property
    def is_jury_member(self) -> bool:
        return self.role == Role.JURY

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTENAIRE

    @property
    def sees_birth_dates(self) -> bool:
        """RGPD minimisation: the birth date is shown to those who need it (the company, the secretariat, the
        candidate themselves); never to assessors; to the jury only as JURY_BOOKLET_SHOWS_BIRTH_DATE says."""
        if self.role == Role.JURY:
            from flask import current_app

            return bool(current_app.config.get("JURY_BOOKLET_SHOWS_BIRTH_DATE"))
        return self.role in (Role.ENTREPRISE, Role.SECRETARIAT, Role.CANDIDAT)

    @property
    def sees_unpublished_decisions(self) -> bool:
        """The secretariat and the jury see a decision before its session is published (R10)."""
        return self.role in (Role.SECRETARIAT, Role.JURY)

    def can_be_managed_by(self, actor) -> bool:
        """The secretariat's actions on an account (deactivate, reactivate, send a new password link):
        never on their own account, nor on a job assessor's (no password: a link per file)."""
        return (bool(getattr(actor, "is_secretariat", False)) and actor.id != self.id
                and self.role != Role.EVALUATEUR_METIER)

    def belongs_to(self, establishment_id: int | None) -> bool:
        """A company user of that establishment."""
        return self.role == Role.ENTREPRISE and establishment_id is not None and self.establishment_id == establishment_id


class UserSession(db.Model):
    """One login on one device: the cookie carries a random key whose SHA-256 is `key_hash`. Logout
    ends this row only; « se déconnecter partout », a password change or reset, and a deactivation end
    the others (or all). An ended row never serves again."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    # The raw key, known only in the request that created the row (it goes into the cookie).
    key = ""  # not a column

    @property
    def device_label(self) -> str:
        """A short French name of the browser and system, from the User-Agent."""
        agent = self.user_agent or ""
        browser = next((name for token, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
                                                  ("Chrome/", "Chrome"), ("Safari/", "Safari")) if token in agent),
                       None)
        system = next((name for token, name in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                                                 ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))
                       if token in agent), None)
        if browser and system:
            return f"{browser} sur {system}"
        return browser or system or "Navigateur inconnu"


class AccountRequest(db.Model):
    """A company asks for an account; the secretariat approves or refuses it."""

    __tablename__ = "account_requests"
    __table_args__ = (CheckConstraint("status IN ('pending', 'approved', 'refused')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), index=True)
    establishment_name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(255))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(120))
    contact_first_name: Mapped[str] = mapped_column(String(120))
    contact_last_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=app_now)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


class OneTimeToken(db.Model):
    """Emailed single-use links (password set/reset, candidate invitation), kept by app/core/links.py:
    only the token's hash is stored; a link is live until used, replaced by a newer one, or expired."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('set_password', 'reset_password', 'candidate_invitation')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    replaced_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class PartnerAccessLog(db.Model):
    """Every call of the third-party read API, with its traceability parameters (API Entreprise way)."""

    __tablename__ = "partner_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    siret: Mapped[str] = mapped_column(String(14), index=True)
    context: Mapped[str] = mapped_column(String(255))
    recipient: Mapped[str] = mapped_column(String(14))
    object: Mapped[str] = mapped_column(String(255))
    status_code: Mapped[int] = mapped_column(default=200)
    ip: Mapped[str | None] = mapped_column(String(64))
