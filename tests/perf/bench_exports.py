"""Benchmark of the exports (`make bench`):
- the CSV of every file (DATABASE_URL, the synthetic branch of bench_stats.py, 1,000,000 files for the
  issue's figure) downloaded through gunicorn: time, size, rows, and the web worker's RSS during and after
  (sampled from /proc); with BENCH_PYTHON_CSV=1 (default) the Python writer's time over the same rows too;
- the XLSX of one year's files as the worker prepares it (app/stats/export_jobs.run_export);
- 300 parchments (BENCH_PDF_DATABASE_URL: a database the benchmark WIPES; skipped when unset): one WeasyPrint
  render as the page did, the worker's parts of 25 in its own process (PDF_PROCESSES=1), then laid out by 2
  child processes (PDF_PROCESSES=2, the default), each with its wall-clock and CPU time (the process's and
  its children's) and the peak RSS.
BENCH_PYTHON_CSV=0 and BENCH_XLSX=0 leave out the Python CSV and the XLSX.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_stats_bench \\
    BENCH_PDF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_stats_pdf \\
        .venv/bin/python tests/perf/bench_exports.py
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PORT = int(os.environ.get("BENCH_PORT", "5362"))
PARCHMENTS = int(os.environ.get("BENCH_PARCHMENTS", "300"))
DEMO_SECRETARIAT = ("secretariat@certifia-demo.fr", "Certifia-demo-2026")


def csv_through_gunicorn(database_url: str) -> None:
    import http.client

    from tests.perf.load import HTTPS, Gunicorn, children, rss_mb

    with Gunicorn(database_url, PORT, GUNICORN_WORKERS="2") as server:
        client = server.client()
        client.login(*DEMO_SECRETARIAT)
        workers = children(server.process.pid)
        before = {pid: rss_mb(pid) for pid in workers}
        peak = dict(before)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for pid in workers:
                    peak[pid] = max(peak[pid], rss_mb(pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        headers = {**HTTPS, "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600)
        connection.request("GET", "/statistiques/dossiers/export.csv", headers=headers)
        response = connection.getresponse()
        first = None
        size = lines = 0
        while chunk := response.read(1 << 16):
            if first is None:
                first = time.perf_counter() - start
            size += len(chunk)
            lines += chunk.count(b"\n")
        elapsed = time.perf_counter() - start
        connection.close()
        done.set()
        sampler.join()
        time.sleep(1)
        after = {pid: rss_mb(pid) for pid in workers}
        print(f"Export CSV de tous les dossiers via gunicorn : {elapsed:.1f} s, {lines - 1} lignes, "
              f"{size / 1e6:.0f} Mo, premier octet après {first * 1000:.0f} ms (HTTP {response.status})")
        print("  RSS des workers web (avant → pic → après) : "
              + ", ".join(f"{before[p]} → {peak[p]} → {after[p]} Mo" for p in workers), flush=True)


def python_csv(app) -> None:
    from app.core.exports import csv_chunks, streamed_rows
    from app.stats import lists

    with app.app_context():
        query = lists.parse_file_list_args({})
        start = time.perf_counter()
        size = sum(len(c) for c in csv_chunks(lists.FILE_HEADERS,
                                              streamed_rows(lists.file_list_statement(query), lists.file_row)))
        print(f"  même export écrit en Python cellule par cellule (avant) : {time.perf_counter() - start:.1f} s, "
              f"{size / 1e6:.0f} M caractères", flush=True)


def xlsx_job(app) -> None:
    from sqlalchemy import func, select

    from app.accounts.models import User
    from app.extensions import db
    from app.files.models import CandidateFile
    from app.stats import export_jobs

    with app.app_context():
        year = int(db.session.scalar(select(func.max(func.extract("year", CandidateFile.created_at)))))
        owner = db.session.scalar(select(User).where(User.email == DEMO_SECRETARIAT[0]))
        job = export_jobs.start_export(owner, "dossiers_xlsx", {"args": {"year": str(year)}})
        db.session.info.pop(export_jobs.PENDING_KEY, None)  # run here, as the worker would
        db.session.commit()
        start = time.perf_counter()
        job = export_jobs.run_export(job.id)
        elapsed = time.perf_counter() - start
        size = Path(job.file_path).stat().st_size
        print(f"Export XLSX ({year}, {job.total} lignes) par le worker : {elapsed:.1f} s "
              f"({job.total / elapsed:.0f} lignes/s), {size / 1e6:.1f} Mo", flush=True)
        Path(job.file_path).unlink(missing_ok=True)
        db.session.delete(job)
        db.session.commit()


def parchments_batch(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    from datetime import date, timedelta

    from flask_migrate import upgrade

    import app.models  # noqa: F401  (every class mapped before the factories' first file)
    from app import create_app
    from app.extensions import db
    from app.jury import decisions, parchments, pdf
    from app.referential.services import load_referential
    from tests import factories
    from tests.jury.helpers import decide, make_file

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": "certifia.test"})
    jury_day = date.today() - timedelta(days=1)
    os.environ["APP_TODAY"] = (jury_day - timedelta(days=40)).isoformat()
    with app.app_context(), app.test_request_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        load_referential()
        db.session.commit()
        print(f"Préparation d'une session de {PARCHMENTS} dossiers validés…", flush=True)
        session = factories.make_session(on=jury_day, capacity=PARCHMENTS + 10)
        files = [make_file("inscription_jury", session=session) for _ in range(PARCHMENTS)]
        os.environ["APP_TODAY"] = jury_day.isoformat()
        actor = factories.make_user("secretariat")
        for file in files:
            decide(file, actor, True)
        decisions.publish_session(session, actor)
        db.session.commit()
        documents = [f.parchment for f in parchments.printable_files(session)]
        def cpu() -> tuple[float, float]:
            own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime

        for label, kwargs, processes in (("un seul rendu (la page, avant)", {}, 1),
                                         ("par parts de 25 dans le processus du worker", {"part_size": 25}, 1),
                                         ("par parts de 25, 2 processus enfants (le worker)", {"part_size": 25}, 2)):
            app.config["PDF_PROCESSES"] = processes
            peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            own_before, children_before = cpu()
            start = time.perf_counter()
            data = pdf.parchments_batch_pdf(documents, **kwargs)
            elapsed = time.perf_counter() - start
            own, children = cpu()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            print(f"{len(documents)} parchemins, {label} : {elapsed:.1f} s, {len(data) / 1e6:.1f} Mo, "
                  f"CPU {own - own_before:.1f} s + {children - children_before:.1f} s des enfants, "
                  f"pic RSS du processus {peak} Mo (avant {peak_before} Mo)", flush=True)
    os.environ.pop("APP_TODAY", None)


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        print("DATABASE_URL (PostgreSQL, la branche synthétique de bench_stats.py) est requis.", file=sys.stderr)
        return 2
    from app import create_app

    app = create_app({"RATELIMIT_ENABLED": False})
    csv_through_gunicorn(database_url)
    if os.environ.get("BENCH_PYTHON_CSV", "1") == "1":
        python_csv(app)
    if os.environ.get("BENCH_XLSX", "1") == "1":
        xlsx_job(app)
    pdf_url = os.environ.get("BENCH_PDF_DATABASE_URL")
    if pdf_url:
        parchments_batch(pdf_url)
    else:
        print("BENCH_PDF_DATABASE_URL non défini : mesure des parchemins ignorée.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
