"""API resources of the stats area (see shared/API.md)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_stats", __name__, description="stats")
