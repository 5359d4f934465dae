"""The one clock for "today". APP_TODAY=YYYY-MM-DD overrides it outside production (API.md)."""

from __future__ import annotations

import os
from datetime import date, datetime

from flask import current_app, has_app_context

from app.db import utcnow


class ClockError(RuntimeError):
    pass


def today() -> date:
    """Today's date, read on each call so that tests and demos can move in time."""
    raw = os.environ.get("APP_TODAY", "").strip()
    if raw:
        if has_app_context() and current_app.config.get("APP_ENV") == "production":
            raise ClockError("APP_TODAY est refusé en production.")
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise ClockError(f"APP_TODAY doit être au format AAAA-MM-JJ (reçu : {raw!r}).") from exc
    return date.today()


def now() -> datetime:
    """Naive UTC now; when APP_TODAY is set, the same time of day on that date."""
    current = utcnow()
    if os.environ.get("APP_TODAY", "").strip():
        return datetime.combine(today(), current.time())
    return current
