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
from app.core.errors import Conflict
from app.core.links import SingleUseLinks
from app.extensions import db
from app.files import notifications
from app.files.identity import (  # noqa: F401 (the checks, and the names the other modules read here)
    CONTACT_FIELDS,
    FIELD_NAMES_FR,
    IDENTITY_FIELDS,
    MAX_OTHER_FIRST_NAMES,
    SEXES,
    FieldErrors,
    _check_birth_date,
    clean_contact,
    clean_identity,
    lookup_place,
)
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


LOCKED_MESSAGE = (
    "L'état civil de ce candidat figure sur un parchemin ou une attestation délivrés après la décision du jury : "
    "il ne peut plus être modifié ici. Demandez une rectification au secrétariat de la branche."
)

REASON_REQUIRED = "Le motif de la rectification est obligatoire : l'état civil figure sur un document délivré."


def _created_on(candidate: Candidate) -> date:
    return candidate.created_at.date() if candidate.created_at else today()


def _changed(candidate: Candidate, clean: dict) -> dict:
    return {name: value for name, value in clean.items() if getattr(candidate, name) != value}


def identity_changes(candidate: Candidate, data: dict) -> dict:
    """The identity fields of `data` (IDENTITY_FIELDS) that differ from the candidate's, validated; every
    mistake at once (ValidationFailed naming each field)."""
    errors = FieldErrors()
    clean = clean_identity({k: v for k, v in data.items() if k in IDENTITY_FIELDS}, errors,
                           on=_created_on(candidate))
    errors.raise_if_any()
    return _changed(candidate, clean)


def apply_identity(candidate: Candidate, changes: dict) -> None:
    """Writes validated identity changes (identity_changes) on the candidate, R12 still holding: a change
    into a duplicate of another candidate of the establishment is a Conflict, nothing written."""
    first_name = changes.get("first_name", candidate.first_name)
    last_name = changes.get("last_name", candidate.last_name)
    birth_date = changes.get("birth_date", candidate.birth_date)
    if {"first_name", "last_name", "birth_date"} & changes.keys() and _find_duplicate(
            candidate.establishment_id, first_name, last_name, birth_date, candidate.id) is not None:
        raise Conflict.for_field("last_name", DUPLICATE_MESSAGE)
    for name, value in changes.items():
        if name not in IDENTITY_FIELDS:
            raise ValueError(f"{name} is not an identity field")
        if name not in ("first_name", "last_name"):
            setattr(candidate, name, value)
    candidate.set_names(first_name, last_name)


def locked_refusal(changes: dict) -> Conflict:
    """R15: the company or the candidate changes the identity on an issued record."""
    return Conflict(LOCKED_MESSAGE, {name: [LOCKED_MESSAGE] for name in changes})


def check_candidate(data: dict, candidate: Candidate | None = None) -> None:
    """Every mistake of a candidate's form at once, nothing written (a refused form shows them all)."""
    errors = FieldErrors()
    on = _created_on(candidate) if candidate else None
    clean_identity({k: v for k, v in data.items() if k in IDENTITY_FIELDS}, errors, on=on)
    clean_contact(data, errors)
    errors.raise_if_any()


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


def create_candidate(establishment, actor, *, creation_token=None, **data) -> Candidate:
    """R12: a candidate is created once per establishment (same names and birth date = duplicate). The same
    creating form posted twice (`creation_token`) answers the candidate made the first time. Every mistake
    is named at once."""
    already = candidate_created_with(establishment.id, creation_token)
    if already is not None:
        return already
    unknown = set(data) - set(IDENTITY_FIELDS) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown candidate fields: {sorted(unknown)}")
    errors = FieldErrors()
    identity = clean_identity({name: data.get(name) for name in IDENTITY_FIELDS}, errors)
    contact = clean_contact({name: data.get(name) for name in CONTACT_FIELDS}, errors)
    errors.raise_if_any()
    if _find_duplicate(establishment.id, identity["first_name"], identity["last_name"],
                       identity["birth_date"]) is not None:
        raise Conflict.for_field("last_name", DUPLICATE_MESSAGE)
    candidate = Candidate(establishment_id=establishment.id, creation_token=clean_creation_token(creation_token))
    candidate.set_names(identity.pop("first_name"), identity.pop("last_name"))
    for name, value in {**identity, **contact}.items():
        setattr(candidate, name, value)
    db.session.add(candidate)
    _flush_candidate(candidate)
    audit.record("candidate.create", actor, candidate)
    return candidate


def update_candidate(candidate: Candidate, actor, *, rectify=None, reason=None, **data) -> Candidate:
    """The company, the candidate themself or the secretariat corrects the fields given in `data` (the others
    stay), R12 still holding. On an issued record (R15) identity changes are refused (409, sent to the
    secretariat), unless `rectify(changes)` is given: the secretariat's rectification (app.jury.record), which
    needs a `reason`. Every mistake is named at once; nothing is written when one is refused."""
    unknown = set(data) - set(IDENTITY_FIELDS) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown candidate fields: {sorted(unknown)}")
    errors = FieldErrors()
    identity = clean_identity({k: v for k, v in data.items() if k in IDENTITY_FIELDS}, errors,
                              on=_created_on(candidate))
    contact = clean_contact(data, errors)
    changes = _changed(candidate, identity)
    frozen = candidate.has_issued_record
    if frozen and changes and rectify is not None and not (reason or "").strip():
        errors.add("reason", REASON_REQUIRED)
    errors.raise_if_any()
    if frozen and changes:
        if rectify is None:
            raise locked_refusal(changes)
        rectify(changes)
    elif changes:
        apply_identity(candidate, changes)
    for name, value in contact.items():
        setattr(candidate, name, value)
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
