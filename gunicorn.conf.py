"""gunicorn's settings for Certifia (`make serve`, or `gunicorn -c gunicorn.conf.py`), read from the
environment (docs/deploy.md):

GUNICORN_BIND (127.0.0.1:8000), GUNICORN_WORKERS (2 × CPUs + 1), GUNICORN_THREADS (4),
GUNICORN_MAX_REQUESTS (1000) and GUNICORN_MAX_REQUESTS_JITTER (100): a worker is replaced after that
many requests (plus a random jitter, so that they are not all replaced at once) and gives back the
memory it grew; GUNICORN_TIMEOUT (60 s).

The access log is off: the app writes its own JSON line per request (app/core/request_log.py), without
personal data; gunicorn's own messages go to stderr."""

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
