"""POST/GET /webhooks, DELETE, enable, deliveries: the secret is answered once, another tenant's hook is a 404,
URLs inside are a 422 (SSRF)."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.files import workflow
from tests.factories import make_establishment, make_file, make_user
from tests.files.test_webhooks import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_register_list_deliveries_and_delete(app_ctx, api_as, receiver):
    company = make_user(Role.ENTREPRISE, establishment=make_establishment())
    api = api_as(company)
    created = api.post("/webhooks", json={"url": receiver.url, "events": ["file.status_changed"]})
    assert created.status_code == 201, created.json
    assert len(created.json["secret"]) == 64 and created.json["events"] == ["file.status_changed"]
    hook_id = created.json["id"]
    listed = api.get("/webhooks").json
    assert [h["id"] for h in listed] == [hook_id] and "secret" not in listed[0]
    assert "secret" not in api.get(f"/webhooks/{hook_id}").json
    file = make_file(establishment=company.establishment)
    workflow.fire(file, "withdraw", company, reason="Départ")
    db.session.commit()
    from app.files.webhooks import deliver_pending

    deliver_pending()
    [delivery] = api.get(f"/webhooks/{hook_id}/deliveries").json
    assert delivery["status"] == "delivered" and delivery["log"][0]["status_code"] == 200
    colleague_elsewhere = api_as(make_user(Role.ENTREPRISE, establishment=make_establishment()))
    assert colleague_elsewhere.get(f"/webhooks/{hook_id}/deliveries").status_code == 404
    assert colleague_elsewhere.delete(f"/webhooks/{hook_id}").status_code == 404
    assert api_as(make_user(Role.PARTENAIRE)).get("/webhooks").status_code == 403
    assert api.delete(f"/webhooks/{hook_id}").status_code == 204
    assert api.get("/webhooks").json == []


@pytest.mark.parametrize("url", ["ftp://exemple.fr/x", "http://127.0.0.1/x", "http://10.0.0.1/x", "http://[::1]/x",
                                 "http://169.254.169.254/latest/meta-data/", "http://localhost/x"])
def test_urls_inside_are_a_422(app, app_ctx, api_as, monkeypatch, url):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    response = api_as(make_user(Role.SECRETARIAT)).post("/webhooks", json={"url": url,
                                                                           "events": ["file.status_changed"]})
    assert response.status_code == 422 and "url" in response.json["errors"]
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("body, field", [({"events": ["file.status_changed"]}, "url"),
                                         ({"url": "https://exemple.fr", "events": "file.status_changed"}, "events"),
                                         ({"url": 12, "events": ["file.status_changed"]}, "url"),
                                         ({"url": "https://exemple.fr", "events": ["x"], "other": 1}, "other")])
def test_bad_bodies_are_a_422_naming_the_field(app_ctx, api_as, body, field):
    response = api_as(make_user(Role.SECRETARIAT)).post("/webhooks", json=body)
    assert response.status_code == 422 and field in response.json["errors"]
