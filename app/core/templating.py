"""Jinja filters and globals every area uses: French dates, French plurals (`pluriel`), today. Each area registers its own
(status labels in files, role labels in accounts) on its blueprint: core imports no area."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask

PARIS = ZoneInfo("Europe/Paris")

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")


def date_fr(value: date | datetime | None, with_time: bool = False) -> str:
    """12 mars 2027 (and « à 14 h 05 » with the time)."""
    if value is None:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    text = f"{day} {MONTHS[value.month - 1]} {value.year}"
    if with_time and isinstance(value, datetime):
        text += f" à {value.hour} h {value.minute:02d}"
    return text


def _in_paris(value: datetime) -> datetime:
    """A naive UTC timestamp (app/core/clock.utcnow) as a naive Paris time."""
    return value.replace(tzinfo=UTC).astimezone(PARIS).replace(tzinfo=None)


def datetime_fr(value: datetime | None) -> str:
    """A naive UTC timestamp (app/core/clock.utcnow) as the French read it: « 1er décembre 2026 à 22 h 05 »,
    Paris time."""
    if value is None:
        return ""
    return date_fr(_in_paris(value), with_time=True)


def day_in_paris(value: datetime) -> str:
    """A naive UTC timestamp's day as the French read it, « 03/04/2027 »: 22:30 UTC is already tomorrow in Paris."""
    return date_short(_in_paris(value))


def pluriel(count: int | None, singular: str, plural: str | None = None) -> str:
    """« 0 place », « 1 place », « 2 places »: in French 0 and 1 take the singular; thousands are
    grouped by a narrow no-break space (« 1 234 dossiers »). The plural is the singular plus « s »
    unless given. In templates: {{ n|pluriel("place", "places") }}."""
    count = count or 0
    word = singular if abs(count) < 2 else (plural if plural is not None else singular + "s")
    return f"{count:,}".replace(",", "\u202f") + " " + word


def born_on(sex: str | None) -> str:
    """« née le », « né le », or « date de naissance : » when the sex is not known: never « né(e) ».
    In templates: {{ candidate.sex|born_on }} {{ candidate.birth_date|date_fr }}."""
    return {"F": "née le", "M": "né le"}.get(sex or "", "date de naissance :")


def date_short(value: date | datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def init_app(app: Flask) -> None:
    from app.core.clock import today
    from app.core.forms import error_summary

    app.jinja_env.filters["date_fr"] = date_fr
    app.jinja_env.filters["date_short"] = date_short
    app.jinja_env.filters["datetime_fr"] = datetime_fr
    app.jinja_env.filters["pluriel"] = pluriel
    app.jinja_env.filters["born_on"] = born_on
    app.jinja_env.globals["today"] = today
    app.jinja_env.globals["error_summary"] = error_summary
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
