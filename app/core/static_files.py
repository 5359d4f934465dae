"""Static files with fingerprinted names and long cache headers.

`url_for('static', filename='css/app.css')` answers `/static/css/app.<hash>.css`, the hash being the
file's content (12 hex digits of its SHA-256): a changed file gets a new name, so a name can be cached
for a year (`immutable`). A name without its hash, or with an old one, is still served, with the
short default cache (a page cached from the previous release asks for it). Same idea as
Flask-Static-Digest or Django's ManifestStaticFilesStorage, without a build step: hashes are computed
on first use and kept for the process's life (a release's files do not change under it: a deployment restarts
the workers) in production; elsewhere while the file's mtime does not change (a stylesheet edited under
`make run` shows at once). Only existing files under their own name are remembered: a name asked for in a
URL that is no file, or a detour to one (`css/./app.css`), costs a stat, not memory."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask

FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.[A-Za-z0-9]+)$")


def remembered_names(app: Flask) -> set[str]:
    """The static files whose digest this process keeps."""
    return set(app.extensions.get("static_digests", {}))


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder).resolve()
    digests: dict[str, tuple[float, str]] = app.extensions.setdefault("static_digests", {})

    def digest(filename: str) -> str | None:
        known = digests.get(filename)
        if known and app.config["APP_ENV"] == "production":
            return known[1]
        path = (folder / filename).resolve()
        if folder not in path.parents or not path.is_file():
            return None
        mtime = path.stat().st_mtime
        if known and known[0] == mtime:
            return known[1]
        value = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        if path.relative_to(folder).as_posix() == filename:
            digests[filename] = (mtime, value)
        return value

    @app.url_defaults
    def fingerprint(endpoint, values):
        if endpoint != "static" or "filename" not in values:
            return
        filename = values["filename"]
        value = digest(filename)
        stem, dot, ext = filename.rpartition(".")
        if value and dot and "/" not in ext:
            values["filename"] = f"{stem}.{value}.{ext}"

    def static(filename: str):
        match = FINGERPRINTED.match(filename)
        if match:
            original = f"{match['stem']}{match['ext']}"
            if digest(original) == match["digest"]:
                response = app.send_static_file(original)
                response.cache_control.public = True
                response.cache_control.max_age = app.config["STATIC_MAX_AGE"]
                response.cache_control.immutable = True
                return response
            if digest(original) is not None:
                return app.send_static_file(original)  # an older release's name: the current file
        return app.send_static_file(filename)

    app.view_functions["static"] = static
