"""The statistics area's RQ jobs, run by the worker (`python -m app.worker`) in its app: an export asked
for on a page (queue `exports`), and every STATS_REFRESH_SECONDS the figures of the filter sets asked for
lately (app/stats/cache.py), with the removal of expired exports. Named by string in app/worker.py."""

from __future__ import annotations

import logging

from app.extensions import db

log = logging.getLogger(__name__)


def export_job(job_id: int) -> str | None:
    from app.stats.export_jobs import run_export
    from app.worker import worker_app

    with worker_app().app_context():
        try:
            job = run_export(job_id)
            return job.status if job else None
        finally:
            db.session.remove()


def refresh_statistics_job() -> dict[str, int]:
    """Recomputes the recent filter sets, removes expired exports, schedules the next run."""
    from app.stats.cache import refresh_recent
    from app.stats.export_jobs import remove_expired
    from app.worker import _schedule_from_worker_app, worker_app

    try:
        with worker_app().app_context():
            try:
                removed = remove_expired()
                db.session.commit()
                refreshed = refresh_recent()
            finally:
                db.session.remove()
    finally:
        _schedule_from_worker_app()
    log.info("Statistiques recalculées : %s ensemble(s) de filtres ; exports expirés supprimés : %s",
             refreshed, removed)
    return {"refreshed": refreshed, "exports_removed": removed}
