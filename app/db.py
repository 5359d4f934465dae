"""Declarative base with a naming convention so every constraint has a stable name, and the few SQL
constructs the models' hybrid properties need on both SQLite and PostgreSQL. Imports nothing of the app."""

from __future__ import annotations

from sqlalchemy import Date, MetaData
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.expression import FunctionElement

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class date_add_days(FunctionElement):
    """SQL `date + n days` for a DATE column and a fixed integer n (n may be negative)."""

    type = Date()
    inherit_cache = True
    name = "date_add_days"

    def __init__(self, column, days: int):
        self.days = int(days)
        super().__init__(column)


@compiles(date_add_days)
def _date_add_days_default(element, compiler, **kw):
    (column,) = element.clauses
    return f"({compiler.process(column, **kw)} + {element.days})"  # PostgreSQL: date + integer is a date


@compiles(date_add_days, "sqlite")
def _date_add_days_sqlite(element, compiler, **kw):
    (column,) = element.clauses
    return f"date({compiler.process(column, **kw)}, '{element.days:+d} days')"
