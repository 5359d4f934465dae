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
