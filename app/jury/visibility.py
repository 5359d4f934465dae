"""R10: what a viewer may see of a file's decision. Until its session is published, a company,
candidate or partner sees a decided file as `inscription_jury` with no decision."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.files.models import DECISION_STATUSES, CandidateFile, FileStatus
from app.jury.models import Decision, JurySession, Parchment

SEES_UNPUBLISHED = {"secretariat", "jury"}


def is_published(file: CandidateFile) -> bool:
    if file.jury_session_id is None:
        return False
    session = db.session.get(JurySession, file.jury_session_id)
    return session is not None and session.published_at is not None


def may_see_decision(file: CandidateFile, viewer) -> bool:
    return getattr(viewer, "role", None) in SEES_UNPUBLISHED or is_published(file)


def visible_status(file: CandidateFile, viewer) -> str:
    if file.status_enum in DECISION_STATUSES and not may_see_decision(file, viewer):
        return FileStatus.INSCRIPTION_JURY.value
    return file.status


def decision_payload(file: CandidateFile, viewer) -> dict | None:
    """{"status", "results": [{competence_code, validated}], "parchment_number", "comment"} or None."""
    if file.status_enum not in DECISION_STATUSES or not may_see_decision(file, viewer):
        return None
    decision = db.session.scalar(select(Decision).where(Decision.file_id == file.id))
    if decision is None:
        return None
    parchment = db.session.scalar(select(Parchment).where(Parchment.file_id == file.id))
    published = is_published(file)
    return {
        "status": decision.status,
        "results": [
            {"competence_code": r.competence.code, "validated": r.validated}
            for r in sorted(decision.results, key=lambda r: r.competence.position)
        ],
        "parchment_number": parchment.number if parchment and (published or viewer.role == "secretariat") else None,
        "comment": decision.comment,
    }
