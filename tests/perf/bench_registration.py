"""Benchmark of jury registration through the API (`make bench`, when BENCH_PAGES_DATABASE_URL is set):
BENCH_REG_CLIENTS (default 50) clients POST /api/v1/files/{id}/register-jury for BENCH_REG_FILES (default
3000) files of one company, all asking the same session of BENCH_REG_CAPACITY (default 1000) seats, for
BENCH_SECONDS (default 8) against gunicorn (gunicorn.conf.py, production settings, 4 workers). Prints the
registrations per second, p50/p95, `GET /health` of the same run, the PostgreSQL connections opened
meanwhile, one registration's SQL statements and CPU measured in this process, and checks that no seat
was sold twice: each session's seats_taken equals its registered files and stays within its capacity
(the rest rolled over to the next session, R8).

Each run adds its own company, files and two sessions to the database (it is not wiped).

    BENCH_PAGES_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_pages_bench \\
        .venv/bin/python tests/perf/bench_registration.py
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.load import Gunicorn, load  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_REG_CLIENTS", "50"))
FILES = int(os.environ.get("BENCH_REG_FILES", "3000"))
CAPACITY = int(os.environ.get("BENCH_REG_CAPACITY", "1000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
PORT = int(os.environ.get("BENCH_REG_PORT", "5352"))
IN_PROCESS = 52  # files kept for the in-process figures (statements, CPU), registered after the load


def prepare(app) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select

    from app.accounts import services as accounts
    from app.accounts.models import Establishment
    from app.core.clock import today
    from app.extensions import db
    from app.files.models import Candidate, CandidateFile, StatusChange, file_competences
    from app.jury.models import JurySession
    from app.referential.models import Assessor, Competence, Cqp
    from tests.perf.synthetic import _synthetic_siret

    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        run = (db.session.scalar(select(func.max(Establishment.id))) or 0) + 1
        siret = _synthetic_siret(700_000 + run)
        establishment = accounts.create_establishment(siret, f"Banc des inscriptions {run}")
        company = accounts.create_user(f"inscriptions{run}@banc-pages.fr", "entreprise",
                                       establishment=establishment, password="banc-inscriptions-mdp")
        token = accounts.create_api_token(company, "banc des inscriptions")
        cqp = db.session.scalar(select(Cqp).where(Cqp.code == "FAB-OPF"))
        assessor_id = db.session.scalar(select(Assessor.id).order_by(Assessor.id).limit(1))
        competence_id = db.session.scalar(select(Competence.id).where(Competence.cqp_id == cqp.id).limit(1))
        day = today() + timedelta(days=60)
        at = datetime.now() - timedelta(days=30)
        asked, later = (db.session.scalar(insert(JurySession).returning(JurySession.id), {
            "date": day + timedelta(days=k * 14), "capacity": capacity, "seats_taken": 0, "location": "Banc",
            "created_at": at}) for k, capacity in ((0, CAPACITY), (1, FILES)))
        candidate_ids = list(db.session.scalars(insert(Candidate).returning(Candidate.id, sort_by_parameter_order=True), [
            {"establishment_id": establishment.id, "first_name": "Inès", "last_name": f"Inscrite{i}",
             "first_name_key": "ines", "last_name_key": f"inscrite{i}", "birth_date": datetime(1990, 1, 1).date(),
             "created_at": at, "updated_at": at} for i in range(FILES)]))
        file_ids = list(db.session.scalars(insert(CandidateFile).returning(CandidateFile.id, sort_by_parameter_order=True), [
            {"candidate_id": c, "establishment_id": establishment.id, "cqp_id": cqp.id,
             "status": "validation_evaluation", "training_path": "formation",
             "training_scheme": "plan_developpement_competences", "assessor_id": assessor_id,
             "planned_interview_date": at.date(), "assessor_confirmed_on": at.date(), "rolled_over": False,
             "created_at": at, "updated_at": at, "status_changed_at": at} for c in candidate_ids]))
        db.session.execute(insert(file_competences), [{"file_id": f, "competence_id": competence_id} for f in file_ids])
        db.session.execute(insert(StatusChange), [{"file_id": f, "from_status": "en_attente_evaluation",
                                                   "to_status": "validation_evaluation", "event": "submit_evaluation",
                                                   "at": at} for f in file_ids])
        db.session.commit()
        return {"token": token, "files": file_ids, "asked": asked, "later": later}


def check(app, data: dict) -> list[str]:
    """Each session's count against its registered files and its capacity."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.files.models import CandidateFile
    from app.jury.models import JurySession

    lines = []
    with app.app_context():
        for key in ("asked", "later"):
            session = db.session.get(JurySession, data[key])
            registered = db.session.scalar(select(func.count()).select_from(CandidateFile)
                                           .where(CandidateFile.jury_session_id == session.id))
            ok = session.seats_taken == registered <= session.capacity
            lines.append(f"  session {'demandée' if key == 'asked' else 'suivante'} : {registered} dossiers inscrits, "
                         f"seats_taken {session.seats_taken}, capacité {session.capacity} : "
                         f"{'aucune place vendue deux fois' if ok else 'INCOHÉRENT'}")
            if not ok:
                raise SystemExit("\n".join(lines))
        db.session.remove()
    return lines


def sessions_opened(url: str) -> int:
    """PostgreSQL's count of the connections ever opened to the database (pg_stat_database.sessions)."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        return connection.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
                                  ).fetchone()[0]


def in_process(app, data: dict, file_ids: list[int]) -> tuple[int, float]:
    """One registration's SQL statements (the writes apart included), then the CPU of each of the
    others through the test client, in this process: figures the loaded machine does not blur."""
    from sqlalchemy import event

    from app.core import apart
    from app.extensions import db

    client = app.test_client()
    headers = {"Authorization": f"Bearer {data['token']}", "X-Forwarded-Proto": "https"}

    def register(file_id: int) -> None:
        response = client.post(f"/api/v1/files/{file_id}/register-jury", json={"jury_session_id": data["asked"]},
                               headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    register(file_ids[0])  # warms the token's use and the app's caches
    with app.app_context():
        engines = {db.engine, apart.engine()}
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    register(file_ids[1])
    for engine in engines:
        event.remove(engine, "before_cursor_execute", count)
    began = time.process_time()
    for file_id in file_ids[2:]:
        register(file_id)
    return len(sent), (time.process_time() - began) / max(len(file_ids) - 2, 1) * 1000


def main() -> int:
    url = os.environ.get("BENCH_PAGES_DATABASE_URL", "")
    if not url:
        print("BENCH_PAGES_DATABASE_URL non défini : mesure des inscriptions au jury ignorée.")
        return 0
    from app import create_app

    app = create_app({"RATELIMIT_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    data = prepare(app)
    apart_files, data["files"] = data["files"][-IN_PROCESS:], data["files"][:-IN_PROCESS]
    files = iter(data["files"])
    lock = threading.Lock()

    with Gunicorn(url, PORT) as server:
        load(lambda i: server.client().send("GET", "/health")[0], 2, 1)
        health = load(lambda i: server.client().send("GET", "/health")[0], 16, 3)

        def register(i: int) -> int:
            with lock:
                file_id = next(files, None)
            if file_id is None:  # every file registered before the end: the clients idle
                time.sleep(0.2)
                raise OSError("plus de dossiers")
            status, _ = server.client(token=data["token"]).api(
                "POST", f"/files/{file_id}/register-jury", {"jury_session_id": data["asked"]})
            return status

        opened = sessions_opened(url)
        result = load(register, CLIENTS, SECONDS)
        opened = sessions_opened(url) - opened
    registered = result.requests
    statements, cpu = in_process(app, data, apart_files)
    if next(files, None) is None:
        print(f"  (les {FILES} dossiers ont tous été inscrits avant la fin : BENCH_REG_FILES plus grand)")
    print(f"Inscriptions au jury par l'API : {CLIENTS} clients, {SECONDS:.0f} s, gunicorn "
          f"{os.environ.get('GUNICORN_WORKERS', '4')} workers")
    print(f"  GET /health (référence, 16 clients) : {health.per_second:.0f} req/s")
    print(f"  inscriptions : {registered} en {result.seconds:.1f} s = {result.per_second:.1f}/s, "
          f"p50 {result.median:.0f} ms, p95 {result.percentile(95):.0f} ms"
          + (f", {result.errors} erreurs" if result.errors else ""))
    print(f"  connexions PostgreSQL ouvertes pendant la mesure : {opened}")
    print(f"  une inscription dans ce processus : {statements} requêtes SQL, {cpu:.1f} ms de CPU "
          f"(moyenne de {IN_PROCESS - 2})")
    for line in check(app, data):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
