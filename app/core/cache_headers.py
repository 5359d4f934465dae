"""`Cache-Control: no-store` on what no cache may keep: every answer to a logged-in user (pages and JSON show
names and birth dates) and every document (PDF, scan, export), whoever asked. Static files keep their
long cache; HSTS comes from Talisman in production."""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import current_user

DOCUMENT_TYPES = {
    "application/pdf", "application/octet-stream", "application/xml", "text/csv", "image/png", "image/jpeg",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip",
}


def _is_document(response) -> bool:
    return response.mimetype in DOCUMENT_TYPES or "attachment" in response.headers.get("Content-Disposition", "")


def _authenticated() -> bool:
    """Whether the request was made by a logged-in user. The user the request loaded is read from `g`: the
    loaders return only active users, and after the request's commit its attributes are expired, so asking
    `current_user.is_authenticated` (which reads `active`) would cost a SELECT on every page."""
    loaded = g.get("_login_user")
    if loaded is not None:
        return not getattr(loaded, "is_anonymous", True)
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # noqa: BLE001 (the user could not be loaded: the answer is an error anyway)
        return False


def no_store(response):
    if request.endpoint == "static":
        return response
    if _is_document(response) or _authenticated():
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"  # HTTP/1.0 proxies
    return response


def init_app(app: Flask) -> None:
    app.after_request(no_store)
