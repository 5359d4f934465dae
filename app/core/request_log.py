"""Request ids and one JSON line per request.

Each request gets an id (the load balancer's `X-Request-Id` when it sent a sane one, else a new one),
echoed in the `X-Request-Id` response header and on error pages (`g.request_id`). After the response,
the logger `certifia.request` writes one line: request id, user id, method, route (the URL rule, as
`/dossiers/<int:file_id>`, never the path with its values or query string), status, duration in ms.
No personal data: no email, name, IP address, query string or form field. With LOG_JSON (on in
production) every log record of the app is one JSON line on stderr, errors with their traceback."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request

log = logging.getLogger("certifia.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
QUIET_PATHS = {"/health"}  # the load balancer asks every few seconds: logged only when not 200


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                "logger": record.name}
        fields = getattr(record, "request", None)
        if fields:
            line.update(fields)
        else:
            line["message"] = record.getMessage()
            try:
                line["request_id"] = g.get("request_id")
            except RuntimeError:  # outside a request or app context
                pass
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_json_logging() -> None:
    """One JSON line per record on stderr for the app's loggers (once per process)."""
    for name in ("app", "certifia"):
        logger = logging.getLogger(name)
        if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
            continue
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _user_id():
    """The id of the user the request loaded, if any: never a query here. The request has committed by now,
    which expires the user's attributes (`is_authenticated` reads `active`, even `id` would be reloaded):
    the id comes from the instance's identity key."""
    user = g.get("_login_user")
    if user is None or getattr(user, "is_anonymous", True):
        return None
    state = getattr(user, "_sa_instance_state", None)
    if state is not None and state.identity:
        return state.identity[0]
    return getattr(user, "id", None)


def init_app(app: Flask) -> None:
    if app.config.get("LOG_JSON"):
        configure_json_logging()

    @app.before_request
    def start():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def finish(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-Id"] = request_id
        if request.path in QUIET_PATHS and response.status_code == 200:
            return response
        started = g.get("request_started")
        fields = {
            "request_id": request_id,
            "user_id": _user_id(),
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule is not None else None,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        }
        log.info("%(method)s %(route)s %(status)s %(duration_ms)sms", fields, extra={"request": fields})
        return response
