"""Jury calendar, registration, decisions, publication, parchments, public verification."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("jury", __name__)
