"""Webhooks: each status change writes a delivery in the change's transaction; the sender posts it, signed with
HMAC-SHA256, to a real HTTP server on loopback; failures are retried with backoff for 24 hours, then the hook is
disabled and its owner emailed; URLs inside (loopback, private, link-local, names resolving there) are refused at
registration and again at delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.core.clock import utcnow
from app.core.errors import ValidationFailed
from app.extensions import db
from app.files import webhooks, workflow
from app.files.models import FileStatus
from app.files.webhook_models import Webhook, WebhookDelivery
from tests.factories import make_establishment, make_file, make_user


class Receiver:
    """An HTTP server on loopback that records each POST and answers the next status of `answers` (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        self.delay = 0.0
        self.drip = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                time.sleep(receiver.delay)
                if receiver.drip:  # an answer dripped a byte at a time, each just under the socket timeout
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(40):
                        self.wfile.write(b"X")
                        self.wfile.flush()
                        time.sleep(0.1)
                    return
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client that gave up (the sender's timeout): nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/certifia?source=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def company(app_ctx):
    return make_user(Role.ENTREPRISE, establishment=make_establishment())


def withdraw(file, actor):
    workflow.fire(file, "withdraw", actor, reason="Départ de l'entreprise")
    db.session.commit()


def test_a_status_change_is_posted_signed_with_the_secret(app, company, receiver):
    webhook, secret = webhooks.register_webhook(company, receiver.url, ["file.status_changed"])
    db.session.commit()
    file = make_file(FileStatus.EN_ATTENTE_EVALUATION, establishment=company.establishment)
    withdraw(file, company)
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "pending" and delivery.file_id == file.id  # written with the change
    assert webhooks.deliver_pending() == {"delivered": 1, "retry": 0, "failed": 0}
    [request] = receiver.requests
    assert request["path"] == "/hooks/certifia?source=test"
    body = request["body"]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-Certifia-Signature"], expected)
    payload = json.loads(body)
    assert payload["event"] == "file.status_changed" and payload["file_id"] == file.id
    assert (payload["from"], payload["to"]) == ("en_attente_evaluation", "abandonne")
    assert payload["at"].endswith("Z") and set(payload) == {"event", "file_id", "from", "to", "at"}
    assert request["headers"]["Content-Type"] == "application/json"
    db.session.refresh(delivery)
    assert delivery.status == "delivered" and delivery.last_status_code == 200
    assert [a.status_code for a in delivery.attempt_log] == [200]
    assert webhooks.deliver_pending() == {"delivered": 0, "retry": 0, "failed": 0}  # once


def test_a_forged_signature_does_not_match(app, company, receiver):
    _webhook, secret = webhooks.register_webhook(company, receiver.url, ["file.status_changed"])
    db.session.commit()
    withdraw(make_file(establishment=company.establishment), company)
    webhooks.deliver_pending()
    body = receiver.requests[0]["body"]
    other = "sha256=" + hmac.new(b"another-secret", body, hashlib.sha256).hexdigest()
    assert receiver.requests[0]["headers"]["X-Certifia-Signature"] != other
    tampered = body.replace(b"abandonne", b"valide")
    good = "sha256=" + hmac.new(secret.encode(), tampered, hashlib.sha256).hexdigest()
    assert receiver.requests[0]["headers"]["X-Certifia-Signature"] != good


def test_a_company_hook_sees_only_its_files_and_the_secretariat_hook_sees_all(app, company, receiver):
    secretariat = make_user(Role.SECRETARIAT)
    webhooks.register_webhook(company, receiver.url, ["file.status_changed"])
    webhooks.register_webhook(secretariat, receiver.url.replace("source=test", "source=branche"),
                              ["file.status_changed"])
    db.session.commit()
    withdraw(make_file(), secretariat)  # another establishment's file
    webhooks.deliver_pending()
    assert [r["path"] for r in receiver.requests] == ["/hooks/certifia?source=branche"]


def test_a_failure_is_retried_with_backoff_then_delivered(app, company, receiver):
    webhooks.register_webhook(company, receiver.url, ["file.status_changed"])
    db.session.commit()
    withdraw(make_file(establishment=company.establishment), company)
    receiver.answers = [500, 503]
    start = utcnow()
    assert webhooks.deliver_pending(now=start) == {"delivered": 0, "retry": 1, "failed": 0}
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.next_attempt_at == start + timedelta(seconds=60)
    assert webhooks.deliver_pending(now=start + timedelta(seconds=30)) == {"delivered": 0, "retry": 0, "failed": 0}
    assert webhooks.deliver_pending(now=start + timedelta(seconds=61))["retry"] == 1
    db.session.refresh(delivery)
    assert delivery.next_attempt_at == start + timedelta(seconds=61 + 120)  # doubled
    assert webhooks.deliver_pending(now=start + timedelta(seconds=200))["delivered"] == 1
    db.session.refresh(delivery)
    assert [a.status_code for a in delivery.attempt_log] == [500, 503, 200]
    assert delivery.webhook.consecutive_failures == 0 and delivery.webhook.active


def test_after_24_hours_of_failures_the_hook_is_disabled_and_its_owner_emailed(app, company, receiver, mailbox):
    webhook, _ = webhooks.register_webhook(company, receiver.url, ["file.status_changed"])
    db.session.commit()
    withdraw(make_file(establishment=company.establishment), company)
    delivery = db.session.scalar(select(WebhookDelivery))
    receiver.answers = [500] * 50
    at, attempts = delivery.created_at, 0
    while True:
        counts = webhooks.deliver_pending(now=at)
        attempts += 1
        if counts["failed"]:
            break
        db.session.refresh(delivery)
        assert delivery.next_attempt_at - delivery.created_at <= timedelta(hours=24)
        at = delivery.next_attempt_at
    assert 10 <= attempts <= 12 and at - delivery.created_at < timedelta(hours=24)
    db.session.refresh(webhook)
    assert not webhook.active and "a échoué pendant 24 h" in webhook.disabled_reason
    from app.core.mail import send_pending

    send_pending()
    message = mailbox.last_to(company.email)
    assert "désactivé" in message["Subject"] and receiver.url in mailbox.text_of(message)
    withdraw(make_file(establishment=company.establishment), company)  # a disabled hook gets nothing new
    assert db.session.query(WebhookDelivery).count() == 1


@pytest.mark.parametrize("url, message", [
    ("ftp://exemple.fr/hook", "doit commencer par http:// ou https://"),
    ("javascript:alert(1)", "doit commencer par http:// ou https://"),
    ("http://127.0.0.1:8080/hook", "adresse interne (127.0.0.1)"),
    ("http://10.1.2.3/hook", "adresse interne (10.1.2.3)"),
    ("http://192.168.0.10/hook", "adresse interne"),
    ("http://[::1]/hook", "adresse interne (::1)"),
    ("http://169.254.169.254/latest/meta-data/", "adresse interne (169.254.169.254)"),
    ("http://[::ffff:127.0.0.1]/hook", "adresse interne"),
    ("http://0.0.0.0/hook", "adresse interne"),
    ("http://localhost:5000/hook", "« localhost » désigne une adresse interne"),
    ("http://user:pw@exemple.fr/hook", "identifiants"),
    ("http://exemple.fr:99999/hook", "port"),
    ("https:///hook", "nom d'hôte"),
    ("", "obligatoire"),
])
def test_urls_inside_or_not_http_are_refused_at_registration(app, company, monkeypatch, url, message):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    with pytest.raises(ValidationFailed) as refused:
        webhooks.register_webhook(company, url, ["file.status_changed"])
    assert message in refused.value.errors["url"][0]
    assert db.session.query(Webhook).count() == 0


def test_unknown_events_are_refused(app, company):
    with pytest.raises(ValidationFailed) as refused:
        webhooks.register_webhook(company, "https://exemple.fr/hook", ["file.deleted"])
    assert "Évènement inconnu : file.deleted" in refused.value.errors["events"][0]
    with pytest.raises(ValidationFailed):
        webhooks.register_webhook(company, "https://exemple.fr/hook", [])


def test_an_address_checked_at_registration_is_checked_again_at_delivery(app, company, receiver, monkeypatch):
    """DNS rebinding: a name that resolved outside at registration and points inside at delivery gets nothing."""
    webhooks.register_webhook(company, receiver.url, ["file.status_changed"])  # allowed then (development)
    db.session.commit()
    withdraw(make_file(establishment=company.establishment), company)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    assert webhooks.deliver_pending()["retry"] == 1
    assert receiver.requests == []
    delivery = db.session.scalar(select(WebhookDelivery))
    assert "adresse refusée" in delivery.last_error and delivery.last_status_code is None


def test_the_connection_goes_to_the_address_that_was_checked(app, company, receiver, monkeypatch):
    """The sender connects to the checked address: a second resolution of the name cannot redirect it."""
    calls = []
    real = webhooks.socket.getaddrinfo

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", counting)
    webhooks.register_webhook(company, receiver.url.replace("127.0.0.1", "localhost"), ["file.status_changed"])
    db.session.commit()
    withdraw(make_file(establishment=company.establishment), company)
    assert webhooks.deliver_pending()["delivered"] == 1
    assert calls.count("localhost") == 1  # resolved once, at delivery; the connection used that answer
    assert receiver.requests[0]["headers"]["Host"].startswith("localhost:")


def test_a_redirect_is_not_followed(app, company, receiver):
    webhooks.register_webhook(company, receiver.url, ["file.status_changed"])
    db.session.commit()
    withdraw(make_file(establishment=company.establishment), company)
    receiver.answers = [302]
    assert webhooks.deliver_pending()["retry"] == 1
    assert len(receiver.requests) == 1
    assert db.session.scalar(select(WebhookDelivery.last_error)) == "réponse HTTP 302"


def test_outbox_send_delivers_the_webhook_calls(app, company, receiver, runner):
    webhooks.register_webhook(company, receiver.url, ["file.status_changed"])
    db.session.commit()
    withdraw(make_file(establishment=company.establishment), company)
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "Webhooks : 1 appel livré" in result.output and len(receiver.requests) == 1


def test_a_receiver_slower_than_the_timeout_is_a_failure_retried(app, company, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    webhooks.register_webhook(company, receiver.url, ["file.status_changed"])
    db.session.commit()
    withdraw(make_file(establishment=company.establishment), company)
    receiver.delay = 1.5
    started = time.monotonic()
    assert webhooks.deliver_pending()["retry"] == 1
    assert time.monotonic() - started < 1.5
    delivery = db.session.scalar(select(WebhookDelivery))
    assert "timed out" in delivery.last_error and delivery.last_status_code is None


def test_private_addresses_are_refused_by_default_in_production(monkeypatch, tmp_path):
    from app.config import load_config

    monkeypatch.delenv("WEBHOOK_ALLOW_PRIVATE", raising=False)
    assert load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x"})["WEBHOOK_ALLOW_PRIVATE"] is False
    assert load_config(str(tmp_path), {"APP_ENV": "development"})["WEBHOOK_ALLOW_PRIVATE"] is True
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
    assert load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x"})["WEBHOOK_ALLOW_PRIVATE"] is True


def test_a_receiver_dripping_its_answer_is_cut_at_the_total_timeout(app, company, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    webhooks.register_webhook(company, receiver.url, ["file.status_changed"])
    db.session.commit()
    withdraw(make_file(establishment=company.establishment), company)
    receiver.drip = True
    started = time.monotonic()
    assert webhooks.deliver_pending()["retry"] == 1
    assert time.monotonic() - started < 2.5  # 3 × 0.3 s, never the 4 s the server would take
    assert "pas de réponse complète en 0.9 s" in db.session.scalar(select(WebhookDelivery.last_error))
