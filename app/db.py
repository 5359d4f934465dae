"""Declarative base with a naming convention so every constraint has a stable name."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def app_now() -> datetime:
    """The business clock (app.core.clock.now: APP_TODAY outside production) for the columns that tell a
    file's story, so that a demo or a test moved in time keeps its dates coherent. Security and operations
    columns (accounts, tokens, outbox, audit) keep the real time of utcnow."""
    from app.core.clock import now

    return now()


def utcnow() -> datetime:
    """Naive UTC timestamp (the same on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)
