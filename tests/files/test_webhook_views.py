"""The webhooks page: the secret is shown once, on the page answering the registration; a refused URL names its
field; another establishment's hook is a 404; a status change made through the API is posted after the commit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.files.webhook_models import Webhook, WebhookDelivery
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_establishment, make_file, make_user
from tests.files.test_webhooks import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def signed_in(app, user):
    client = app.test_client()
    assert login(client, user.email, PASSWORD).status_code == 302
    return client


def test_register_on_the_page_shows_the_secret_once(app, app_ctx, receiver):
    company = make_user(Role.ENTREPRISE, establishment=make_establishment())
    client = signed_in(app, company)
    created = submit_form(client, "/webhooks", {"url": receiver.url, "events": ["file.status_changed"]})
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    secret = db.session.scalar(select(Webhook.secret))
    assert secret in html and "il ne sera plus affiché" in html
    assert secret not in client.get("/webhooks").get_data(as_text=True)
    hook_id = db.session.scalar(select(Webhook.id))
    assert client.get(f"/webhooks/{hook_id}").status_code == 200
    other = signed_in(app, make_user(Role.ENTREPRISE, establishment=make_establishment()))
    assert other.get(f"/webhooks/{hook_id}").status_code == 404
    assert receiver.url not in other.get("/webhooks").get_data(as_text=True)


def test_a_refused_url_names_the_field_on_the_page(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    client = signed_in(app, make_user(Role.SECRETARIAT))
    refused = submit_form(client, "/webhooks", {"url": "http://169.254.169.254/latest/meta-data/",
                                                "events": ["file.status_changed"]})
    assert refused.status_code == 422
    assert "« 169.254.169.254 » désigne une adresse interne" in refused.get_data(as_text=True)
    assert db.session.query(Webhook).count() == 0


def test_a_withdrawal_through_the_api_is_posted_after_the_commit(app, app_ctx, api_as, receiver):
    company = make_user(Role.ENTREPRISE, establishment=make_establishment())
    api = api_as(company)
    assert api.post("/webhooks", json={"url": receiver.url, "events": ["file.status_changed"]}).status_code == 201
    file = make_file("en_attente_evaluation", establishment=company.establishment)
    response = api.post(f"/files/{file.id}/withdraw", json={"reason": "Départ de l'entreprise"})
    assert response.status_code == 200, response.json
    # OUTBOX_DELIVERY=inline in the tests: the sender ran once the request had committed.
    [request] = receiver.requests
    assert re.search(rb'"from":"en_attente_evaluation","to":"abandonne"', request["body"])
    assert db.session.scalar(select(WebhookDelivery.status)) == "delivered"
