"""Browser journeys: the app served on a free loopback port (werkzeug, threaded) with its own fresh
SQLite database and the real SMTP server of tests/conftest.py, driven by Playwright in Debian's
headless Chromium (/usr/bin/chromium; nothing downloads a browser).

Every test of this folder is marked `e2e` (PostgreSQL runs exclude them: the live server has its
own SQLite database). Without /usr/bin/chromium they are skipped with the reason; CI installs it."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import Mailbox

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SECRETARIAT_EMAIL = "secretariat@cqp-branche.fr"
PASSWORD = "Secretariat-e2e-2027!"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
EXPECT_TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    """Marks every test of tests/e2e as e2e; skips them all, with the reason, without Chromium."""
    no_browser = None
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            raise pytest.UsageError(f"REQUIRE_BROWSER=1 mais Chromium est absent ({CHROMIUM}).")
        no_browser = pytest.mark.skip(
            reason=f"Chromium absent ({CHROMIUM}) : installez le paquet Debian « chromium » pour les parcours navigateur."
        )
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            # The browser drops connections it no longer needs (a navigation cancels a pending
            # download of app.js, say): the dev server's open file is then closed by the garbage
            # collector, a warning about the harness, not about the app.
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"))
            if no_browser is not None:
                item.add_marker(no_browser)


# ------------------------------------------------------------------ the live app


@dataclass
class LiveServer:
    url: str
    app: object
    mailbox: Mailbox
    upload_dir: Path

    def wait_for_email(self, address: str, subject_contains: str = "", timeout: float = 10.0):
        """The newest email to `address` whose subject contains the text. Emails are sent right after
        the request's commit, so they are normally there already; the loop only absorbs SMTP lag."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.mailbox.to(address) if subject_contains.lower() in str(m["Subject"]).lower()]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                received = [(m["To"], str(m["Subject"])) for m in self.mailbox.messages]
                raise AssertionError(f"aucun email « {subject_contains} » pour {address} ; reçus : {received}")
            time.sleep(0.05)

    def link_in(self, message, contains: str = "") -> str:
        links = [link for link in self.mailbox.links_in(message) if contains in link]
        assert links, f"aucun lien contenant « {contains} » dans l'email : {self.mailbox.text_of(message)[:800]}"
        return links[0]

    def path_of(self, link: str) -> str:
        assert link.startswith(self.url), f"le lien {link} ne pointe pas vers {self.url} (BASE_URL)"
        return link[len(self.url):]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, smtp_server) -> Iterator[LiveServer]:
    from flask_migrate import upgrade

    from app import create_app
    from app.accounts import services as accounts
    from app.extensions import db
    from app.referential.services import load_referential

    mailbox, smtp_port = smtp_server
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("e2e")
    upload_dir = folder / "uploads"
    application = create_app({
        "APP_ENV": "testing",
        "SECRET_KEY": "e2e-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.sqlite3'}",
        # Threads of the server and of the test share the file: wait for a lock instead of failing.
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}},
        "UPLOAD_DIR": str(upload_dir),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_DEV_MAILBOX": False,
        "BASE_URL": url,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Every role logs in from 127.0.0.1 during one journey: the per-address limit must not bite.
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "REDIS_URL": None,
        "SERVER_NAME": None,
    })
    with application.app_context():
        upgrade(directory=str(application.extensions["migrate"].directory))
        load_referential()
        # The one account that exists before anyone uses the platform (created by `flask users create`).
        accounts.create_user(SECRETARIAT_EMAIL, "secretariat", password=PASSWORD, first_name="Sophie",
                             last_name="Secrétariat")
        db.session.commit()
        db.session.remove()

    server = make_server("127.0.0.1", port, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    saved_today = os.environ.get("APP_TODAY")
    try:
        yield LiveServer(url=url, app=application, mailbox=mailbox, upload_dir=upload_dir)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        if saved_today is None:
            os.environ.pop("APP_TODAY", None)
        else:
            os.environ["APP_TODAY"] = saved_today
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def in_app(live_server):
    """`with in_app():` an app context on the live app, to create what no page creates (committed)."""
    from contextlib import contextmanager

    from app.extensions import db

    @contextmanager
    def context():
        with live_server.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()

    return context


def set_today(value: str) -> None:
    """Moves the app's clock (read by app.core.clock at each call), shared by the server thread."""
    os.environ["APP_TODAY"] = value


# ------------------------------------------------------------------ the browser


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@dataclass
class PageProblems:
    """What the page reported on its own: JS errors, CSP refusals, failed requests (4xx/5xx aside)."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:80]


class Ui:
    """One person in front of one browser: a page, its screenshots and its accessibility checks.

    `ui.step("name")` saves a screenshot of the whole page (desktop, then phone width when
    `phone=True`) and runs axe-core on it; screenshots are numbered in the order of the story."""

    counter = 0

    def __init__(self, browser, live: LiveServer, folder: Path, who: str):
        self.live = live
        self.folder = folder
        self.who = who
        self.problems = PageProblems()
        self.context = browser.new_context(base_url=live.url, viewport=DESKTOP, locale="fr-FR",
                                           timezone_id="Europe/Paris", accept_downloads=True)
        self.context.set_default_timeout(EXPECT_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.problems.errors.append(f"erreur JS : {exc}"))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)
        self.confirm_answer = True

    def _console(self, message) -> None:
        if message.type == "error" and "status of 4" not in message.text:
            # 4xx answers are the app's deliberate refusals (422 form errors): not a page problem.
            self.problems.errors.append(f"console : {message.text}")

    def _dialog(self, dialog) -> None:
        self.problems.dialogs.append(dialog.message)
        if self.confirm_answer:
            dialog.accept()
        else:
            dialog.dismiss()

    def goto(self, path: str):
        response = self.page.goto(path)
        assert response is not None and response.status < 400, f"{path} → {response and response.status}"
        return response

    def shot(self, name: str, *, phone: bool = False) -> Path:
        Ui.counter += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{Ui.counter:03d}-{_slug(self.who)}-{_slug(name)}.png"
        self.page.screenshot(path=str(target), full_page=True)
        if phone:
            size = self.page.viewport_size
            self.page.set_viewport_size(PHONE)
            self.page.screenshot(path=str(target.with_name(target.stem + "-mobile.png")), full_page=True)
            overflow = self.page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            wide = self.page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .slice(0, 1).map(e => { let out = []; for (let p = e; p; p = p.parentElement) out.push(p.tagName + '.' + p.className + ':' + getComputedStyle(p).overflowX + ':' + Math.round(p.getBoundingClientRect().width)); return out.join(' < '); })""") if overflow > 0 else []
            self.page.set_viewport_size(size)
            # Wide tables scroll inside their .table-wrap; the page itself never scrolls sideways.
            assert overflow <= 0, f"« {name} » défile horizontalement de {overflow}px sur un téléphone ({self.page.url}) : {wide}"
        return target

    def step(self, name: str, *, phone: bool = False, a11y: bool = True) -> None:
        self.shot(name, phone=phone)
        if a11y:
            check_a11y(self.page, f"{self.who} · {name}")

    def login(self, email: str, password: str) -> None:
        from playwright.sync_api import expect

        self.goto("/connexion")
        self.page.get_by_label("Adresse email").fill(email)
        self.page.get_by_label("Mot de passe").fill(password)
        self.page.get_by_role("button", name="Se connecter").click()
        expect(self.page.locator(".flash-success")).to_contain_text("Bienvenue")

    def logout(self) -> None:
        from playwright.sync_api import expect

        self.page.get_by_role("button", name="Se déconnecter").click()
        expect(self.page.locator(".flash-success")).to_contain_text("Vous êtes déconnecté")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def screenshot_folder(request) -> Path:
    """One folder per test module, emptied at the start so that it shows the last run only."""
    folder = SCREENSHOTS / _slug(request.module.__name__.rsplit(".", 1)[-1])
    shutil.rmtree(folder, ignore_errors=True)
    Ui.counter = 0
    return folder


@pytest.fixture
def open_browser(browser, live_server, screenshot_folder):
    """open_browser("Entreprise") → a Ui with its own cookies (one per person of the story).
    At the end, any JS error or CSP refusal the pages reported fails the test."""
    opened: list[Ui] = []
    folder = screenshot_folder

    def make(who: str) -> Ui:
        ui = Ui(browser, live_server, folder, who)
        opened.append(ui)
        return ui

    yield make
    problems = [f"{ui.who} : {p}" for ui in opened for p in ui.problems.errors]
    for ui in opened:
        ui.close()
    assert not problems, "La page a signalé des erreurs :\n" + "\n".join(problems)


# ------------------------------------------------------------------ accessibility


BLOCKING_IMPACTS = ("minor", "moderate", "serious", "critical")  # every impact: the issue asks for 0 violations


def check_a11y(page, name: str) -> None:
    """Runs axe-core (WCAG 2.0/2.1 A and AA rules, best practices) on the page and fails on any
    violation, whatever its impact, listing rule, impact, help and the offending elements."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if not blocking:
        return
    lines = [f"Accessibilité — « {name} » ({page.url}) : {len(blocking)} violation{'s' if len(blocking) > 1 else ''}"]
    for violation in blocking:
        lines.append(f"- [{violation['impact']}] {violation['id']} : {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:8]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    · {target} → {summary[:300]}")
    raise AssertionError("\n".join(lines))
