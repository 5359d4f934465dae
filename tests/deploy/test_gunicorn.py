"""gunicorn as deployed (gunicorn.conf.py): the master loads the app once (preload) and the workers forked from
it serve at once, including those that replace a worker after GUNICORN_MAX_REQUESTS."""

from __future__ import annotations

import re

import pytest

from tests.deploy.conftest import gunicorn, port_is_free, production_env, request, run_flask, wait_for_health

pytestmark = pytest.mark.multihost

HOST, PORT = "127.0.0.1", 5206


def test_workers_forked_from_the_loaded_app_serve_and_are_replaced_after_max_requests(
        tmp_path, deploy_database_url, deploy_redis, smtp_server):
    _, smtp_port = smtp_server
    env = production_env(deploy_database_url, smtp_port, tmp_path / "uploads", GUNICORN_WORKERS="2",
                         GUNICORN_THREADS="1", GUNICORN_MAX_REQUESTS="10", GUNICORN_MAX_REQUESTS_JITTER="0",
                         GUNICORN_LOG_LEVEL="info")
    migrated = run_flask(env, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    if not port_is_free(HOST, PORT):
        pytest.fail(f"le port {HOST}:{PORT} est déjà pris")
    server = gunicorn("gunicorn", f"{HOST}:{PORT}", env, tmp_path / "gunicorn.log").start()
    try:
        wait_for_health(HOST, PORT, server)
        https = {"X-Forwarded-Proto": "https"}  # as HAProxy says it (TRUSTED_PROXIES=1)
        statuses = [request(HOST, PORT, "GET", path, headers=https)[0]
                    for _ in range(30) for path in ("/health", "/connexion")]
        log = (tmp_path / "gunicorn.log").read_text(errors="replace")
    finally:
        server.stop()
    assert statuses == [200] * len(statuses)
    loaded = re.search(r"Application chargée par le maître \(preload\) : (\d+) gabarits compilés", log)
    assert loaded and int(loaded[1]) > 100, log
    booted = re.findall(r"Booting worker with pid: (\d+)", log)
    assert "Autorestarting worker after current request" in log and len(set(booted)) >= 4, log
