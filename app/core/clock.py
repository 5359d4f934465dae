"""The one clock for "today". APP_TODAY=YYYY-MM-DD overrides it outside production (README: APP_TODAY).

Two clocks: `now`/`today` are the business clock (APP_TODAY outside production) for the columns and
rules that tell a file's story, so that a demo or a test moved in time keeps its dates coherent;
`utcnow` is the real time, for security and operations (accounts, tokens, outbox, audit)."""

from __future__ import annotations

import calendar
import os
from datetime import UTC, date, datetime

from flask import current_app, has_app_context


class ClockError(RuntimeError):
    pass


def utcnow() -> datetime:
    """Naive UTC timestamp (the same on SQLite and PostgreSQL): the real time."""
    return datetime.now(UTC).replace(tzinfo=None)


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


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
