"""Static files (app/core/static_files.py): fingerprinted names, a year's cache; old names still served."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import url_for

ROOT = Path(__file__).resolve().parents[2]


def test_static_urls_carry_the_content_hash_and_are_cached_a_year(app, client):
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    digest = hashlib.sha256((ROOT / "static/css/app.css").read_bytes()).hexdigest()[:12]
    assert url == f"/static/css/app.{digest}.css"
    response = client.get(url)
    response.close()
    assert response.status_code == 200 and response.mimetype == "text/css"
    cache = response.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache


def test_pages_link_the_fingerprinted_names(client):
    html = client.get("/connexion").get_data(as_text=True)
    assert re.search(r'href="/static/css/app\.[0-9a-f]{12}\.css"', html)


def test_a_plain_or_stale_name_is_served_without_the_long_cache(client):
    for url in ("/static/css/app.css", "/static/css/app.0123456789ab.css"):
        response = client.get(url)
        response.close()
        assert response.status_code == 200, url
        assert "immutable" not in response.headers.get("Cache-Control", "")
    assert client.get("/static/css/absent.0123456789ab.css").status_code == 404
    assert client.get("/static/../app/config.py").status_code == 404


def test_only_real_names_are_remembered(app, client):
    """A detour to a real file (`css/./app.css`) is served but not remembered: requests cannot grow the memory."""
    from app.core import static_files

    with app.test_request_context():
        url_for("static", filename="css/app.css")
    remembered = static_files.remembered_names(app)
    for n in range(5):
        response = client.get("/static/css/" + "./" * (n + 1) + "app.0123456789ab.css")
        response.close()
    assert static_files.remembered_names(app) == remembered and "css/app.css" in remembered


def test_a_digest_is_kept_for_the_process_in_production_and_read_again_elsewhere_when_the_file_changes(app):
    """A release's files do not change under it: in production the first digest is kept (no stat per url_for);
    elsewhere (make run) an edited file gets its new name at once."""
    import os
    import uuid

    path = ROOT / "static" / f"fingerprint-test-{uuid.uuid4().hex[:8]}.css"
    name = path.name

    def url():
        with app.test_request_context():
            return url_for("static", filename=name)

    def named(content: bytes) -> str:
        return f"/static/{path.stem}.{hashlib.sha256(content).hexdigest()[:12]}.css"

    def edit(content: bytes) -> None:
        path.write_bytes(content)
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))

    saved = app.config["APP_ENV"]
    try:
        path.write_bytes(b"a{}")
        assert url() == named(b"a{}")
        edit(b"b{}")
        assert url() == named(b"b{}")  # testing, as under make run: read again
        app.config["APP_ENV"] = "production"
        edit(b"c{}")
        assert url() == named(b"b{}")  # kept
    finally:
        app.config["APP_ENV"] = saved
        path.unlink(missing_ok=True)
