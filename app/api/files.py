"""API resources of the files area (see shared/API.md)."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_files", __name__, description="files")
