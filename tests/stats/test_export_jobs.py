"""Exports prepared in the background (app/stats/export_jobs.py): asked for on a page, run by the process's
thread (no Redis) or by the real RQ worker (Redis database 9, burst mode, in this process), a progress page
that follows them, the download for the user who asked only, a failure said in French with nothing written,
and the files removed after a day."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from redis import Redis
from sqlalchemy import func, select

import app.models  # noqa: F401  (every model mapped before app.jury.parchments builds its loader options)
from app.core.clock import utcnow
from app.extensions import db
from app.jury.decisions import publish_session
from app.jury.models import PrintRecord
from app.stats import export_jobs
from app.stats.models import ExportJob
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_session, make_user
from tests.jury.helpers import decide, make_file
from tests.stats.dataset import build_branch

REDIS_URL = "redis://127.0.0.1:6379/9"
JURY_DAY = date(2027, 6, 15)


def _job_id(response) -> int:
    assert response.status_code == 303, response.status_code
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def _finish_in_thread(app) -> None:
    export_jobs.background_runner(app).jobs.join()
    db.session.expire_all()


def _body(response) -> bytes:
    data = response.get_data()
    response.close()  # send_file's open file
    return data


def _sheet(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(_body(response)), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_file_list_xlsx_is_prepared_in_the_background_and_only_its_owner_downloads_it(app, app_ctx, client,
                                                                                         login_as):
    branch = build_branch()
    f7 = branch.files["F7"]
    f7.candidate.set_names("=HYPERLINK(\"http://x\")", "Zoé")
    db.session.commit()
    owner = make_user("secretariat")
    login_as(owner)
    page = client.get("/statistiques/dossiers").get_data(as_text=True)
    assert "Préparer l'export Excel en arrière-plan" in page
    job_id = _job_id(submit_form(client, f"/statistiques/dossiers/export-excel?siret={branch.e1.siret}", {},
                                 form_url="/statistiques/dossiers"))
    _finish_in_thread(app)
    job = db.session.get(ExportJob, job_id)
    assert (job.status, job.user_id, job.kind, job.total, job.done) == ("termine", owner.id, "dossiers_xlsx", 3, 3)
    status = client.get(f"/exports/{job_id}")
    assert status.status_code == 200 and "Refresh" not in status.headers
    assert "Télécharger dossiers.xlsx" in status.get_data(as_text=True)
    download = client.get(f"/exports/{job_id}/fichier")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename=dossiers.xlsx' in download.headers["Content-Disposition"]
    rows = _sheet(download)
    assert rows[0][:3] == ["N° dossier", "Nom", "Prénom"]
    assert sorted(r[0] for r in rows[1:]) == sorted(f.id for f in branch.files.values() if f.establishment == branch.e1)
    assert next(r for r in rows if r[0] == f7.id)[2].startswith("'=")  # never a formula
    assert "Liste des dossiers (Excel)" in client.get("/exports").get_data(as_text=True)

    other = app.test_client()  # another secretariat account: not its export
    colleague = make_user("secretariat")
    assert login(other, colleague.email, PASSWORD).status_code == 302
    assert other.get(f"/exports/{job_id}").status_code == 404
    assert other.get(f"/exports/{job_id}/fichier").status_code == 404
    assert f"/exports/{job_id}" not in other.get("/exports").get_data(as_text=True)


def test_the_rq_worker_runs_the_export_while_the_page_follows_it(app, app_ctx, client, login_as, monkeypatch):
    from rq import Queue, SimpleWorker

    from app import worker

    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setattr(worker, "worker_app", lambda: app)
    redis = Redis.from_url(REDIS_URL)
    queue = Queue(export_jobs.QUEUE, connection=redis)
    queue.empty()
    build_branch()
    login_as(make_user("secretariat"))
    job_id = _job_id(submit_form(client, "/statistiques/dossiers/export-excel?sort=candidat", {},
                                 form_url="/statistiques/dossiers"))
    waiting = client.get(f"/exports/{job_id}")
    assert waiting.headers["Refresh"] == "2" and "En attente" in waiting.get_data(as_text=True)
    assert client.get(f"/exports/{job_id}/fichier").status_code == 404  # not ready
    assert queue.count == 1
    SimpleWorker([queue], connection=redis).work(burst=True)
    db.session.expire_all()
    job = db.session.get(ExportJob, job_id)
    assert job.status == "termine" and job.total == 7 and job.started_at and job.finished_at
    rows = _sheet(client.get(f"/exports/{job_id}/fichier"))
    assert len(rows) == 8 and [r[1] for r in rows[1:]] == sorted(r[1] for r in rows[1:])  # the list's sort


@pytest.fixture
def decided_session(app_ctx, today_is):
    """A published session of 27 valide files (one more than a page prints itself)."""
    today_is("2027-05-01")
    jury_session = make_session(on=JURY_DAY, capacity=40)
    files = [make_file("inscription_jury", session=jury_session) for _ in range(export_jobs.BACKGROUND_PRINT_FROM + 1)]
    today_is(JURY_DAY)
    actor = make_user("secretariat")
    for file in files:
        decide(file, actor, True)
    publish_session(jury_session, actor)
    db.session.commit()
    return jury_session


def test_a_large_sessions_parchments_are_rendered_by_the_worker_in_parts(app, decided_session, client, login_as):
    login_as(make_user("secretariat"))
    url = f"/secretariat/jurys/{decided_session.id}"
    page = client.get(url).get_data(as_text=True)
    background = f"{url}/parchemins-en-arriere-plan"
    assert f'action="{background}"' in page and f'action="{url}/parchemins.pdf"' not in page
    job_id = _job_id(submit_form(client, background, {}, form_url=url))
    _finish_in_thread(app)
    job = db.session.get(ExportJob, job_id)
    assert job.status == "termine" and job.total == 27, job.error
    pdf = client.get(f"/exports/{job_id}/fichier")
    assert pdf.mimetype == "application/pdf"
    assert f"parchemins-jury-{JURY_DAY.isoformat()}.pdf" in pdf.headers["Content-Disposition"]
    assert len(PdfReader(io.BytesIO(_body(pdf))).pages) == 27  # two parts of 25 and 2, one document
    assert db.session.scalar(select(func.count()).select_from(PrintRecord)) == 27
    # Printed once: the page now offers the reprint only, in the background as well.
    page = client.get(url).get_data(as_text=True)
    assert f'action="{background}?reprint=1"' in page

    again = _job_id(submit_form(client, background, {}, form_url=url))  # nothing left to print
    _finish_in_thread(app)
    failed = db.session.get(ExportJob, again)
    assert failed.status == "echec" and failed.file_path is None
    assert failed.error == "Aucun parchemin ni attestation à imprimer pour cette session."
    assert failed.error in client.get(f"/exports/{again}").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PrintRecord)) == 27  # nothing half written


def test_an_unknown_session_is_a_404_and_nothing_is_asked(app_ctx, client, login_as):
    login_as(make_user("secretariat"))
    url = "/secretariat/jurys/999999/parchemins-en-arriere-plan"
    assert submit_form(client, url, {}, form_url="/statistiques/dossiers").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ExportJob)) == 0


def test_exports_are_removed_with_their_file_after_a_day(app, app_ctx):
    owner = make_user("secretariat")
    path = export_jobs.export_dir() / "ancien.xlsx"
    path.write_bytes(b"x")
    old = ExportJob(user_id=owner.id, kind="dossiers_xlsx", params={}, status="termine", done=1, total=1,
                    file_path=str(path), file_name="dossiers.xlsx", created_at=utcnow() - timedelta(hours=25))
    recent = ExportJob(user_id=owner.id, kind="dossiers_xlsx", params={}, status="en_attente", done=0)
    db.session.add_all([old, recent])
    db.session.commit()
    assert export_jobs.remove_expired() == 1
    db.session.commit()
    assert not Path(path).exists()
    assert [j.id for j in db.session.scalars(select(ExportJob))] == [recent.id]
