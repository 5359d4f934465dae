"""The versions of a parchment or attestation (R15): what the document says (the holder's identity, the
decision per competence, the CQP, the jury date) frozen at the decision; a corrected or rectified decision,
or a rectified civil status, issues the next version under the same number, earlier ones kept.
Every function flushes, never commits: the request commits once."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from app.core.clock import now
from app.core.errors import Conflict
from app.extensions import db
from app.jury.carry_over import carried_entries
from app.jury.models import Decision, Parchment, ParchmentVersion, PrintRecord

CORRECTION_BEFORE_PUBLICATION = "Correction de la décision du jury avant publication"


def _names_list(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def holder_of(candidate) -> dict:
    """The holder's identity as a document freezes it (R15), from the candidate as it is now."""
    birth_date = candidate.birth_date
    return {
        "first_name": candidate.first_name,
        "last_name": candidate.last_name,  # the birth name
        "usage_name": getattr(candidate, "usage_name", None) or None,
        "other_first_names": _names_list(getattr(candidate, "other_first_names", None)),
        "birth_date": birth_date.isoformat() if birth_date else None,
        "sex": getattr(candidate, "sex", None) or None,
        "birth_place_code": getattr(candidate, "birth_place_code", None) or None,
        "birth_place": candidate.birth_place or None,
        "birth_country": getattr(candidate, "birth_country", None) or None,
    }


def competences_of(decision: Decision) -> list[dict]:
    """The jury's decision per competence, in the CQP's order, as a document version keeps it; with the
    competences the file carries from an earlier jury (R13), each saying where and when it was validated."""
    own = [{"code": r.competence.code, "label": r.competence.title, "validated": bool(r.validated),
            "position": r.competence.position} for r in decision.results]
    entries = sorted([*own, *carried_entries(decision.file)], key=lambda e: e["position"])
    for entry in entries:
        del entry["position"]
    return entries


def _content(parchment: Parchment) -> dict:
    """What the document says of the decision today (the holder aside)."""
    file = parchment.file
    return {"kind": parchment.kind, "competences": competences_of(file.decision), "cqp_code": file.cqp.code,
            "cqp_title": file.cqp.title, "jury_date": file.jury_session.date}


def registration_of(parchment: Parchment, current: ParchmentVersion | None = None) -> dict:
    """The CQP's registration a version prints: the one the document was first issued with (kept by its
    next versions), else the CQP's as it is now (a version issued before registrations were kept)."""
    if current is not None and current.cqp_registration:
        return dict(current.cqp_registration)
    return parchment.file.cqp.registration


def ensure_first_version(parchment: Parchment, actor_id: int | None = None) -> ParchmentVersion:
    """The current version; a parchment written without any (bulk inserts, older tools) gets its version 1
    from its rows as they are now, issued when the parchment was."""
    current = parchment.current_version
    if current is None:
        current = ParchmentVersion(version=1, issued_at=parchment.created_at or now(), issued_by_id=actor_id,
                                   reason=None, holder=holder_of(parchment.file.candidate),
                                   cqp_registration=registration_of(parchment), **_content(parchment))
        parchment.versions.append(current)
        db.session.flush()
    return current


def issue_version(parchment: Parchment, actor_id: int | None, reason: str | None,
                  holder: dict | None = None) -> ParchmentVersion:
    """Issues the next version of the document under the same number: the decision as it is now, and the
    given holder (by default the current version's: a decision's rectification does not re-read the
    candidate). The first version of a new parchment has no reason."""
    current = parchment.current_version
    if current is None and holder is None:
        current = ensure_first_version(parchment, actor_id)
        if reason is None:
            return current
    version = ParchmentVersion(
        version=(current.version + 1) if current else 1, issued_at=now(), issued_by_id=actor_id,
        reason=(reason or "").strip() or None,
        holder=dict(holder if holder is not None else current.holder),
        cqp_registration=registration_of(parchment, current), **_content(parchment))
    try:
        with db.session.begin_nested():  # (parchment_id, version) is unique: two reissues at once
            parchment.versions.append(version)
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"Le document {parchment.number} vient d'être délivré à nouveau par ailleurs : rechargez "
                       "la page et vérifiez sa dernière version avant de recommencer.") from None
    return version


def follow_decision(parchment: Parchment, actor_id: int | None) -> ParchmentVersion | None:
    """A corrected or rectified decision: when what the document says changes, a new version is issued
    (after publication with the rectification's reason; before it too once the document was printed);
    a document never printed before publication is only brought up to date. None when nothing changed."""
    current = parchment.current_version
    if current is None:
        return ensure_first_version(parchment, actor_id)
    content = _content(parchment)
    if all(getattr(current, key) == value for key, value in content.items()):
        return None
    file = parchment.file
    if file.jury_session.published_at is not None:
        rectifications = file.decision.rectifications
        reason = rectifications[-1].reason if rectifications else CORRECTION_BEFORE_PUBLICATION
        return issue_version(parchment, actor_id, reason)
    if _printed(parchment):
        return issue_version(parchment, actor_id, CORRECTION_BEFORE_PUBLICATION)
    for key, value in content.items():
        setattr(current, key, value)
    current.issued_at, current.issued_by_id = now(), actor_id
    db.session.flush()
    return current


def _printed(parchment: Parchment) -> bool:
    """Printed at least once (asked to the database: prints are recorded by id, the collection may be stale)."""
    return bool(db.session.scalar(select(exists().where(PrintRecord.parchment_id == parchment.id))))


def record_of(parchment: Parchment) -> ParchmentVersion:
    """The version a document shows: its current one. A row written without a version (bulk inserts of
    benchmarks, data older than the versions' migration) shows its rows as an unsaved version 1."""
    current = parchment.current_version
    if current is not None:
        return current
    return ParchmentVersion(version=1, issued_at=parchment.created_at, reason=None,
                            holder=holder_of(parchment.file.candidate), cqp_registration=registration_of(parchment),
                            **_content(parchment))
