"""A pyinstrument profile of GET /statistiques (and GET /api/v1/stats) on DATABASE_URL, written as text and
HTML to PROFILE_DIR (default /work/notes/profiles_stats) under PROFILE_LABEL (default "statistiques").

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_stats_bench \\
        PROFILE_LABEL=avant .venv/bin/python tests/perf/profile_stats.py

With REDIS_URL set, the warm-up waits until the filter set's figures are in the cache and the profiled call
reads them (the page as the users see it); without, the profiled call computes every figure."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


DEMO_SECRETARIAT = ("secretariat@certifia-demo.fr", "Certifia-demo-2026")  # app/demo.py's account


def login_secretariat(client) -> None:
    """Logs the test client in as the demo's secretariat (the app built with WTF_CSRF_ENABLED=False)."""
    email, password = DEMO_SECRETARIAT
    response = client.post("/connexion", data={"email": email, "password": password})
    assert response.status_code == 302, response.status_code


def main() -> int:
    from pyinstrument import Profiler

    from app import create_app

    out = Path(os.environ.get("PROFILE_DIR", "/work/notes/profiles_stats"))
    out.mkdir(parents=True, exist_ok=True)
    label = os.environ.get("PROFILE_LABEL", "statistiques")
    app = create_app({"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    login_secretariat(client)
    for url in ("/statistiques", "/statistiques?cqp=FAB-OPF&region=69"):
        # Warm-up; with Redis, until the figures of this filter set are computed (in the background: the page
        # says « calcul en cours » meanwhile), so that the profiled call reads them as the users do.
        deadline = time.monotonic() + 300
        while b"Calcul en cours des chiffres" in client.get(url).get_data() and time.monotonic() < deadline:
            time.sleep(0.5)
        profiler = Profiler(interval=0.001)
        start = time.perf_counter()
        profiler.start()
        response = client.get(url)
        response.get_data()
        profiler.stop()
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.status_code
        name = label + ("" if "?" not in url else "-filtres")
        (out / f"{name}.txt").write_text(f"{url}: {elapsed:.0f} ms\n\n" + profiler.output_text(color=False))
        (out / f"{name}.html").write_text(profiler.output_html())
        print(f"{url}: {elapsed:.0f} ms -> {out / name}.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
