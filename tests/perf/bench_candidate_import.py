"""Benchmark of the candidates' import from an HR export (`make bench`): 5,000 rows (CSV and XLSX, French labels,
birth places from the official geographic code, a few already present) previewed then imported by
app.files.candidate_import, as the upload and its confirmation do; each must take at most 10 s.

SQLite by default (a temporary file); PostgreSQL with BENCH_CANDIDATE_IMPORT_DATABASE_URL (a database it
WIPES: its public schema is dropped, then migrated).

    .venv/bin/python tests/perf/bench_candidate_import.py
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ROWS = int(os.environ.get("BENCH_CANDIDATE_IMPORT_ROWS", "5000"))
MAX_SECONDS = 10.0
HEADER = ["Nom de naissance", "Prénom", "Date de naissance", "Sexe", "Code INSEE du lieu de naissance", "Email",
          "Emploi occupé"]
PLACES = ["69123", "75115", "2A004", "99109", "13055", "59350"]


def rows(n: int) -> list[list[str]]:
    return [[f"Dupont-{i}", "Élodie" if i % 2 else "Jean-François", f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1970 + i % 35}",
             "F" if i % 2 else "M", PLACES[i % len(PLACES)], f"salarie{i}@exemple.fr", "Opérateur de fabrication"]
            for i in range(n)]


def as_csv(n: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows(n))
    return out.getvalue().encode("cp1252")


def as_xlsx(n: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(HEADER)
    for row in rows(n):
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def reset(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def main() -> None:
    from flask_migrate import upgrade

    from app import create_app
    from app.accounts import services as accounts
    from app.extensions import db
    from app.files import candidate_import
    from app.files.models import Candidate
    from app.referential import geography

    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_CANDIDATE_IMPORT_DATABASE_URL", "").strip() or f"sqlite:///{folder}/bench.sqlite3"
        reset(url)
        app = create_app({"APP_ENV": "testing", "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                          "UPLOAD_DIR": folder, "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://"})
        print(f"Base : {url.split('@')[-1]}")
        worst = 0.0
        with app.app_context():
            upgrade(directory=str(app.extensions["migrate"].directory))
            geography.lookup("69123")  # the geographic code loaded once per process, before measuring
            for n, (kind, make) in enumerate((("CSV Windows-1252", as_csv), ("XLSX", as_xlsx))):
                establishment = accounts.create_establishment(["73282932000074", "55203253400646"][n], f"Bench {n}")
                actor = accounts.create_user(f"rh{n}@exemple.fr", "entreprise", password="mot-de-passe-bench-42",
                                             establishment=establishment)
                db.session.commit()
                data = make(ROWS)
                started, cpu = time.perf_counter(), time.process_time()
                preview = candidate_import.preview(establishment, data)
                previewed, previewed_cpu = time.perf_counter() - started, time.process_time() - cpu
                assert not preview.errors, preview.errors[:3]
                started, cpu = time.perf_counter(), time.process_time()
                result = candidate_import.import_candidates(establishment, actor, data)
                db.session.commit()
                imported, imported_cpu = time.perf_counter() - started, time.process_time() - cpu
                count = db.session.scalar(db.select(db.func.count()).select_from(Candidate)
                                          .where(Candidate.establishment_id == establishment.id))
                assert count == len(result.to_create) == ROWS, count
                again = time.perf_counter()
                rerun = candidate_import.import_candidates(establishment, actor, data)
                again = time.perf_counter() - again
                assert len(rerun.already_present) == ROWS and not rerun.to_create
                db.session.rollback()
                worst = max(worst, imported, previewed)
                print(f"{kind:>16}, {ROWS} lignes ({len(data) / 1e6:.1f} Mo) : aperçu {previewed:.2f} s (CPU "
                      f"{previewed_cpu:.2f} s), import {imported:.2f} s (CPU {imported_cpu:.2f} s, aperçu compris), "
                      f"réimport (tout déjà présent) {again:.2f} s")
        ok = worst <= MAX_SECONDS
        print(f"{'OK' if ok else 'TROP LENT'} : {worst:.2f} s au pire pour {ROWS} lignes (objectif {MAX_SECONDS:.0f} s)")
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
