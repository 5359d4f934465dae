"""Issue 2's journey, as people live it: a company asks for an account, the secretariat approves it, the
email really goes over SMTP, the company sets its password from the emailed link, logs in and lands on
its home page."""

from __future__ import annotations

from tests.accounts.conftest import page_text
from tests.conftest import login, submit_form
from tests.factories import make_user


def test_account_request_to_company_home(app, app_ctx, mailbox):
    make_user("secretariat", email="secretariat@branche.fr", first_name="Sophie")

    # 1. The company, from the login page, asks for an account.
    company = app.test_client()
    login_page = page_text(company.get("/connexion"))
    assert 'href="/demande-de-compte"' in login_page
    sent = submit_form(company, "/demande-de-compte", {
        "siret": "732 829 320 00074", "establishment_name": "Chimie Démo SAS", "address": "12 rue des Alambics",
        "postcode": "69007", "city": "Lyon", "contact_first_name": "Claire", "contact_last_name": "Dubois",
        "email": "claire.dubois@chimie-demo.fr", "phone": "04 72 00 00 00",
    })
    assert sent.status_code == 302
    assert mailbox.last_to("claire.dubois@chimie-demo.fr")["Subject"].startswith("Votre demande de compte")

    # 2. The secretariat gets an email, follows its link and approves.
    notice = mailbox.last_to("secretariat@branche.fr")
    request_link = next(link for link in mailbox.links_in(notice) if "/demandes-de-compte/" in link)
    request_path = request_link.replace("http://certifia.test", "")
    secretariat = app.test_client()
    assert login(secretariat, "secretariat@branche.fr", "mot-de-passe-de-test-42").status_code == 302
    listing = page_text(secretariat.get("/secretariat/demandes-de-compte"))
    assert "Chimie Démo SAS" in listing and "En attente" in listing
    detail = page_text(secretariat.get(request_path))
    assert "73282932000074" in detail and "Claire Dubois" in detail
    approved = submit_form(secretariat, f"{request_path}/approuver", {}, form_url=request_path)
    assert approved.status_code == 302
    assert "Approuvée" in page_text(secretariat.get("/secretariat/demandes-de-compte"))

    # 3. The company receives the link over SMTP and chooses its password.
    welcome = mailbox.last_to("claire.dubois@chimie-demo.fr")
    assert "Votre compte Certifia est ouvert" in welcome["Subject"]
    link = next(link for link in mailbox.links_in(welcome) if "/mot-de-passe/" in link)
    assert link.startswith("http://certifia.test/mot-de-passe/")
    path = link.replace("http://certifia.test", "")
    browser = app.test_client()
    assert "claire.dubois@chimie-demo.fr" in page_text(browser.get(path))
    chosen = submit_form(browser, path, {"password": "alambics et cornues 2027", "confirm": "alambics et cornues 2027"})
    assert chosen.status_code == 302
    home = browser.get(chosen.headers["Location"], follow_redirects=True)
    assert home.status_code == 200 and home.request.path == "/entreprise"
    browser.post("/deconnexion", data={"csrf_token": ""})

    # 4. Later, a normal login lands on the company home; the link does not work twice.
    later = app.test_client()
    logged = login(later, "Claire.Dubois@chimie-demo.fr", "alambics et cornues 2027")
    assert logged.status_code == 302
    home = later.get("/accueil", follow_redirects=True)
    assert home.request.path == "/entreprise" and "Claire" in page_text(home)
    assert app.test_client().get(path).status_code == 410
