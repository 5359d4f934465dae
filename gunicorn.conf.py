"""gunicorn's settings for Certifia (`make serve`, or `gunicorn -c gunicorn.conf.py`), read from the
environment (docs/deploy.md):

GUNICORN_BIND (127.0.0.1:8000), GUNICORN_WORKERS (2 × CPUs + 1), GUNICORN_THREADS (4),
GUNICORN_MAX_REQUESTS (1000) and GUNICORN_MAX_REQUESTS_JITTER (100): a worker is replaced after that
many requests (plus a random jitter, so that they are not all replaced at once) and gives back the
memory it grew; GUNICORN_TIMEOUT (60 s); GUNICORN_PRELOAD (1): the master loads the app once and forks the workers from it, so
that a worker replaced after max_requests starts at once instead of importing and building the app again
(~1.5 s of CPU each time, ~2 ms a request when amortised over 1000 requests: more than /health itself costs).
With it, a reload (HUP) keeps the code loaded: an update restarts the service (docs/deploy.md).

The access log is off: the app writes its own JSON line per request (app/core/request_log.py), without
personal data; gunicorn's own messages go to stderr."""

import gc
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


wsgi_app = "app:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "certifia"
# X-Forwarded-* are read by the app's ProxyFix (TRUSTED_PROXIES), not by gunicorn.
forwarded_allow_ips = "127.0.0.1"
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").strip() != "0"
# A page builds thousands of short-lived objects (ORM rows, their states, template output): with Python's
# default first threshold (700) the collector runs several times a request. 20,000 lets most requests end
# before one; measured with tests/perf/bench_pages.py (README « Mesures »), workers' memory checked there.
GC_THRESHOLDS = (20_000, 20, 20)


def when_ready(server):
    """Before the first fork: what the master loaded (modules, the app, its routes and templates) lives as long
    as the workers and never becomes garbage. Frozen, the workers' collector no longer walks it at each
    collection, and their memory pages stay shared with the master (no copy-on-write by the collector)."""
    if not preload_app:
        return
    application = server.app.wsgi()
    names = application.jinja_env.list_templates(extensions=("html", "txt", "xml"))
    for name in names:
        application.jinja_env.get_template(name)  # compiled once here, not again by each new worker
    gc.collect()
    gc.freeze()
    server.log.info("Application chargée par le maître (preload) : %d gabarits compilés, %d objets gelés",
                    len(names), gc.get_freeze_count())


def post_fork(server, worker):
    """A forked worker must not use a connection of the master's pools (the master opens none while loading,
    but an extension might): its engines start with fresh pools, the master's connections left to it. The
    collector's thresholds are the worker's (GC_THRESHOLDS)."""
    gc.set_threshold(*GC_THRESHOLDS)
    if not preload_app:
        return
    from app.extensions import db

    application = server.app.wsgi()
    with application.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
