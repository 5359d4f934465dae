"""Account operations: establishments, users, API tokens, login sessions."""

from __future__ import annotations

import secrets

from email_validator import EmailNotValidError, validate_email
from flask import session
from flask_login import login_user, logout_user
from sqlalchemy import func, select
from stdnum.fr import siret as siret_checker

from app.accounts.auth import hash_password, password_problems
from app.accounts.models import ApiToken, Establishment, Role, User
from app.core import audit
from app.core.errors import Conflict, ValidationFailed
from app.core.tokens import hash_token, new_token
from app.db import utcnow
from app.extensions import db

SIRET_MESSAGE = "Le SIRET doit comporter 14 chiffres et une clé de contrôle valide."


def normalize_siret(value: str | None) -> str:
    return "".join((value or "").split())


def check_siret(value: str | None, field: str = "siret") -> str:
    siret = normalize_siret(value)
    if not siret:
        raise ValidationFailed.for_field(field, "Le SIRET est obligatoire.")
    if not siret.isdigit() or len(siret) != 14 or not siret_checker.is_valid(siret):
        raise ValidationFailed.for_field(field, SIRET_MESSAGE)
    return siret


def check_email(value: str | None, field: str = "email") -> str:
    try:
        return validate_email((value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed.for_field(field, "L'adresse email n'est pas valide.") from None


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def find_establishment(siret: str) -> Establishment | None:
    return db.session.scalar(select(Establishment).where(Establishment.siret == normalize_siret(siret)))


def create_establishment(siret: str, name: str, *, actor=None, address=None, postcode=None, city=None,
                         contact_email=None) -> Establishment:
    """R12: one establishment per SIRET."""
    siret = check_siret(siret)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.for_field("name", "La raison sociale de l'établissement est obligatoire.")
    if contact_email:
        contact_email = check_email(contact_email, "contact_email")
    if find_establishment(siret) is not None:
        raise Conflict.for_field("siret", f"Un établissement existe déjà pour le SIRET {siret}.")
    establishment = Establishment(siret=siret, name=name, address=address or None, postcode=postcode or None,
                                  city=city or None, contact_email=contact_email or None)
    db.session.add(establishment)
    db.session.flush()
    audit.record("establishment.create", actor, establishment, siret=siret)
    return establishment


def create_user(email: str, role: str, *, password: str | None = None, first_name: str = "", last_name: str = "",
                establishment: Establishment | None = None, actor=None) -> User:
    email = check_email(email)
    if role not in {r.value for r in Role}:
        raise ValidationFailed.for_field(
            "role", f"Rôle inconnu : {role}. Rôles possibles : {', '.join(r.value for r in Role)}."
        )
    if role == Role.ENTREPRISE and establishment is None:
        raise ValidationFailed.for_field("siret", "Un utilisateur entreprise doit être rattaché à un établissement.")
    if password is not None:
        problems = password_problems(password)
        if problems:
            raise ValidationFailed("; ".join(problems), {"password": problems})
    if find_user_by_email(email) is not None:
        raise Conflict.for_field("email", f"Un compte existe déjà pour l'adresse {email}.")
    user = User(
        email=email,
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        establishment=establishment,
        password_hash=hash_password(password) if password else None,
        session_nonce=secrets.token_hex(16),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor, user, role=role)
    return user


def set_password(user: User, password: str) -> None:
    problems = password_problems(password)
    if problems:
        raise ValidationFailed("; ".join(problems), {"password": problems})
    user.password_hash = hash_password(password)
    user.session_nonce = secrets.token_hex(16)  # every other session of this user dies
    audit.record("user.password_set", user, user)


def start_session(user: User, remember: bool = False) -> None:
    """Login: a fresh session (no fixation) bound to a new nonce."""
    session.clear()
    user.session_nonce = secrets.token_hex(16)
    user.last_login_at = utcnow()
    login_user(user, remember=remember, fresh=True)
    session.permanent = True
    audit.record("user.login", user, user)


def end_session(user: User) -> None:
    """Logout: the nonce changes, so a copy of the old cookie is dead too."""
    user.session_nonce = secrets.token_hex(16)
    audit.record("user.logout", user, user)
    logout_user()
    session.clear()


def create_api_token(user: User, name: str | None = None) -> str:
    token = new_token(32)
    db.session.add(ApiToken(user=user, token_hash=hash_token(token), name=name))
    db.session.flush()
    audit.record("api_token.create", user, user)
    return token
