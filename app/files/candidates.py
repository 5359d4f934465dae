"""Candidates (the person): creation and civil status (R12: once per establishment), and the emailed
invitation with which a candidate sets a password and completes their own civil status. Operations
flush, never commit: the request commits once."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts import services as accounts
from app.accounts.models import OneTimeToken, Role, User
from app.core import audit
from app.core.clock import today
from app.core.errors import Conflict, ValidationFailed
from app.core.links import SingleUseLinks
from app.core.validation import required_text
from app.extensions import db
from app.files import notifications
from app.files.models import (
    Candidate,
    name_key,
)

CANDIDATE_INVITATION = "candidate_invitation"
CANDIDATE_INVITATION_DAYS = 14
_USED = "Ce lien d'invitation a déjà été utilisé. Connectez-vous avec votre adresse email et votre mot de passe."
# A replaced invitation answers as a used one (as it always has): only the last email works.
CANDIDATE_LINKS = SingleUseLinks(
    OneTimeToken, unknown="Ce lien d'invitation n'existe pas.", used=_USED, replaced=_USED,
    expired="Ce lien d'invitation a expiré. Demandez à votre entreprise de vous inviter à nouveau.",
    lost_race="Ce lien d'invitation a déjà été utilisé.")
DUPLICATE_MESSAGE = (
    "Ce candidat existe déjà dans votre établissement (même nom, prénom et date de naissance) : "
    "ouvrez sa fiche plutôt que d'en créer une nouvelle."
)


def _check_birth_date(value) -> date:
    if value is None or value == "":
        raise ValidationFailed.for_field("birth_date", "La date de naissance est obligatoire.")
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed.for_field(
                "birth_date", "La date de naissance n'est pas valide (format attendu AAAA-MM-JJ)."
            ) from None
    if value >= today() or value.year < 1900:
        raise ValidationFailed.for_field("birth_date", "La date de naissance n'est pas plausible.")
    return value


def _find_duplicate(establishment_id: int, first_name: str, last_name: str, birth_date: date,
                    exclude_id: int | None = None) -> Candidate | None:
    query = select(Candidate).where(
        Candidate.establishment_id == establishment_id,
        Candidate.last_name_key == name_key(last_name),
        Candidate.first_name_key == name_key(first_name),
        Candidate.birth_date == birth_date,
    )
    if exclude_id is not None:
        query = query.where(Candidate.id != exclude_id)
    return db.session.scalar(query)


def _flush_candidate(candidate: Candidate) -> None:
    """The unique constraint backs the R12 check when two requests race."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict.for_field("last_name", DUPLICATE_MESSAGE) from None


def _apply_candidate_fields(candidate: Candidate, data: dict) -> None:
    candidate.birth_place = (data.get("birth_place") or "").strip() or None
    email = (data.get("email") or "").strip()
    candidate.email = accounts.check_email(email) if email else None
    for name in ("phone", "address", "job_title", "highest_diploma"):
        if name in data:
            setattr(candidate, name, (data.get(name) or "").strip() or None)


CREATION_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def clean_creation_token(value) -> str | None:
    """A creating form's idempotency token (random, put in the form when it is shown); anything else is
    no token (the form is then not protected, never refused for it)."""
    return value if isinstance(value, str) and CREATION_TOKEN.fullmatch(value) else None


def candidate_created_with(establishment_id: int, token) -> Candidate | None:
    """The candidate an earlier post of the same creating form made (back, then resubmit)."""
    token = clean_creation_token(token)
    if token is None:
        return None
    return db.session.scalars(select(Candidate).where(
        Candidate.creation_token == token, Candidate.establishment_id == establishment_id)).first()


def create_candidate(establishment, actor, *, first_name, last_name, birth_date, creation_token=None,
                     **data) -> Candidate:
    """R12: a candidate is created once per establishment (same names and birth date = duplicate). The same
    creating form posted twice (`creation_token`) answers the candidate made the first time."""
    already = candidate_created_with(establishment.id, creation_token)
    if already is not None:
        return already
    first_name = required_text(first_name, "first_name", "Le prénom")
    last_name = required_text(last_name, "last_name", "Le nom")
    birth_date = _check_birth_date(birth_date)
    if _find_duplicate(establishment.id, first_name, last_name, birth_date) is not None:
        raise Conflict.for_field("last_name", DUPLICATE_MESSAGE)
    candidate = Candidate(establishment_id=establishment.id, birth_date=birth_date,
                          creation_token=clean_creation_token(creation_token))
    candidate.set_names(first_name, last_name)
    _apply_candidate_fields(candidate, data)
    db.session.add(candidate)
    _flush_candidate(candidate)
    audit.record("candidate.create", actor, candidate)
    return candidate


def update_candidate(candidate: Candidate, actor, *, first_name, last_name, birth_date, **data) -> Candidate:
    """The company, or the candidate themself, corrects the civil status (R12 still holds)."""
    first_name = required_text(first_name, "first_name", "Le prénom")
    last_name = required_text(last_name, "last_name", "Le nom")
    birth_date = _check_birth_date(birth_date)
    if _find_duplicate(candidate.establishment_id, first_name, last_name, birth_date, candidate.id) is not None:
        raise Conflict.for_field("last_name", DUPLICATE_MESSAGE)
    candidate.set_names(first_name, last_name)
    candidate.birth_date = birth_date
    _apply_candidate_fields(candidate, data)
    _flush_candidate(candidate)
    audit.record("candidate.update", actor, candidate)
    return candidate


def invite_candidate(candidate: Candidate, actor, email: str | None = None) -> str:
    """Emails the candidate a one-time link to set a password and complete their civil status."""
    address = accounts.check_email(email or candidate.email or "", "email")
    user = candidate.user
    if user is None:
        existing = accounts.find_user_by_email(address)
        if existing is not None:
            raise Conflict.for_field("email", f"Un compte existe déjà pour l'adresse {address}.")
        user = accounts.create_user(address, Role.CANDIDAT, first_name=candidate.first_name,
                                    last_name=candidate.last_name, actor=actor)
        candidate.user = user
    elif user.email.lower() != address:
        if accounts.find_user_by_email(address) is not None:
            raise Conflict.for_field("email", f"Un compte existe déjà pour l'adresse {address}.")
        user.email = address
    candidate.email = address
    _, token = CANDIDATE_LINKS.issue(
        timedelta(days=CANDIDATE_INVITATION_DAYS),
        [OneTimeToken.user_id == user.id, OneTimeToken.purpose == CANDIDATE_INVITATION],
        user_id=user.id, purpose=CANDIDATE_INVITATION)
    notifications.candidate_invited(candidate, user, token)
    audit.record("candidate.invite", actor, candidate, email=address)
    return token


def candidate_invitation(token: str) -> OneTimeToken:
    """The live invitation behind a link; unknown 404, used, replaced or expired 410."""
    return CANDIDATE_LINKS.find(token, OneTimeToken.purpose == CANDIDATE_INVITATION)


def accept_candidate_invitation(token: str, password: str) -> User:
    """Spends the link (one conditional UPDATE) and sets the candidate's password."""
    invitation = candidate_invitation(token)
    accounts.set_password(invitation.user, password)  # raises before the link is spent if too weak
    CANDIDATE_LINKS.spend(invitation)
    audit.record("candidate.invitation_accepted", invitation.user, invitation.user)
    return invitation.user
