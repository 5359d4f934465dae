"""Connections for the short writes kept out of a request's transaction (a token's last use, a jury seat:
issue 16), from a pool of their own.

The request's session already holds a connection of the app's pool when it makes such a write; taking
the second one from the same pool could leave every thread holding one and waiting for another (pool
exhausted). A separate small pool (PostgreSQL) never waits on the request's. SQLite (development, one
writer) uses the app's engine."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, create_engine, event

from app.extensions import db

LOCK_TIMEOUT = "2s"
_engines: dict[int, Engine] = {}
_lock = threading.Lock()


def engine() -> Engine:
    """The engine of the writes apart, for the app's current database."""
    main = db.engine
    if main.dialect.name != "postgresql":
        return main
    apart = _engines.get(id(main))
    if apart is None:
        with _lock:
            apart = _engines.get(id(main))
            if apart is None:
                # Autocommit: each write is its one statement (no BEGIN/COMMIT round trips); a row held
                # elsewhere beyond LOCK_TIMEOUT fails the write instead of waiting on.
                apart = create_engine(main.url, pool_size=2, max_overflow=30, pool_timeout=10,
                                      isolation_level="AUTOCOMMIT")
                event.listen(apart, "connect", _set_lock_timeout)
                _engines[id(main)] = apart
    return apart


def _set_lock_timeout(dbapi_connection, _record) -> None:
    """lock_timeout, and synchronous_commit off: a write apart does not wait for its WAL flush, which
    PostgreSQL does with the row still locked (a jury seat: every registration to the session queued
    behind the previous one's fsync). Never lost when it matters: the request's own commit, synchronous,
    flushes the WAL up to it and beyond; a crash before that loses the seat with the registration that
    took it (or a seat given back, counted and unused: never oversold), or a token's last use (a hint)."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'; SET synchronous_commit = off")
    dbapi_connection.autocommit = autocommit
