"""Request ids and the one JSON line per request (app/core/request_log.py): no personal data."""

from __future__ import annotations

import json
import logging

from app.core.request_log import JsonFormatter
from tests.factories import PASSWORD, make_user


def _lines(caplog):
    return [r for r in caplog.records if r.name == "certifia.request"]


def test_each_request_has_an_id_echoed_and_logged_once(client, caplog):
    with caplog.at_level(logging.INFO, logger="certifia.request"):
        response = client.get("/connexion")
    request_id = response.headers["X-Request-Id"]
    assert len(request_id) == 32
    (record,) = _lines(caplog)
    assert record.request == {"request_id": request_id, "user_id": None, "method": "GET", "route": "/connexion",
                              "endpoint": "accounts.login", "status": 200,
                              "duration_ms": record.request["duration_ms"]}
    assert record.request["duration_ms"] >= 0


def test_the_balancers_request_id_is_kept_and_a_strange_one_replaced(client):
    assert client.get("/connexion", headers={"X-Request-Id": "haproxy-0a1b2c3d"}).headers["X-Request-Id"] == \
        "haproxy-0a1b2c3d"
    assert client.get("/connexion", headers={"X-Request-Id": "<script>"}).headers["X-Request-Id"] != "<script>"


def test_the_line_has_the_user_id_and_the_route_never_the_email_or_the_values(app_ctx, client, login_as, caplog):
    user = make_user("secretariat", email="sophie.martin@exemple.fr", first_name="Sophie", last_name="Martin")
    login_as(user)
    with caplog.at_level(logging.INFO, logger="certifia.request"):
        client.get("/verify/CQP-2027-000123?email=sophie.martin@exemple.fr")
        client.get("/accueil")
    records = _lines(caplog)
    lines = [JsonFormatter().format(r) for r in records]
    assert any(json.loads(line)["user_id"] == user.id for line in lines)
    text = "\n".join(lines)
    for personal in ("sophie", "Martin", "exemple.fr", PASSWORD, "000123", "127.0.0.1"):
        assert personal not in text, personal


def test_an_error_page_shows_its_request_id(client):
    response = client.get("/page-qui-n-existe-pas")
    assert response.status_code == 404
    assert f"Référence de la requête : <code>{response.headers['X-Request-Id']}</code>" in response.get_data(as_text=True)


def test_an_error_line_carries_its_traceback_as_json():
    try:
        raise ValueError("boum")
    except ValueError:
        import sys

        record = logging.LogRecord("app", logging.ERROR, __file__, 1, "Erreur inattendue", None, sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["message"] == "Erreur inattendue"
    assert "ValueError: boum" in line["traceback"]
