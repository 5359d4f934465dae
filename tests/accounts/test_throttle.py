"""Login throttling without lockout (issue 17, app/accounts/throttle.py): per (account, address) pair, per
address with a higher bound, a doubling delay for the account that only the failing addresses wait, the
right password from a new address accepted; behind a trusted proxy, the client's address is counted.

The lockout scenario runs over real sockets: the app served by werkzeug on 127.0.0.1, the attacker
connecting from 127.0.0.2 and the user from 127.0.0.3 (Linux routes all of 127/8 to loopback)."""

from __future__ import annotations

import threading

import pytest
import requests
from requests.adapters import HTTPAdapter
from werkzeug.serving import make_server

from app import create_app
from app.core import apart
from app.extensions import db
from tests.conftest import CSRF_RE, submit_form
from tests.factories import PASSWORD, make_user

ATTACKER, USER = "127.0.0.2", "127.0.0.3"


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a chosen local address (urllib3's source_address)."""

    def __init__(self, address: str, **kwargs):
        self.source = (address, 0)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = self.source
        super().init_poolmanager(*args, **kwargs)


def browser_from(address: str) -> requests.Session:
    session = requests.Session()
    adapter = SourceAddressAdapter(address)
    session.mount("http://", adapter)
    return session


@pytest.fixture
def served(app):
    """The tests' app on a free port of 127.0.0.1, threaded, for the time of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def attempt(browser: requests.Session, base: str, email: str, password: str) -> requests.Response:
    page = browser.get(f"{base}/connexion", timeout=30)
    token = CSRF_RE.search(page.text).group(1)
    return browser.post(f"{base}/connexion", data={"email": email, "password": password, "csrf_token": token},
                        allow_redirects=False, timeout=30)


def test_an_attacker_hammering_an_account_does_not_lock_its_user_out(app, app_ctx, served):
    user = make_user("entreprise")
    attacker, victim = browser_from(ATTACKER), browser_from(USER)
    answers = [attempt(attacker, served, user.email, f"essai-{n}").status_code for n in range(25)]
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    print(f"\nattaquant {ATTACKER} : {answers.count(422)} essais vérifiés, {answers.count(429)} refusés (429)")
    assert answers[:limit] == [422] * limit and set(answers[limit:]) == {429}
    refused = attempt(attacker, served, user.email, PASSWORD)  # even the right password, from there
    assert refused.status_code == 429 and "Trop de tentatives" in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    welcome = attempt(victim, served, user.email, PASSWORD)
    assert welcome.status_code == 302 and welcome.headers["Location"].endswith("/accueil")
    assert victim.get(f"{served}/mon-compte", allow_redirects=False, timeout=30).status_code == 200


def test_the_account_delay_doubles_and_only_the_failing_addresses_wait(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DELAY_AFTER", 2)
    monkeypatch.setitem(app.config, "LOGIN_DELAY_MAX_SECONDS", 600)
    user = make_user("entreprise")

    def post(address: str, password: str = "faux"):
        return submit_form(app.test_client(), "/connexion", {"email": user.email, "password": password},
                           environ_base={"REMOTE_ADDR": address})

    for _ in range(3):  # three failures from one address: its free failures are spent
        assert post("10.9.0.1").status_code == 422
    assert post("10.9.0.2").status_code == 422  # 4th failure of the account: a delay of 2 s
    delayed = post("10.9.0.1", PASSWORD)  # the address that failed 3 times waits, right password or not
    assert delayed.status_code == 429 and 1 <= int(delayed.headers["Retry-After"]) <= 2
    assert "réessayez dans" in delayed.get_data(as_text=True)
    assert post("10.9.0.2").status_code == 422  # one failure there: not delayed, still checked
    assert post("10.9.0.3", PASSWORD).status_code == 302  # a new address: the right password is accepted


def test_a_success_forgets_the_addresses_typos(app, app_ctx, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_DELAY_AFTER", 100)  # the pair's count alone
    user = make_user("entreprise")
    for _ in range(9):
        assert submit_form(client, "/connexion", {"email": user.email, "password": "faux"}).status_code == 422
    assert submit_form(client, "/connexion", {"email": user.email, "password": PASSWORD}).status_code == 302
    other = app.test_client()
    for _ in range(9):  # the pair's count starts again
        assert submit_form(other, "/connexion", {"email": user.email, "password": "faux"}).status_code == 422


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_counted(app, app_ctx):
    """TRUSTED_PROXIES=1: ProxyFix takes the client's address from X-Forwarded-For, so two users behind the
    balancer are two addresses, not one."""
    behind = create_app({**{k: app.config[k] for k in (
        "APP_ENV", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "MAIL_SERVER", "MAIL_PORT",
        "MAIL_DEV_MAILBOX", "BASE_URL", "REDIS_URL")}, "RATELIMIT_STORAGE_URI": "memory://", "TRUSTED_PROXIES": 1})
    user = make_user("entreprise")

    def post(client, forwarded: str, password: str):
        return submit_form(client, "/connexion", {"email": user.email, "password": password},
                           headers={"X-Forwarded-For": forwarded})

    try:
        attacker = behind.test_client()
        for _ in range(10):
            assert post(attacker, "203.0.113.7", "faux").status_code == 422
        assert post(attacker, "203.0.113.7", PASSWORD).status_code == 429
        # Same proxy (REMOTE_ADDR 127.0.0.1 for both), another client behind it: accepted.
        assert post(behind.test_client(), "198.51.100.20", PASSWORD).status_code == 302
    finally:  # this second app's pools (its own engine, and the writes apart on PostgreSQL) closed, not collected
        with behind.app_context():
            apart.engine().dispose()
            db.engine.dispose()
