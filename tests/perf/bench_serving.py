"""Serving throughput (`make bench`, when BENCH_SERVING_DATABASE_URL is set: a PostgreSQL database the
benchmark WIPES): `GET /health` and a file's page (`/dossiers/<id>`, logged in as its company) at 16
concurrent clients, through HAProxy in front of one gunicorn host, then of two; printed as requests per
second and the two-hosts/one-host ratio.

Each host: gunicorn.conf.py in production settings, GUNICORN_WORKERS (default 2) × GUNICORN_THREADS (4).
The hosts share this machine's cores with the clients and HAProxy: on a small machine the ratio says how
much the balancer costs more than how much a second machine would bring."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.deploy.conftest import (  # noqa: E402
    Browser,
    Process,
    gunicorn,
    production_env,
    request,
)
from tests.deploy.test_multihost import HAPROXY_CFG, _prepare_database  # noqa: E402

HOSTS = {"a": ("127.0.0.1", 5207), "b": ("127.0.0.2", 5208)}
BALANCER = ("127.0.0.1", 5209)
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
HTTPS = {"X-Forwarded-Proto": "https"}


def _wait(host: str, port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if request(host, port, "GET", "/health", timeout=3)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{host}:{port} ne répond pas")


def _reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _measure(path: str, browsers: list[Browser]) -> float:
    counts = [0] * len(browsers)
    errors = [0] * len(browsers)
    stop = time.monotonic() + SECONDS

    def run(index: int) -> None:
        browser = browsers[index]
        while time.monotonic() < stop:
            try:
                status, _, _ = browser.get(path, headers=HTTPS)
            except OSError:
                errors[index] += 1
                continue
            if status == 200:
                counts[index] += 1
            else:
                errors[index] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if sum(errors):
        print(f"  {sum(errors)} réponses non 200 sur {path}")
    return sum(counts) / SECONDS


def main() -> None:
    url = os.environ.get("BENCH_SERVING_DATABASE_URL")
    if not url:
        print("BENCH_SERVING_DATABASE_URL non défini : mesure du service (gunicorn, HAProxy) ignorée.")
        return
    haproxy = next((p for p in ("/usr/sbin/haproxy", "/usr/bin/haproxy") if Path(p).exists()), None)
    if not haproxy:
        print("haproxy absent : mesure du service ignorée.")
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    _reset(url)
    data = _prepare_database(url, folder / "uploads")
    env = production_env(url, 25, folder / "uploads", LOG_JSON="0",
                         GUNICORN_WORKERS=os.environ.get("GUNICORN_WORKERS", "2"))
    hosts = {name: gunicorn(f"hôte {name}", f"{h}:{p}", env, folder / f"web-{name}.log").start()
             for name, (h, p) in HOSTS.items()}
    results: dict[tuple[str, int], float] = {}
    balancer: Process | None = None
    try:
        for h, p in HOSTS.values():
            _wait(h, p)
        for count in (1, 2):
            servers = "\n".join(f"    server {name} {h}:{p} check inter 1s"
                                for name, (h, p) in list(HOSTS.items())[:count])
            config = folder / f"haproxy-{count}.cfg"
            config.write_text(HAPROXY_CFG.format(balancer_host=BALANCER[0], balancer_port=BALANCER[1],
                                                 servers=servers))
            balancer = Process("haproxy", [haproxy, "-f", str(config), "-db"], env, folder / "haproxy.log").start()
            _wait(*BALANCER)
            browsers = []
            for _ in range(CLIENTS):
                browser = Browser(*BALANCER)
                status, _, _ = browser.post_form("/connexion", {"email": data["company"], "password": data["password"]})
                assert status == 302, status
                browsers.append(browser)
            file_page = f"/dossiers/{data['files'][0]}"
            for label, path in (("/health", "/health"), ("page d'un dossier", file_page)):
                _measure(path, browsers[:2])  # warm-up
                results[(label, count)] = _measure(path, browsers)
                print(f"{count} hôte(s), {CLIENTS} clients, {label} : {results[(label, count)]:.0f} requêtes/s")
            balancer.stop()
    finally:
        if balancer:
            balancer.stop()
        for process in hosts.values():
            process.stop()
    for label in ("/health", "page d'un dossier"):
        print(f"{label} : 2 hôtes / 1 hôte = {results[(label, 2)] / results[(label, 1)]:.2f}")


if __name__ == "__main__":
    main()
