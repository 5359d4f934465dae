"""Company, candidate and assessor pages for candidates and files."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("files", __name__)
