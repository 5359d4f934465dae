"""Exports too long for a request, prepared in the background: the XLSX of the file list, a session's
parchments and attestations. The request records an `ExportJob` and answers at once with its progress
page; once its transaction is committed the job goes
- with REDIS_URL, to the RQ queue `exports` (the worker of `make worker` listens to it);
- without Redis, or while Redis does not answer, to a background thread of the process (one per process).
The job writes its file under UPLOAD_DIR/exports/, counts its rows or documents as it goes (PostgreSQL: on a
connection of its own, so that the progress shows while the export reads), and only the user who asked
may download it. Jobs and their files are removed EXPORT_KEEP_HOURS (24) after they were asked for (by the
worker's refresh job, and whenever an export is asked for)."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from openpyxl import Workbook
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app.core.background import JobThread, job_thread
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.exports import XLSX_MIMETYPE, xlsx_cell
from app.extensions import db
from app.stats.models import ExportJob

log = logging.getLogger(__name__)
QUEUE = "exports"
JOB = "app.stats.jobs.export_job"  # by name: the worker imports it
PENDING_KEY = "export_jobs_to_dispatch"
PROGRESS_EVERY = 2000  # rows between two progress updates
PDF_PART = 25  # parchments rendered at a time (progress between parts)
BACKGROUND_PRINT_FROM = 26  # the session page sends a batch of that many documents or more to the worker
MIMETYPES = {"xlsx": XLSX_MIMETYPE, "pdf": "application/pdf"}
KIND_LABELS = {"dossiers_xlsx": "Liste des dossiers (Excel)", "parchemins": "Parchemins et attestations (PDF)"}


def export_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- asking for an export (the request)


def start_export(user, kind: str, params: dict) -> ExportJob:
    """Records the job (no commit); it is handed to the worker once the request committed."""
    if kind not in KIND_LABELS:
        raise ValidationFailed(f"Export inconnu : « {kind} ».", {"kind": ["Choisissez un export proposé."]})
    if kind == "parchemins":
        from app.jury.models import JurySession

        if db.session.get(JurySession, params["session_id"]) is None:
            raise NotFound("Cette session de jury n'existe pas.")
    remove_expired()  # also without the worker (its refresh job removes them every 30 s otherwise)
    job = ExportJob(user_id=user.id, kind=kind, params=params, status="en_attente", done=0)
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault(PENDING_KEY, []).append(job.id)
    return job


def job_for(user, job_id: int) -> ExportJob:
    """The user's own job; anyone else's (or none) is a 404."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.user_id != user.id:
        raise NotFound("Cet export n'existe pas (ou plus : un export est gardé un jour).")
    return job


def recent_jobs(user, limit: int = 10) -> list[ExportJob]:
    return list(db.session.scalars(select(ExportJob).where(ExportJob.user_id == user.id)
                                   .order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(limit)))


def download_path(user, job_id: int) -> tuple[Path, str, str]:
    """(path, download name, mimetype) of the user's finished export; else 404."""
    job = job_for(user, job_id)
    if not job.can_download(user) or not job.file_path or not Path(job.file_path).is_file():
        raise NotFound("Ce fichier n'est pas (ou plus) disponible.")
    return Path(job.file_path), job.file_name, MIMETYPES[job.file_name.rsplit(".", 1)[-1]]


@event.listens_for(Session, "after_commit")
def _dispatch_committed_jobs(session) -> None:
    ids = session.info.pop(PENDING_KEY, None)
    if ids:
        for job_id in ids:
            dispatch(job_id)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_jobs(session) -> None:
    session.info.pop(PENDING_KEY, None)


def dispatch(job_id: int) -> None:
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            from rq import Queue

            from app.stats.cache import _client

            Queue(QUEUE, connection=_client(redis_url)).enqueue(JOB, job_id, job_timeout=3600, result_ttl=3600)
            return
        except Exception as exc:  # Redis down: this process's thread prepares it
            log.warning("File RQ des exports indisponible, export en arrière-plan (%s)", exc)
    background_runner(current_app._get_current_object()).put(job_id)


def background_runner(app: Flask) -> JobThread:
    """The thread that runs the exports handed to it, one at a time (without an RQ worker)."""
    return job_thread(app, "exports", run_export, "Export %s interrompu")


# ---------------------------------------------------------------- running it (worker or thread)


class Progress:
    """Writes the job's count as it goes: on PostgreSQL on a connection of its own (the export's own
    transaction holds its reading cursor); on SQLite only at the end (a second writer would wait for it)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.live = db.engine.dialect.name == "postgresql"

    def set(self, done: int, total: int | None = None) -> None:
        if not self.live:
            return
        values = {"done": done} if total is None else {"done": done, "total": total}
        with db.engine.begin() as connection:
            connection.execute(update(ExportJob).where(ExportJob.id == self.job_id).values(**values))


def run_export(job_id: int) -> ExportJob | None:
    """Runs one job to its end (termine or echec, with a French message); a job already taken is left."""
    claimed = db.session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "en_attente")
                                 .values(status="en_cours", started_at=utcnow())).rowcount
    db.session.commit()
    if not claimed:
        return None
    job = db.session.get(ExportJob, job_id)
    progress = Progress(job_id)
    handle, temporary = tempfile.mkstemp(dir=export_dir(), prefix=f"job-{job_id}-", suffix=".part")
    os.close(handle)
    try:
        name, total = RUNNERS[job.kind](job, Path(temporary), progress)
    except Exception as exc:
        db.session.rollback()
        Path(temporary).unlink(missing_ok=True)
        log.exception("Export %s en échec", job_id)
        job = db.session.get(ExportJob, job_id)
        job.status, job.finished_at = "echec", utcnow()
        job.error = getattr(exc, "message", None) or "L'export a échoué ; réessayez ou signalez-le au support."
        db.session.commit()
        return job
    final = export_dir() / f"{job_id}-{secrets.token_hex(8)}.{name.rsplit('.', 1)[-1]}"
    os.replace(temporary, final)
    job = db.session.get(ExportJob, job_id)
    job.status, job.finished_at, job.file_path, job.file_name = "termine", utcnow(), str(final), name
    job.done = job.total = total
    db.session.commit()
    return job


def _file_list_xlsx(job: ExportJob, path: Path, progress: Progress) -> tuple[str, int]:
    from app.core.exports import streamed_rows
    from app.stats import lists

    query = lists.parse_file_list_args(job.params.get("args", {}))
    statement = lists.file_list_statement(query)
    total = db.session.scalar(select(db.func.count()).select_from(statement.order_by(None).subquery()))
    progress.set(0, total)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Dossiers")
    sheet.append(lists.FILE_HEADERS)
    done = 0
    for row in streamed_rows(statement, lists.file_row, batch=PROGRESS_EVERY):
        sheet.append([xlsx_cell(v) for v in row])
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress.set(min(done, total), total)
    workbook.save(path)
    return "dossiers.xlsx", done


def _session_parchments(job: ExportJob, path: Path, progress: Progress) -> tuple[str, int]:
    from app.jury import parchments, pdf
    from app.jury.models import JurySession

    jury_session = db.session.get(JurySession, job.params["session_id"])
    reprint = bool(job.params.get("reprint"))
    documents = [f.parchment for f in parchments.printable_files(jury_session)] if jury_session else []
    if not reprint:  # as print_session: the documents never printed (a reprint takes them all)
        printed = parchments.printed_ids(documents)
        documents = [p for p in documents if p.id not in printed]
    if not documents:
        raise ValidationFailed("Aucun parchemin ni attestation à imprimer pour cette session.", {})
    progress.set(0, len(documents))
    parchments.record_prints(documents, job.user, jury_session, reprint=reprint)

    def advance(done: int) -> None:
        progress.set(done, len(documents))

    path.write_bytes(pdf.parchments_batch_pdf(documents, part_size=PDF_PART, on_part=advance))
    suffix = "-reimpression" if reprint else ""
    return f"parchemins-jury-{jury_session.date.isoformat()}{suffix}.pdf", len(documents)


RUNNERS: dict[str, Callable] = {"dossiers_xlsx": _file_list_xlsx, "parchemins": _session_parchments}


def remove_expired(now=None) -> int:
    """Removes the jobs asked for more than EXPORT_KEEP_HOURS ago, with their files."""
    limit = (now or utcnow()) - timedelta(hours=current_app.config["EXPORT_KEEP_HOURS"])
    expired = db.session.scalars(select(ExportJob).where(ExportJob.created_at < limit)).all()
    for job in expired:
        if job.file_path:
            Path(job.file_path).unlink(missing_ok=True)
        db.session.delete(job)
    db.session.flush()
    return len(expired)
