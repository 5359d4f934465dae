"""In-process CPU cost of the file lists (the web list, /statistiques/dossiers, GET /api/v1/files): for each,
the SQL statements of one call, the CPU time (time.process_time) per call over PROFILE_CALLS calls with the
Flask test client, and with PROFILE_DIR a pyinstrument profile (text) of one call. On the bench database of
tests/perf/bench_pages.py (filled and migrated by its `prepare`).

    BENCH_PAGES_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_lists_bench \\
        PROFILE_DIR=/tmp/profiles .venv/bin/python tests/perf/profile_lists.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf import bench_pages  # noqa: E402

CALLS = int(os.environ.get("PROFILE_CALLS", "20"))
LISTS = ("liste des dossiers", "statistiques/dossiers", "GET /api/v1/files")


def main() -> int:
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    url = os.environ["BENCH_PAGES_DATABASE_URL"]
    out = Path(os.environ["PROFILE_DIR"]) if os.environ.get("PROFILE_DIR") else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    app = create_app({"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url,
                      "REDIS_URL": None})
    data = bench_pages.prepare(app)
    clients = {}
    for role, (email, password) in bench_pages.accounts_of(data).items():
        clients[role] = app.test_client()
        assert clients[role].post("/connexion", data={"email": email, "password": password}).status_code == 302
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    print(f"{'':<44}{'SQL':>5}{'CPU ms':>9}{'wall ms':>9}")
    for label, role, path in bench_pages.pages(data):
        if not label.startswith(LISTS):
            continue
        client = clients.get(role) or app.test_client()
        headers = {"Authorization": f"Bearer {data['token']}"} if role == "api" else {}
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        statements.clear()
        client.get(path, headers=headers).get_data()
        count = len(statements)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(CALLS):
            client.get(path, headers=headers).get_data()
        cpu, wall = (time.process_time() - cpu) / CALLS * 1000, (time.perf_counter() - wall) / CALLS * 1000
        print(f"{label:<44}{count:>5}{cpu:>9.1f}{wall:>9.1f}", flush=True)
        if out:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            with profiler:
                client.get(path, headers=headers).get_data()
            name = "".join(c if c.isalnum() else "_" for c in label)[:60]
            (out / f"{name}.txt").write_text(profiler.output_text(color=False, show_all=False))
            (out / f"{name}.sql").write_text("\n\n".join(statements[:count]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
