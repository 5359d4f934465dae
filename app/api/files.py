"""API resources of the files area (see shared/API.md): candidates, files, documents, evaluation."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.extensions import db
from app.files.models import DECISION_STATUSES, STATUS_LABELS, CandidateFile, FileStatus
from app.jury.models import JurySession
from app.jury.visibility import decision_payload, may_see_decision, visible_status

blp = Blueprint("api_files", __name__, description="Candidats, dossiers, documents, évaluation")

# Events whose history rows would reveal an unpublished decision.
_DECISION_EVENTS = {"record_decision", "correct_decision", "rectify_decision"}
_DECISION_VALUES = {s.value for s in DECISION_STATUSES}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _history(file: CandidateFile, viewer) -> list[dict]:
    hide_decision = not may_see_decision(file, viewer)
    rows = []
    for change in file.history:
        if hide_decision and (change.event in _DECISION_EVENTS or change.to_status in _DECISION_VALUES):
            continue
        rows.append({
            "from": change.from_status,
            "to": change.to_status,
            "event": change.event,
            "at": _iso(change.at),
            "by": change.actor.full_name if change.actor is not None else None,
        })
    return rows


def file_json(file: CandidateFile, viewer) -> dict:
    """A file as API.md shows it, as `viewer` may see it (R10: unpublished decisions hidden)."""
    status = visible_status(file, viewer)
    session = db.session.get(JurySession, file.jury_session_id) if file.jury_session_id else None
    evaluation = file.evaluation
    interview = (evaluation.interview_date if evaluation and evaluation.interview_date else None) \
        or file.planned_interview_date
    return {
        "id": file.id,
        "status": status,
        "status_label": STATUS_LABELS[FileStatus(status)],
        "candidate": {
            "id": file.candidate.id,
            "first_name": file.candidate.first_name,
            "last_name": file.candidate.last_name,
        },
        "establishment": {"siret": file.establishment.siret, "name": file.establishment.name},
        "cqp": {"code": file.cqp.code, "title": file.cqp.title},
        "competences": [{"code": c.code, "title": c.title} for c in file.competences],
        "assessor": {"id": file.assessor.id, "name": file.assessor.name} if file.assessor else None,
        "interview_date": _iso(interview),
        "jury_session": {"id": session.id, "date": _iso(session.date)} if session else None,
        "rolled_over": bool(file.rolled_over),
        "decision": decision_payload(file, viewer),
        "history": _history(file, viewer),
        # Extensions (API.md allows them): what POST/PATCH /files accept, read back.
        "training_path": file.training_path,
        "training_scheme": file.training_scheme,
        "training_org_siret": file.training_org_siret,
        "planned_interview_date": _iso(file.planned_interview_date),
        "assessor_confirmed_on": _iso(file.assessor_confirmed_on),
        "withdraw_reason": file.withdraw_reason,
    }
