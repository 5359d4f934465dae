"""Small checks of raw values shared by the services (forms and API bodies reach them as text)."""

from __future__ import annotations

from datetime import date

from app.core.errors import ValidationFailed

MAX_ID_DIGITS = 11
MAX_ID = 2**31 - 1  # ids are INTEGER columns: beyond, no row has that id and PostgreSQL refuses the parameter


def as_id(value) -> int | None:
    """An integer id (1 to 2**31 - 1) from an int or a string of digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS):
        return None
    return int(text) if 0 < int(text) <= MAX_ID else None


def required_text(value, field: str, label: str) -> str:
    """The stripped text; `label` (« Le prénom ») names the field in the French message when it is empty."""
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if not text:
        raise ValidationFailed.for_field(field, f"{label} est obligatoire.")
    return text


def parse_date(value, field: str, label: str) -> date | None:
    """None when empty; a date from a date or an ISO `AAAA-MM-JJ` string; else a French message."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed.for_field(field, f"{label} n'est pas valide (format attendu AAAA-MM-JJ).") from None
