"""Audit log: one entry per operation that matters, in the same transaction; and, for the RGPD, one entry per
read of a candidate's personal data (who, when, which page or endpoint), listed by `GET /audit?candidate_id=`;
a bulk read (an export of a list) is one entry whose people are in `audit_log_candidates`."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert, literal, select, update

from app.core.clock import utcnow
from app.core.models import AuditEntry, AuditEntryCandidate
from app.extensions import db


def _candidate_id_of(obj) -> int | None:
    """Whose personal data `obj` holds: a Candidate itself, or anything carrying `candidate_id` (a file, a
    document). Read from the object in memory: no query."""
    if obj is None:
        return None
    if type(obj).__name__ == "Candidate":
        return getattr(obj, "id", None)
    return getattr(obj, "candidate_id", None)


def _page() -> str | None:
    if not has_request_context():
        return None
    return f"{request.method} {request.path}"[:255]


def record(action: str, actor=None, obj=None, *, candidate_id: int | None = None, **details) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", None),
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None and getattr(obj, "id", None) is not None else None,
        details={k: v for k, v in details.items() if v is not None} or None,
        ip=request.remote_addr if has_request_context() else None,
        candidate_id=candidate_id if candidate_id is not None else _candidate_id_of(obj),
        page=_page(),
    )
    db.session.add(entry)
    return entry


def record_read(what: str, *candidate_ids: int | None, actor=None) -> None:
    """RGPD: `actor` (the logged-in user by default) read the personal data of these candidates on this page.
    One multi-row INSERT, no SELECT, committed with the request (a refused request writes nothing)."""
    ids = sorted({i for i in candidate_ids if i is not None})
    if not ids:
        return
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    actor_id = getattr(actor, "id", None)
    page, ip, at = _page(), request.remote_addr if has_request_context() else None, utcnow()
    db.session.execute(insert(AuditEntry), [
        {"action": "personal_data.read", "actor_id": actor_id, "object_type": "Candidate", "object_id": str(i),
         "details": {"what": what}, "ip": ip, "candidate_id": i, "page": page, "at": at} for i in ids])


def _filters() -> dict | None:
    """The filters of the request (its query string): what a bulk read selected."""
    if not has_request_context():
        return None
    return {k: v for k, v in request.args.items() if v not in (None, "")} or None


def record_reads_of(what: str, candidate_ids, actor=None) -> int:
    """RGPD, for an export naming many people: ONE audit entry (personal_data.read, what, page, actor, ip, at, and
    in its details the number of people and the filters) plus its people in `audit_log_candidates`, written by one
    `INSERT … SELECT` over `candidate_ids` (a select of DISTINCT candidate ids) without the rows coming back to
    Python. At 1,000,000 people: one narrow (candidate_id, audit_id) row each instead of a full audit_log row with
    its JSON and indexes. Returns the number of people."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    details = {"what": what, "filters": _filters()}
    audit_id = db.session.execute(insert(AuditEntry).values(
        action="personal_data.read", actor_id=getattr(actor, "id", None), object_type="Candidate",
        details={k: v for k, v in details.items() if v is not None},
        ip=request.remote_addr if has_request_context() else None, page=_page(), at=utcnow(),
    ).returning(AuditEntry.id)).scalar_one()
    ids = candidate_ids.subquery()
    column = list(ids.c)[0]
    # in candidate_id order: the DISTINCT becomes a sort + unique (no hash spilled to disk) and the primary key
    # (candidate_id, audit_id) is filled left to right
    count = db.session.execute(insert(AuditEntryCandidate).from_select(
        ["candidate_id", "audit_id"], select(column, literal(audit_id)).where(column.is_not(None)).order_by(column))
        .execution_options(preserve_rowcount=True)).rowcount  # without it, -1 for an INSERT construct on psycopg
    db.session.execute(update(AuditEntry).where(AuditEntry.id == audit_id).values(
        details={k: v for k, v in {**details, "count": count}.items() if v is not None}))
    return count
