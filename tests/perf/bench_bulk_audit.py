"""Benchmark of the RGPD audit of a bulk export (issue 16): the CSV of the whole file list through the real view
(`stats.file_list_export`, its audit then PostgreSQL's COPY), in-process, with the audit as it was (one full
audit_log row per person, BENCH_LEGACY=1) and as it is (one entry + one audit_log_candidates row per person).
Time to the first byte (the audit is written before it) and total, wall-clock and the process's CPU.

Nothing is kept: each run is one transaction ROLLED BACK (the audit rows, and audit_log_candidates when the
database's schema predates it, created inside that transaction), so a read-only bench database can be used:

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_stats_1m \\
        .venv/bin/python tests/perf/bench_bulk_audit.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SECRETARIAT = "secretariat@certifia-demo.fr"


def legacy_record_reads_of(what: str, candidate_ids, actor=None) -> None:
    """The audit as it was before e1a0c0000010: an INSERT … SELECT of one full audit_log row per person."""
    from flask import has_request_context, request
    from flask_login import current_user
    from sqlalchemy import JSON, String, cast, insert, literal, null, select

    from app.core.audit import _page
    from app.core.clock import utcnow
    from app.core.models import AuditEntry
    from app.extensions import db

    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    ids = candidate_ids.subquery()
    column = list(ids.c)[0]
    actor_id = getattr(actor, "id", None)
    values = [literal("personal_data.read"), literal(actor_id) if actor_id is not None else null(),
              literal("Candidate"), cast(column, String), literal({"what": what}, JSON),
              literal(request.remote_addr, String), column, literal(_page(), String), literal(utcnow())]
    db.session.execute(insert(AuditEntry).from_select(
        ["action", "actor_id", "object_type", "object_id", "details", "ip", "candidate_id", "page", "at"],
        select(*values)))


def run(legacy: bool) -> dict:
    from flask_login import login_user
    from sqlalchemy import func, select

    import app.models  # noqa: F401
    from app import create_app
    from app.accounts.models import User
    from app.core import audit
    from app.core.models import AuditEntryCandidate
    from app.extensions import db

    application = create_app()
    original = audit.record_reads_of
    if legacy:
        audit.record_reads_of = legacy_record_reads_of
    try:
        with application.test_request_context("/statistiques/dossiers/export.csv",
                                              environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            try:
                AuditEntryCandidate.__table__.create(db.session.connection(), checkfirst=True)
                login_user(db.session.scalar(select(User).where(User.email == SECRETARIAT)))
                view = application.view_functions["stats.file_list_export"]
                wall, cpu = time.perf_counter(), time.process_time()
                response = view(fmt="csv")
                first = size = lines = 0
                for chunk in response.response:
                    chunk = chunk.encode() if isinstance(chunk, str) else chunk
                    if not first:
                        first = time.perf_counter() - wall
                    size += len(chunk)
                    lines += chunk.count(b"\n")
                total, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
                links = db.session.scalar(select(func.count()).select_from(AuditEntryCandidate))
            finally:
                db.session.rollback()
    finally:
        audit.record_reads_of = original
    return {"legacy": legacy, "first_byte_s": round(first, 2), "total_s": round(total, 2),
            "cpu_s": round(total_cpu, 2), "mb": round(size / 1e6, 1), "lines": lines, "links": links}


if __name__ == "__main__":
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        sys.exit("DATABASE_URL: a PostgreSQL database (the CSV is PostgreSQL's COPY)")
    modes = {"1": [True], "0": [False]}.get(os.environ.get("BENCH_LEGACY", ""), [True, False])
    for legacy in modes:
        print(run(legacy), flush=True)
