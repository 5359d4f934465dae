"""The commune picker (templates/macros/geo.html, static/js/geo.js) in a real browser, on a page of its own that
exists only in this test: typing a name or a postcode offers the places, choosing one fills the name and the
INSEE code; changing the name afterwards empties the code; keyboard only; axe-core finds nothing."""

from __future__ import annotations

import threading

import pytest
from flask import Blueprint, render_template_string
from werkzeug.serving import make_server
from wtforms import StringField

from tests.e2e.conftest import EXPECT_TIMEOUT_MS, SCREENSHOTS, _free_port, check_a11y

PAGE = """{% extends "base.html" %}{% from "macros/geo.html" import commune_field %}
{% block title %}Essai du choix de commune{% endblock %}
{% block content %}<h1>Essai du choix de commune</h1>
<form method="post" novalidate>{{ form.csrf_token }}
{% if with_country %}{{ commune_field(form.birth_place_code, form.birth_place, form.birth_country) }}
<div class="field">{{ form.birth_country.label }} {{ form.birth_country() }}</div>
{% else %}{{ commune_field(form.birth_place_code, form.birth_place) }}{% endif %}
<button type="submit" class="btn">Envoyer</button></form>{% endblock %}"""
EMAIL, PASSWORD = "picker@cqp-branche.fr", "Picker-e2e-2027!"


@pytest.fixture(scope="module")
def picker_server(tmp_path_factory, smtp_server):
    from app import create_app
    from app.accounts import services as accounts
    from app.core.forms import BaseForm
    from app.core.permissions import login_required
    from app.extensions import db

    class PlaceForm(BaseForm):
        birth_place = StringField("Commune de naissance")
        birth_place_code = StringField("Code INSEE du lieu de naissance")
        birth_country = StringField("Pays de naissance")

    folder = tmp_path_factory.mktemp("geo-picker")
    port = _free_port()
    application = create_app({
        "APP_ENV": "testing", "SECRET_KEY": "geo-picker-secret", "BASE_URL": f"http://127.0.0.1:{port}",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'picker.sqlite3'}", "UPLOAD_DIR": str(folder / "uploads"),
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server[1], "MAIL_DEV_MAILBOX": False,
        "RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": None, "SERVER_NAME": None,
    })
    test_pages = Blueprint("geo_picker_test", __name__)

    @test_pages.route("/essai-lieux", methods=["GET", "POST"])
    @login_required
    def picker_page():
        return render_template_string(PAGE, form=PlaceForm(), with_country=False)

    @test_pages.route("/essai-lieux-pays", methods=["GET", "POST"])
    @login_required
    def picker_page_with_country():
        return render_template_string(PAGE, form=PlaceForm(), with_country=True)

    application.register_blueprint(test_pages)
    with application.app_context():
        db.create_all()
        accounts.create_user(EMAIL, "entreprise", password=PASSWORD, first_name="Paul", last_name="Picker",
                             establishment=accounts.create_establishment("73282932000074", "Chimie Picker"))
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", port, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def test_choosing_a_commune_fills_its_code(browser, picker_server):
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    context = browser.new_context(base_url=picker_server, viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and not (message.location or {}).get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    folder = SCREENSHOTS / "test_geo_picker"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        page.goto("/connexion")
        page.get_by_label("Adresse email").fill(EMAIL)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.locator(".flash-success")).to_contain_text("Bienvenue")
        page.goto("/essai-lieux")

        name = page.get_by_label("Commune de naissance")
        code = page.get_by_label("Code INSEE du lieu de naissance")
        options = page.locator("datalist option")
        # Keyboard only: the name field is reached by Tab, typed into, a suggestion chosen.
        name.focus()
        page.keyboard.type("paris 1", delay=30)
        expect(options.first).to_have_attribute("value", "Paris 1er Arrondissement (75) – 75101")
        expect(page.locator("[data-geo-status]")).to_have_text("10 suggestions.")
        page.screenshot(path=str(folder / "1-suggestions.png"), full_page=True)
        check_a11y(page, "choix de commune · suggestions")
        from axe_playwright_python.sync_playwright import Axe

        violations = Axe().run(page, options={"resultTypes": ["violations"]}).response["violations"]
        assert not violations, [(v["id"], v["impact"]) for v in violations]  # none of any impact
        # Choosing a suggestion puts its text in the field, as the browser does: the picker splits it.
        name.fill("Paris 12e Arrondissement (75) – 75112")
        expect(name).to_have_value("Paris 12e Arrondissement")
        expect(code).to_have_value("75112")
        expect(page.locator("[data-geo-status]")).to_have_text("Paris 12e Arrondissement choisi, code 75112.")
        page.screenshot(path=str(folder / "2-chosen.png"), full_page=True)
        # The name changed by hand no longer says the chosen commune: its code is emptied.
        name.press("End")
        page.keyboard.type("x")
        expect(code).to_have_value("")

        # By postcode, and a country for a birth abroad.
        name.fill("")
        page.keyboard.type("42100", delay=30)
        expect(options.first).to_have_attribute("value", "Saint-Étienne (42) – 42218")
        name.fill("")
        page.keyboard.type("Allemagne", delay=30)
        expect(options.first).to_have_attribute("value", "Allemagne (pays) – 99109")
        name.fill("Allemagne (pays) – 99109")
        expect(code).to_have_value("99109")
        expect(name).to_have_value("Allemagne")  # without a country field, the country is the place's name
        assert not errors, errors
    finally:
        context.close()


def test_with_a_country_field_a_birth_abroad_keeps_the_name_for_the_city(browser, picker_server):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=picker_server)
    page = context.new_page()
    try:
        page.goto("/connexion")
        page.get_by_label("Adresse email").fill(EMAIL)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.goto("/essai-lieux-pays")
        name = page.get_by_label("Commune de naissance")
        code = page.get_by_label("Code INSEE du lieu de naissance")
        country = page.get_by_label("Pays de naissance")
        name.focus()
        page.keyboard.type("Allemagne", delay=30)
        expect(page.locator("datalist option").first).to_have_attribute("value", "Allemagne (pays) – 99109")
        name.fill("Allemagne (pays) – 99109")
        expect(code).to_have_value("99109")
        expect(country).to_have_value("Allemagne")
        expect(name).to_have_value("")
        expect(page.locator("[data-geo-status]")).to_contain_text("écrivez la ville de naissance")
        page.keyboard.type("Berlin", delay=30)
        expect(name).to_have_value("Berlin")
        expect(code).to_have_value("99109")  # the city typed keeps the country's code
        page.screenshot(path=str(SCREENSHOTS / "test_geo_picker" / "3-abroad.png"), full_page=True)
        # A commune chosen afterwards: born in France, the country field is emptied.
        name.fill("")
        page.keyboard.type("42100", delay=30)
        expect(page.locator("datalist option").first).to_have_attribute("value", "Saint-Étienne (42) – 42218")
        name.fill("Saint-Étienne (42) – 42218")
        expect(code).to_have_value("42218")
        expect(country).to_have_value("")
    finally:
        context.close()


def test_without_javascript_both_fields_are_typed(browser, picker_server):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=picker_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/connexion")
        page.get_by_label("Adresse email").fill(EMAIL)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.goto("/essai-lieux")
        page.get_by_label("Commune de naissance").fill("Paris 12e Arrondissement")
        page.get_by_label("Code INSEE du lieu de naissance").fill("75112")
        expect(page.get_by_label("Code INSEE du lieu de naissance")).to_have_value("75112")
        expect(page.locator("datalist option")).to_have_count(0)
    finally:
        context.close()
