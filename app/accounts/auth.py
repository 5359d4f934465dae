"""Password hashing (Argon2id), session and API-token loading for Flask-Login."""

from __future__ import annotations

import logging
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import request
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.models import ApiToken, User, UserSession
from app.core import apart
from app.core.clock import utcnow
from app.core.tokens import hash_token
from app.extensions import db

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# Verified when the email is unknown, so that timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("certifia-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if ok and user is not None and user.password_hash and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return ok and user is not None and bool(user.password_hash)


def password_problems(password: str) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")
    return problems


# The last seen time of a device's session is written at most this often (not a write per request).
SEEN_EVERY = timedelta(minutes=5)


def load_user_from_session(user_id: str) -> User | None:
    """The cookie's `<user id>:<device session key>`: the user when that session is open and the
    account active (one query: the session row and its user)."""
    if request.path.startswith("/api/"):
        return None  # the API authenticates by Bearer token only
    ident, _, key = user_id.partition(":")
    if not ident.isascii() or not ident.isdigit() or not key:
        return None
    row = db.session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.key_hash == hash_token(key), UserSession.ended_at.is_(None), User.id == int(ident))
    ).first()
    if row is None or not row.User.active:
        return None
    device, user = row
    moment = utcnow()
    if moment - device.last_seen_at >= SEEN_EVERY:
        device.last_seen_at = moment
    device.key = key
    user.current_session = device
    return user


def load_user_from_token(req) -> User | None:
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    api_token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()), ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.user))  # the caller in the same statement
    )
    if api_token is None or not api_token.user.active:
        return None
    note_token_use(api_token)
    return api_token.user


# A token's last use is written at most this often, and never by the request's transaction: calls
# sharing one token would otherwise queue on its row lock until each request commits.
TOKEN_USE_EVERY = timedelta(minutes=5)
log = logging.getLogger(__name__)


def note_token_use(api_token: ApiToken) -> None:
    """Writes `last_used_at` when it is older than TOKEN_USE_EVERY: one conditional UPDATE in its own
    autocommit connection, so that the row lock lasts that UPDATE only and a refused request keeps it.
    Concurrent calls: one writes, the others skip the row it holds (SKIP LOCKED, PostgreSQL) or find it
    fresh. A failure only skips the note."""
    moment = utcnow()
    if api_token.last_used_at is not None and moment - api_token.last_used_at < TOKEN_USE_EVERY:
        return
    tokens = ApiToken.__table__
    stale = or_(tokens.c.last_used_at.is_(None), tokens.c.last_used_at < moment - TOKEN_USE_EVERY)
    free = select(tokens.c.id).where(tokens.c.id == api_token.id, stale).with_for_update(skip_locked=True)
    try:
        with apart.engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(update(tokens).where(tokens.c.id.in_(free)).values(last_used_at=moment))
    except Exception as error:  # the database busy or down: the request itself says so, not this note
        log.warning("Dernière utilisation du jeton %s non enregistrée (%s)", api_token.id, error.__class__.__name__)
        return
    # What the row now holds, without the request's session writing it again at its commit.
    set_committed_value(api_token, "last_used_at", moment)
