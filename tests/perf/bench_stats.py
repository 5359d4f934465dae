"""Benchmark of the statistics (`make bench`): /statistiques and GET /api/v1/stats through gunicorn (4 workers,
16 clients, Redis, the RQ worker refreshing the figures), p95 per filter set and throughput as a ratio to
GET /health measured in the same run; the cost of computing the figures (what a cache miss pays); the web
workers' memory (RSS) afterwards.

Reads DATABASE_URL (PostgreSQL); migrates it, and when it holds fewer than BENCH_FILES files (default 100000)
generates a synthetic branch first with COPY (tests/perf/synthetic.py), once: the next runs reuse it
(1,000,000 files: `BENCH_FILES=1000000`, in its own named database). BENCH_SECONDS (default 8) of load per
URL, BENCH_CLIENTS (16), BENCH_PORT (5361), BENCH_STATS_REDIS_URL (redis://127.0.0.1:6379/9, keys under a
prefix of this run); BENCH_FIGURES=1 also times each figure's query in this process (BENCH_RUNS, default 3).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_stats_bench BENCH_FILES=1000000 \\
        .venv/bin/python tests/perf/bench_stats.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
FILES = int(os.environ.get("BENCH_FILES", "100000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
PORT = int(os.environ.get("BENCH_PORT", "5361"))
REDIS_URL = os.environ.get("BENCH_STATS_REDIS_URL", "redis://127.0.0.1:6379/9")
DEMO_SECRETARIAT = ("secretariat@certifia-demo.fr", "Certifia-demo-2026")  # app/demo.py's account


def timed(func, runs: int = RUNS) -> tuple[float, float]:
    """(median, max) in milliseconds over `runs` calls, after one warm-up call."""
    func()
    laps = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        laps.append((time.perf_counter() - start) * 1000)
    return statistics.median(laps), max(laps)


def prepare_branch(app, files: int) -> int:
    """Migrates, loads the demo, generates the synthetic branch when smaller than `files` (once)."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from app.demo import load_demo
    from app.extensions import db
    from app.files.models import CandidateFile
    from tests.perf.synthetic import generate_branch

    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        load_demo()
        db.session.commit()
        existing = db.session.scalar(select(func.count()).select_from(CandidateFile)) or 0
        if existing < files:
            print(f"Génération de {files - existing} dossiers synthétiques (COPY)…", flush=True)
            start = time.perf_counter()
            for written in generate_branch(files - existing):
                db.session.commit()
                print(f"\r  {written} dossiers", end="", flush=True)
            db.session.commit()
            print(f"\n  fait en {time.perf_counter() - start:.0f} s", flush=True)
            if db.engine.dialect.name == "postgresql":
                # What autovacuum does after a bulk load: the planner's statistics and the visibility map.
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE"))
        return db.session.scalar(select(func.count()).select_from(CandidateFile))


def scopes(app) -> dict[str, dict[str, str]]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.files.models import CandidateFile

    with app.app_context():
        year = int(db.session.scalar(select(func.max(func.extract("year", CandidateFile.created_at)))))
    return {"toute la branche": {}, f"année {year}": {"year": str(year)}, "CQP FAB-OPF": {"cqp": "FAB-OPF"},
            "département 69": {"region": "69"}, f"{year}, FAB-OPF, 69": {"year": str(year), "cqp": "FAB-OPF",
                                                                       "region": "69"}}


def computation_costs(app, scope_args: dict) -> None:
    """What computing the figures costs (a cache miss, or every request without Redis)."""
    from app.stats import figures
    from app.stats.filters import parse_filters

    with app.app_context():
        print("\nCalcul direct des chiffres (branch_statistics, ce que paie un ensemble de filtres absent du cache)")
        for label, args in scope_args.items():
            median, worst = timed(lambda a=args: figures.branch_statistics(parse_filters(a)),
                                  runs=1)
            print(f"  {label:<28}{median:9.0f} ms", flush=True)


def figure_table(app, scope_args: dict) -> None:
    from app.stats import figures
    from app.stats.filters import filter_choices, parse_filters

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
    }
    with app.app_context():
        width = max(len(q) for q in queries) + 2
        print("\n" + " " * width + "".join(f"{s:>22}" for s in scope_args))
        for label, query in queries.items():
            cells = []
            for args in scope_args.values():
                median, worst = timed(lambda q=query, a=args: q(parse_filters(a)))
                cells.append(f"{median:9.1f} (max {worst:6.1f})")
            print(f"{label:<{width}}" + "".join(f"{c:>22}" for c in cells), flush=True)


def worker_rss(master_pid: int) -> list[int]:
    """RSS (MB) of each gunicorn worker (the master's children)."""
    sizes = []
    for child in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split():
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) // 1024)
    return sizes


def serve_and_measure(database_url: str, scope_args: dict) -> None:
    from urllib.parse import urlencode

    from tests.perf.load import Gunicorn, load

    prefix = f"bench-stats-{uuid.uuid4().hex[:8]}:"
    extra = {"REDIS_URL": REDIS_URL, "STATS_CACHE_PREFIX": prefix}
    with Gunicorn(database_url, PORT, **extra) as server:
        worker_env = {**server.env}
        refresher = subprocess.Popen([sys.executable, "-m", "app.worker"], cwd=Path(__file__).resolve().parents[2],
                                     env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            shared = server.client()
            shared.login(*DEMO_SECRETARIAT)
            cookies = dict(shared.cookies)
            token = _api_token(database_url)
            clients = [server.client(cookies=dict(cookies)) for _ in range(CLIENTS)]
            api_clients = [server.client(token=token) for _ in range(CLIENTS)]
            health = load(lambda i: clients[i].send("GET", "/health")[0], CLIENTS, SECONDS)
            peak_rss = 0
            print(f"\nSous charge : gunicorn {server.env['GUNICORN_WORKERS']} workers, {CLIENTS} clients, "
                  f"{SECONDS:.0f} s par adresse, Redis et le worker qui recalcule")
            print(f"{'adresse':<58}{'req/s':>8}{'médiane':>10}{'p95':>9}{'/health':>9}")
            print(f"{'GET /health':<58}{health.per_second:8.1f}{health.median:8.1f}ms{health.percentile(95):7.1f}ms"
                  f"{'100 %':>9}", flush=True)
            for label, args in scope_args.items():
                query = ("?" + urlencode(args)) if args else ""
                for name, url, pool in (("/statistiques", f"/statistiques{query}", clients),
                                        ("GET /api/v1/stats", f"/api/v1/stats{query}", api_clients)):
                    ready = _until_computed(pool[0], url)  # the first request hands the computation over
                    run = load(lambda i, u=url, p=pool: p[i].send("GET", u)[0], CLIENTS, SECONDS)
                    ratio = 100 * run.per_second / health.per_second
                    rss = worker_rss(server.process.pid)
                    peak_rss = max(peak_rss, *rss)
                    print(f"{name + ' (' + label + ')':<58}{run.per_second:8.1f}{run.median:8.1f}ms"
                          f"{run.percentile(95):7.1f}ms{ratio:8.1f} %  prêts en {ready:.1f} s, RSS max {max(rss)} Mo"
                          + (f"  ({run.errors} erreurs)" if run.errors else ""), flush=True)
            for name, pool, prefix_url in (("/statistiques", clients, "/statistiques"),
                                           ("GET /api/v1/stats", api_clients, "/api/v1/stats")):
                fresh = _never_asked(database_url, prefix_url)
                answers = {"chiffres": 0, "en cours": 0}

                def call(i, p=pool, f=fresh, a=answers):
                    status, body = p[i].send("GET", f())
                    a["en cours" if status == 503 or PENDING_MARK in body else "chiffres"] += status in (200, 503)
                    return status

                run = load(call, CLIENTS, SECONDS, ok=(200, 503))
                ratio = 100 * run.per_second / health.per_second
                print(f"{name + ' (filtres jamais demandés)':<58}{run.per_second:8.1f}{run.median:8.1f}ms"
                      f"{run.percentile(95):7.1f}ms{ratio:8.1f} %  {answers['chiffres']} avec les chiffres, "
                      f"{answers['en cours']} « calcul en cours »" + (f"  ({run.errors} erreurs)" if run.errors
                                                                      else ""), flush=True)
            rss = worker_rss(server.process.pid)
            print(f"Mémoire des workers web après ces requêtes (RSS) : {', '.join(f'{m} Mo' for m in rss)} "
                  f"(max pendant la mesure {max(peak_rss, *rss)} Mo)")
        finally:
            refresher.terminate()
            refresher.wait(timeout=30)
            from redis import Redis

            redis = Redis.from_url(REDIS_URL)
            keys = list(redis.scan_iter(prefix + "*"))
            if keys:
                redis.delete(*keys)


PENDING_MARK = b"Calcul en cours des chiffres"


def _until_computed(client, url: str, timeout: float = 300) -> float:
    """Seconds until `url` answers with its figures (the page says « calcul en cours », the API 503 meanwhile)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        status, body = client.send("GET", url)
        if status == 200 and PENDING_MARK not in body:
            return time.perf_counter() - start
        assert status in (200, 503), (url, status)
        time.sleep(0.5)
    raise SystemExit(f"{url} : chiffres toujours pas prêts après {timeout:.0f} s")


def _never_asked(database_url: str, path: str):
    """A function giving distinct filter sets (department × CQP × year), each asked once, in random order: what
    a secretariat gets for a filter set nobody asked for lately (this run's cache prefix is new)."""
    import itertools
    import random
    import threading

    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        regions = connection.execute(text(
            "SELECT DISTINCT substr(postcode, 1, 2) FROM establishments WHERE postcode ~ '^[0-9]{5}$' "
            "AND substr(postcode, 1, 2) NOT IN ('20', '97')")).scalars().all()
        cqps = connection.execute(text("SELECT code FROM cqps")).scalars().all()
        years = [int(y) for y in connection.execute(text(
            "SELECT DISTINCT extract(year FROM created_at) FROM candidate_files")).scalars()]
    engine.dispose()
    combos = [f"{path}?region={r}&cqp={c}" + (f"&year={y}" if y else "")
              for r, c, y in itertools.product(regions, cqps, [None, *years])]
    random.shuffle(combos)
    pending = iter(combos)
    lock = threading.Lock()

    def next_url() -> str:
        with lock:
            return next(pending)

    return next_url


def _api_token(database_url: str) -> str:
    from sqlalchemy import select

    from app import create_app
    from app.accounts import services as accounts
    from app.accounts.models import User
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        secretariat = db.session.scalar(select(User).where(User.email == DEMO_SECRETARIAT[0]))
        token = accounts.create_api_token(secretariat, name="bench-stats")
        db.session.commit()
    return token


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        print("DATABASE_URL (PostgreSQL) est requis, ex. postgresql+psycopg://postgres@127.0.0.1:5432/certifia_bench",
              file=sys.stderr)
        return 2
    from app import create_app

    app = create_app({"RATELIMIT_ENABLED": False})
    total = prepare_branch(app, FILES)
    print(f"\nBase : PostgreSQL, {total} dossiers")
    scope_args = scopes(app)
    computation_costs(app, scope_args)
    if os.environ.get("BENCH_FIGURES") == "1":
        figure_table(app, scope_args)
    serve_and_measure(database_url, scope_args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
