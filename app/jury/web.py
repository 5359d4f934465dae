"""The jury blueprint and what its pages share: the current user, a session or a visible file or 404. The routes
are in views, decision_views and parchment_views."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.core.permissions import require
from app.extensions import db
from app.files.models import CandidateFile
from app.jury.models import JurySession

bp = Blueprint("jury", __name__)


def _user():
    return current_user._get_current_object()


def _session_or_404(session_id: int) -> JurySession:
    jury_session = db.session.get(JurySession, session_id)
    require(jury_session is not None)
    return jury_session


def _file_or_404(file_id: int) -> CandidateFile:
    """The file if the user may see it (another tenant's file does not exist)."""
    file = db.session.get(CandidateFile, file_id)
    require(file is not None and file.can_view(_user()))
    return file
