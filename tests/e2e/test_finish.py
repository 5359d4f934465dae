"""The finish every page shares: login errors in French tied to their fields, keyboard navigation,
confirmation before irreversible actions, progress indicator on long operations, error pages,
a phone-width layout without horizontal scrolling. Each page is checked with axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, PHONE, SECRETARIAT_EMAIL

INJECTED_FORM = """([attr, message, action, method]) => {
  const form = document.createElement("form");
  form.method = method || "get";
  form.action = action;
  form.setAttribute(attr, message);
  form.innerHTML = '<input type="hidden" name="envoye" value="1"><button type="submit">Action de test</button>';
  document.querySelector("main").append(form);
}"""


def test_login_refuses_an_empty_form_and_a_wrong_password_in_french(open_browser):
    ui = open_browser("Visiteur")
    page = ui.page
    ui.goto("/connexion")
    ui.step("connexion", phone=True)

    page.get_by_role("button", name="Se connecter").click()
    email = page.get_by_label("Adresse email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-erreur")).to_have_text("Saisissez votre adresse email.")
    # The message is tied to its field, so a screen reader reads it with the field.
    expect(email).to_have_attribute("aria-describedby", "email-erreur")
    expect(email).to_be_focused()
    ui.step("connexion champs vides")

    email.fill(SECRETARIAT_EMAIL)
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Adresse email ou mot de passe incorrect.")
    expect(page.get_by_label("Adresse email")).to_have_value(SECRETARIAT_EMAIL)
    ui.step("connexion mot de passe faux")


def test_keyboard_reaches_the_content_through_the_skip_link(open_browser):
    ui = open_browser("Secrétariat")
    ui.login(SECRETARIAT_EMAIL, PASSWORD)
    page = ui.page
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    ui.shot("lien d'évitement visible au clavier")
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()
    ui.step("tableau de bord secrétariat", phone=True)


def test_irreversible_action_asks_for_confirmation_and_cancel_sends_nothing(open_browser):
    ui = open_browser("Visiteur")
    page = ui.page
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "envoye=1" in request.url else None)
    ui.goto("/connexion")
    page.evaluate(INJECTED_FORM, ["data-confirm", "Retirer définitivement ce dossier ?", "/connexion"])

    ui.confirm_answer = False
    page.get_by_role("button", name="Action de test").click()
    assert ui.problems.dialogs == ["Retirer définitivement ce dossier ?"]
    expect(page.get_by_role("button", name="Action de test")).to_be_enabled()

    ui.confirm_answer = True
    page.get_by_role("button", name="Action de test").click()
    expect(page).to_have_url(re.compile(r"envoye=1"))
    assert ui.problems.dialogs == ["Retirer définitivement ce dossier ?"] * 2
    # Had the cancelled click sent the form, the server would have been asked twice.
    assert len(sent) == 1, sent


def test_long_operation_shows_a_progress_message_while_the_server_works(open_browser):
    ui = open_browser("Visiteur")
    page = ui.page
    ui.goto("/connexion")
    # The batch answers with a PDF to download, as batch printing does: the page stays in place.
    page.route("**/impression-lente**", lambda route: route.fulfill(
        status=200, body=b"%PDF-1.4\n%%EOF\n",
        headers={"Content-Type": "application/pdf", "Content-Disposition": 'attachment; filename="lot.pdf"'}))
    page.evaluate(INJECTED_FORM, ["data-busy", "Impression des parchemins en cours…", "/impression-lente", "post"])
    with page.expect_download() as download:
        page.get_by_role("button", name="Action de test").click()
    assert download.value.suggested_filename == "lot.pdf"
    busy = page.get_by_role("status").filter(has_text="Impression des parchemins en cours…")
    expect(busy).to_be_visible()
    # A second click would start the batch again: the button waits.
    expect(page.get_by_role("button", name="Action de test")).to_be_disabled()
    ui.shot("indicateur de progression")


def test_error_page_is_in_french_and_leads_back_home(open_browser):
    ui = open_browser("Visiteur")
    page = ui.page
    response = page.goto("/cette-page-n-existe-pas")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    expect(page.get_by_role("link", name="Revenir à l'accueil")).to_be_visible()
    ui.step("page introuvable", phone=True)


def test_phone_width_has_no_horizontal_scrolling(open_browser):
    ui = open_browser("Secrétariat")
    ui.login(SECRETARIAT_EMAIL, PASSWORD)
    page = ui.page
    page.set_viewport_size(PHONE)
    for path in ("/secretariat", "/referentiel/cqp", "/referentiel/evaluateurs", "/secretariat/utilisateurs"):
        ui.goto(path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} défile horizontalement de {overflow}px sur un téléphone"
        # Lists become one card per row: every cell is labelled and nothing is hidden sideways.
        lists = page.evaluate("""() => Array.from(document.querySelectorAll("table.stack")).map((t) => ({
            labelled: t.classList.contains("labelled"),
            unlabelled: Array.from(t.querySelectorAll("tbody td")).filter((td) => td.dataset.label === undefined).length,
            hidden: t.parentElement.scrollWidth - t.parentElement.clientWidth,
        }))""")
        for table in lists:
            assert table["labelled"] and table["unlabelled"] == 0, f"{path} : liste sans libellés sur un téléphone"
            assert table["hidden"] <= 1, f"{path} : une liste dépasse de {table['hidden']}px sur un téléphone"
        ui.step(f"téléphone {path}")


def test_a_person_using_only_the_keyboard_can_log_in_and_reach_the_navigation(open_browser):
    ui = open_browser("Secrétariat")
    page = ui.page
    ui.goto("/connexion")
    keyboard = page.keyboard
    keyboard.press("Tab")  # skip link
    keyboard.press("Tab")  # brand
    keyboard.press("Tab")
    expect(page.get_by_label("Adresse email")).to_be_focused()
    keyboard.type(SECRETARIAT_EMAIL)
    keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    keyboard.type(PASSWORD)
    keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Bienvenue")
    # The navigation is reached in order, and the focused link is visibly outlined.
    keyboard.press("Tab")
    keyboard.press("Tab")
    keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused in ("Se déconnecter", "Tableau de bord"), focused
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "le lien qui a le focus n'est pas entouré"
    ui.shot("navigation au clavier")
