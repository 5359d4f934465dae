"""Benchmark of the key pages at branch scale (`make bench`, when BENCH_PAGES_DATABASE_URL is set): each page's
throughput at BENCH_CLIENTS (default 16) concurrent clients against gunicorn (gunicorn.conf.py, production
settings, GUNICORN_WORKERS default 4), as a ratio to `GET /health` measured in the same run, its p95, and
the SQL statements one call runs (counted in-process with a `before_cursor_execute` listener).

The database (PostgreSQL) is NOT wiped: it is migrated, filled once with BENCH_FILES (default 100000)
synthetic files (tests/perf/synthetic.py), the demo accounts, a held 300-file jury session
(bench_decisions.build) and a company and an assessor of the synthetic branch with a password; later runs
reuse it. BENCH_SECONDS (default 4) of load per page. BENCH_PROFILE_DIR: a pyinstrument profile (HTML) of
one call of each page is written there.

    BENCH_PAGES_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_pages_bench \\
        .venv/bin/python tests/perf/bench_pages.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.load import Gunicorn, children, load, pss_mb, rss_mb  # noqa: E402

FILES = int(os.environ.get("BENCH_FILES", "100000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
PORT = int(os.environ.get("BENCH_PAGES_PORT", "5350"))
PASSWORD = "banc-pages-mot-de-passe"
DEMO_PASSWORD = "Certifia-demo-2026"
DEEP = 40_000  # rows before the deep page


def prepare(app) -> dict:
    """Fills the database once (see the module's docstring); returns the accounts and ids the pages need."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from app.accounts import services as accounts
    from app.accounts.auth import hash_password
    from app.accounts.models import User
    from app.demo import load_demo
    from app.extensions import db
    from app.files.models import CandidateFile
    from app.jury.models import JurySession
    from app.referential.models import Assessor
    from tests.perf import bench_decisions
    from tests.perf.synthetic import generate_branch

    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        filled = False
        if db.session.scalar(select(User.id).where(User.email == "secretariat@certifia-demo.fr")) is None:
            load_demo()
            db.session.commit()
        existing = db.session.scalar(select(func.count()).select_from(CandidateFile)) or 0
        if existing < FILES:
            print(f"Génération de {FILES - existing} dossiers synthétiques…", flush=True)
            for _ in generate_branch(FILES - existing):
                db.session.commit()
            filled = True
        if db.session.scalar(select(User.id).where(User.email == "secretariat@banc-essai.fr")) is None:
            bench_decisions.build(db, 300)
            filled = True
        company = db.session.scalar(select(User).where(User.email == "entreprise@banc-pages.fr"))
        if company is None:
            establishment_id = db.session.scalar(
                select(CandidateFile.establishment_id).group_by(CandidateFile.establishment_id)
                .order_by(func.count().desc(), CandidateFile.establishment_id).limit(1))
            from app.accounts.models import Establishment

            company = accounts.create_user("entreprise@banc-pages.fr", "entreprise", password=PASSWORD,
                                           establishment=db.session.get(Establishment, establishment_id))
            assessor_user = db.session.scalar(
                select(User).join(Assessor, Assessor.user_id == User.id)
                .join(CandidateFile, CandidateFile.assessor_id == Assessor.id)
                .where(User.email.like("evaluateur%@synthetique.certifia.fr"))
                .group_by(User.id).order_by(func.count().desc(), User.id).limit(1))
            assessor_user.password_hash = hash_password(PASSWORD)
            db.session.commit()
        assessor_email = db.session.scalar(
            select(User.email).where(User.email.like("evaluateur%@synthetique.certifia.fr"),
                                     User.password_hash.is_not(None)).order_by(User.id).limit(1))
        secretariat = db.session.scalar(select(User).where(User.email == "secretariat@certifia-demo.fr"))
        token = accounts.create_api_token(secretariat, "banc des pages")
        db.session.commit()
        if filled and db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        company_file = db.session.scalar(
            select(CandidateFile.id).where(CandidateFile.establishment_id == company.establishment_id,
                                           CandidateFile.decided_at.is_not(None)).order_by(CandidateFile.id).limit(1))
        session_id = db.session.scalar(select(JurySession.id).where(JurySession.capacity == 300, JurySession.seats_taken == 300)
                                       .order_by(JurySession.id.desc()).limit(1))
        total = db.session.scalar(select(func.count()).select_from(CandidateFile))
        deep = _deep_arguments()
        # The decision screen shows 50 files a page (keyset): its 4th page starts after the session's 150th file.
        decisions_after = db.session.scalar(select(CandidateFile.id).where(CandidateFile.jury_session_id == session_id)
                                            .order_by(CandidateFile.id).offset(149).limit(1))
        return {"token": token, "company_file": company_file, "session_id": session_id, "total": total,
                "assessor": assessor_email, "deep": deep, "dialect": db.engine.dialect.name,
                "decisions_after": decisions_after}


def _deep_arguments() -> dict[str, str]:
    """The query-string arguments of the page after DEEP rows of each list: a keyset cursor when the
    application has one (`listing.encode_cursor`), else the page number (OFFSET)."""
    from sqlalchemy import select

    from app.core import listing
    from app.extensions import db
    from app.files.models import CandidateFile as f

    per_page = {"dossiers": 20, "statistiques": 25, "api": 20}
    if not hasattr(listing, "encode_cursor"):
        return {name: f"page={DEEP // n + 1}" for name, n in per_page.items()}
    found = {}
    for name, n in per_page.items():
        row = db.session.execute(select(f.created_at, f.id).order_by(f.created_at.desc(), f.id.desc())
                                 .offset(DEEP // n * n - 1).limit(1)).one()
        cursor = listing.encode_cursor([row.created_at, row.id])
        found[name] = f"{'after' if name == 'api' else 'apres'}={cursor}"
    return found


def pages(data: dict) -> list[tuple[str, str, str]]:
    """(label, account, path); account: a role of the accounts below, or 'api'. BENCH_ONLY: only the
    pages whose label holds that text."""
    only = os.environ.get("BENCH_ONLY", "")
    return [page for page in _pages(data) if only in page[0]]


def _pages(data: dict) -> list[tuple[str, str, str]]:
    sid, deep = data["session_id"], data["deep"]
    return [
        ("page d'un dossier", "entreprise", f"/dossiers/{data['company_file']}"),
        ("liste des dossiers, page 1", "secretariat", "/dossiers"),
        ("liste des dossiers, page profonde", "secretariat", f"/dossiers?{deep['dossiers']}"),
        ("liste des dossiers, statut + recherche", "secretariat", "/dossiers?status=valide&q=mar"),
        ("statistiques/dossiers, page 1", "secretariat", "/statistiques/dossiers"),
        ("statistiques/dossiers, page profonde", "secretariat", f"/statistiques/dossiers?{deep['statistiques']}"),
        ("statistiques/dossiers, filtres + recherche", "secretariat",
         "/statistiques/dossiers?status=valide&cqp=FAB-OPF&q=mar"),
        ("accueil du secrétariat", "secretariat", "/secretariat"),
        ("accueil d'une entreprise", "entreprise", "/entreprise"),
        ("accueil d'un évaluateur", "evaluateur", "/evaluateur"),
        ("session de jury de 300 dossiers", "secretariat", f"/secretariat/jurys/{sid}"),
        ("écran des décisions (300 dossiers), page 1", "secretariat", f"/secretariat/jurys/{sid}/decisions"),
        ("écran des décisions (300 dossiers), page 4", "secretariat",
         f"/secretariat/jurys/{sid}/decisions?apres={data['decisions_after']}"),
        ("GET /api/v1/files", "api", "/api/v1/files"),
        ("GET /api/v1/files, page profonde", "api", f"/api/v1/files?{deep['api']}"),
        ("GET /api/v1/files?status=valide&q=mar", "api", "/api/v1/files?status=valide&q=mar"),
    ]


def accounts_of(data: dict) -> dict[str, tuple[str, str]]:
    return {"secretariat": ("secretariat@certifia-demo.fr", DEMO_PASSWORD),
            "entreprise": ("entreprise@banc-pages.fr", PASSWORD),
            "evaluateur": (data["assessor"], PASSWORD)}


def count_statements(app, data: dict, profile_dir: Path | None) -> dict[str, int]:
    """Statements of one call of each page (after a warm-up call), in-process."""
    from sqlalchemy import event

    from app.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    clients = {}
    for role, (email, password) in accounts_of(data).items():
        clients[role] = app.test_client()
        response = clients[role].post("/connexion", data={"email": email, "password": password})
        assert response.status_code == 302, (email, response.status_code)
    counts = {}
    try:
        for label, role, path in pages(data):
            client = clients.get(role) or app.test_client()
            headers = {"Authorization": f"Bearer {data['token']}"} if role == "api" else {}
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
            statements.clear()
            client.get(path, headers=headers).get_data()
            counts[label] = len(statements)
            if profile_dir is not None:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                with profiler:
                    client.get(path, headers=headers).get_data()
                name = "".join(c if c.isalnum() else "_" for c in label)[:60]
                (profile_dir / f"{name}.html").write_text(profiler.output_html())
                (profile_dir / f"{name}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return counts


def main() -> int:
    url = os.environ.get("BENCH_PAGES_DATABASE_URL", "")
    if not url:
        print("BENCH_PAGES_DATABASE_URL non défini : mesure des pages à l'échelle d'une branche ignorée.")
        return 0
    from app import create_app

    profile_dir = Path(os.environ["BENCH_PROFILE_DIR"]) if os.environ.get("BENCH_PROFILE_DIR") else None
    if profile_dir:
        profile_dir.mkdir(parents=True, exist_ok=True)
    app = create_app({"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url,
                      "REDIS_URL": None})
    data = prepare(app)
    counts = count_statements(app, data, profile_dir)
    print(f"Base : {data['dialect']}, {data['total']} dossiers ; gunicorn {os.environ.get('GUNICORN_WORKERS', '4')} "
          f"workers ; {CLIENTS} clients, {SECONDS:.0f} s par page\n")
    print(f"{'':<44}{'req/s':>8}{'/health':>9}{'p50 ms':>9}{'p95 ms':>9}{'SQL':>6}")
    with Gunicorn(url.replace("postgresql+psycopg://", "postgresql+psycopg://"), PORT) as server:
        sessions = {}
        for role, (email, password) in accounts_of(data).items():
            client = server.client()
            client.login(email, password)
            sessions[role] = client.cookies
        load(lambda i: server.client().send("GET", "/health")[0], 2, 1)  # warm-up of every worker
        health = load(lambda i: server.client().send("GET", "/health")[0], CLIENTS, SECONDS)
        print(f"{'GET /health (référence)':<44}{health.per_second:>8.0f}{1:>9.2f}{health.median:>9.0f}"
              f"{health.percentile(95):>9.0f}{'':>6}", flush=True)
        for label, role, path in pages(data):
            if role == "api":
                def call(i, path=path):
                    return server.client(token=data["token"]).send("GET", path)[0]
            else:
                def call(i, path=path, cookies=sessions[role]):
                    return server.client(cookies=dict(cookies)).send("GET", path)[0]
            call(0)
            result = load(call, CLIENTS, SECONDS)
            errors = f"  ({result.errors} erreurs)" if result.errors else ""
            print(f"{label:<44}{result.per_second:>8.1f}{result.per_second / health.per_second:>9.1%}"
                  f"{result.median:>9.0f}{result.percentile(95):>9.0f}{counts[label]:>6}{errors}", flush=True)
            time.sleep(0.5)
        workers = children(server.process.pid)
        print(f"\nMémoire des {len(workers)} workers web après les pages : RSS "
              f"{', '.join(str(rss_mb(pid)) for pid in workers)} Mo (part propre, Pss : "
              f"{', '.join(str(pss_mb(pid)) for pid in workers)} Mo ; maître {rss_mb(server.process.pid)} Mo)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
