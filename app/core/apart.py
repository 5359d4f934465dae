"""Connections for the short writes kept out of a request's transaction (a token's last use, a jury seat:
issue 16), from a pool of their own.

The request's session already holds a connection of the app's pool when it makes such a write; taking
the second one from the same pool could leave every thread holding one and waiting for another (pool
exhausted). A separate small pool (PostgreSQL) never waits on the request's. SQLite (development, one
writer) uses the app's engine."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, create_engine

from app.extensions import db

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
                apart = create_engine(main.url, pool_size=2, max_overflow=30, pool_timeout=10, pool_pre_ping=True)
                _engines[id(main)] = apart
    return apart
