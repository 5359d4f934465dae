"""Benchmark of the statistics (`make bench`): timings of each statistics query, of the
statistics page, of the list and its export, and of GET /api/v1/stats.

Reads DATABASE_URL (PostgreSQL for meaningful figures); migrates it, and when it holds fewer
than BENCH_FILES files (default 100000) generates a synthetic branch first (tests/perf/synthetic.py, as
`flask demo --files` does).
BENCH_RUNS (default 5) timed runs per figure; BENCH_EXPORTS=0 skips the two full exports.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_bench make bench
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
FILES = int(os.environ.get("BENCH_FILES", "100000"))


def timed(func, runs: int = RUNS) -> tuple[float, float]:
    """(median, max) in milliseconds over `runs` calls, after one warm-up call."""
    func()
    laps = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        laps.append((time.perf_counter() - start) * 1000)
    return statistics.median(laps), max(laps)


def main() -> int:
    if not os.environ.get("DATABASE_URL"):
        print("DATABASE_URL est requis (ex. postgresql+psycopg://postgres@127.0.0.1:5432/certifia_bench).",
              file=sys.stderr)
        return 2
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from app import create_app
    from app.accounts import services as accounts
    from app.accounts.models import User
    from app.demo import load_demo
    from app.extensions import db
    from app.files.models import CandidateFile
    from app.stats import figures
    from app.stats.filters import StatsFilters, filter_choices
    from tests.perf.synthetic import generate_branch

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        load_demo()
        db.session.commit()
        existing = db.session.scalar(select(func.count()).select_from(CandidateFile)) or 0
        if existing < FILES:
            print(f"Génération de {FILES - existing} dossiers synthétiques…", flush=True)
            start = time.perf_counter()
            for written in generate_branch(FILES - existing):
                db.session.commit()
                print(f"\r  {written} dossiers", end="", flush=True)
            db.session.commit()
            print(f"\n  fait en {time.perf_counter() - start:.0f} s", flush=True)
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does on a live database after a bulk load: statistics for the planner,
            # and the visibility map that lets index-only scans skip the table.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        total = db.session.scalar(select(func.count()).select_from(CandidateFile))
        print(f"\nBase : {db.engine.dialect.name}, {total} dossiers ; médiane et maximum sur {RUNS} passages (ms)\n")

        year = db.session.scalar(select(func.max(func.extract("year", CandidateFile.created_at))))
        scopes = {
            "toute la branche": StatsFilters(),
            f"année {int(year)}": StatsFilters(year=int(year)),
            "CQP FAB-OPF": StatsFilters(cqp="FAB-OPF"),
            "département 69": StatsFilters(region="69"),
        }
        queries = {
            "dossiers par statut": lambda f: figures.files_by_status(f),
            "entonnoir": lambda f: figures.funnel(f, 1),
            "décisions par CQP": lambda f: figures.by_cqp(f),
            "durée par statut (médiane, p90)": lambda f: figures.time_in_status(f),
            "inscription → décision": lambda f: figures.time_to_decision(f),
            "sessions : synthèse": lambda f: figures.sessions_summary(f),
            "sessions : 12 dernières": lambda f: figures.session_rows(f, 12),
            "compétences non acquises": lambda f: figures.competences_not_acquired(f),
            "compétences non validées": lambda f: figures.competences_not_validated(f),
            "choix des filtres": lambda f: filter_choices(),
            "TOUTES (branch_statistics)": lambda f: figures.branch_statistics(f),
        }
        width = max(len(q) for q in queries) + 2
        print(" " * width + "".join(f"{s:>22}" for s in scopes))
        for label, query in queries.items():
            cells = []
            for filters in scopes.values():
                median, worst = timed(lambda q=query, f=filters: q(f))
                cells.append(f"{median:9.1f} (max {worst:6.1f})")
            print(f"{label:<{width}}" + "".join(f"{c:>22}" for c in cells), flush=True)

        secretariat = db.session.scalar(select(User).where(User.role == "secretariat"))
        token = accounts.create_api_token(secretariat, name="bench")
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = secretariat.get_id()
            session["_fresh"] = True
        print()

        def get(url, headers=None):
            def call():
                response = client.get(url, headers=headers or {})
                assert response.status_code == 200, (url, response.status_code)
                response.get_data()
            return call

        pages = {
            "page /statistiques": get("/statistiques"),
            f"page /statistiques?year={int(year)}&cqp=FAB-OPF": get(f"/statistiques?year={int(year)}&cqp=FAB-OPF"),
            "page /secretariat (accueil)": get("/secretariat"),
            "page /statistiques/dossiers (tri nom)": get("/statistiques/dossiers?sort=candidat"),
            "page /statistiques/dossiers?q=martin": get("/statistiques/dossiers?q=martin"),
            "GET /api/v1/stats": get("/api/v1/stats", {"Authorization": f"Bearer {token}"}),
            "GET /api/v1/stats?year=…&cqp=FAB-OPF": get(f"/api/v1/stats?year={int(year)}&cqp=FAB-OPF",
                                                         {"Authorization": f"Bearer {token}"}),
        }
        for label, call in pages.items():
            median, worst = timed(call)
            print(f"{label:<45}{median:9.1f} ms (max {worst:6.1f})", flush=True)
        if os.environ.get("BENCH_EXPORTS", "1") == "0":
            return 0
        median, worst = timed(get("/statistiques/dossiers/export.csv"), runs=1)
        print(f"{'export CSV de tous les dossiers (streamé)':<45}{median:9.1f} ms")
        median, worst = timed(get("/statistiques/dossiers/export.xlsx"), runs=1)
        print(f"{'export XLSX de tous les dossiers (streamé)':<45}{median:9.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
