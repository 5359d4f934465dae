"""Audit log: one entry per operation that matters, in the same transaction."""

from __future__ import annotations

from flask import has_request_context, request

from app.core.models import AuditEntry
from app.extensions import db


def record(action: str, actor=None, obj=None, **details) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", None),
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None and getattr(obj, "id", None) is not None else None,
        details={k: v for k, v in details.items() if v is not None} or None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
