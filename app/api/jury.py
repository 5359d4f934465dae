"""API resources of the jury area (see shared/API.md)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_jury", __name__, description="jury")
