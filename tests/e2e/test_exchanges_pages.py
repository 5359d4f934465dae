"""The exchanges on a file in Chromium (issue 13): the secretariat asks a correction, the company reads the banner
« Correction demandée », is refused the confirmation (409 naming the request), answers; the thread with an
attachment, read by the assessor; 120 days later the company's banner « abandonner / relancer ». Each page is
screenshotted and checked with axe-core."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import set_today

TODAY = date(2027, 5, 3)
COMPANY_EMAIL = "rh@chimie-echanges.fr"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def test_correction_request_thread_and_stalled_banner(open_browser, live_server, in_app, tmp_path):
    set_today(TODAY.isoformat())
    with in_app():
        from app.accounts.models import Role
        from tests import factories

        establishment = factories.make_establishment("Chimie des Échanges")
        factories.make_user(Role.ENTREPRISE, email=COMPANY_EMAIL, establishment=establishment,
                            first_name="Hélène", last_name="Rh")
        assessor = factories.make_assessor(email="eva.luatrice@exemple.fr")
        file = factories.make_file(establishment=establishment, assessor=assessor,
                                   interview_date=TODAY + timedelta(days=10))
        file_id = file.id
    page_path = f"/dossiers/{file_id}"

    secretariat = open_browser("Secrétariat")
    secretariat.login("secretariat@cqp-branche.fr", "Secretariat-e2e-2027!")
    secretariat.goto(page_path)
    secretariat.page.get_by_label("Ce que l'entreprise doit corriger").fill(
        "Le diplôme déposé est illisible : merci de le scanner à nouveau.")
    secretariat.page.get_by_label("Diplôme", exact=True).check()
    secretariat.page.get_by_role("button", name="Demander une correction").click()
    expect(secretariat.page.locator(".flash-success")).to_contain_text("La demande de correction est envoyée")
    expect(secretariat.page.locator("#correction")).to_contain_text("attend la réponse de l'entreprise")
    secretariat.step("demande de correction envoyee")

    company = open_browser("Entreprise")
    company.login(COMPANY_EMAIL, "mot-de-passe-de-test-42")
    company.goto(page_path)
    banner = company.page.locator("#correction")
    expect(banner).to_contain_text("Correction demandée")
    expect(banner).to_contain_text("Le diplôme déposé est illisible")
    company.step("bandeau correction demandee", phone=True)
    company.page.get_by_role("button", name="Confirmer l'évaluateur").click()
    expect(company.page.get_by_text("attend la réponse de l'entreprise").first).to_be_visible()
    company.step("confirmation refusee tant que la demande est ouverte")
    company.goto(page_path)
    company.page.get_by_label("Votre réponse (ce qui a été corrigé)").fill("Diplôme scanné à nouveau, en couleur.")
    company.page.get_by_role("button", name="Répondre et lever la demande").click()
    expect(company.page.locator(".flash-success")).to_contain_text("le dossier peut de nouveau avancer")
    expect(company.page.locator("#correction")).to_have_count(0)

    scan = tmp_path / "diplome-rescanne.pdf"
    scan.write_bytes(PDF)
    company.page.get_by_label("Votre message").fill("Voici le diplôme rescanné, en pièce jointe.")
    company.page.get_by_label("Pièce jointe facultative").set_input_files(str(scan))
    company.page.get_by_role("button", name="Envoyer le message").click()
    expect(company.page.locator(".flash-success")).to_contain_text("Votre message est envoyé")
    expect(company.page.locator("#echanges")).to_contain_text("diplome-rescanne.pdf")
    company.step("fil d'echanges avec piece jointe", phone=True)
    live_server.wait_for_email("eva.luatrice@exemple.fr", "nouveau message")

    assessor_ui = open_browser("Évaluatrice")
    assessor_ui.login("eva.luatrice@exemple.fr", "mot-de-passe-de-test-42")
    assessor_ui.goto(page_path)
    expect(assessor_ui.page.locator("#echanges")).to_contain_text("Voici le diplôme rescanné")
    with assessor_ui.page.expect_download() as download:
        assessor_ui.page.get_by_role("link", name="diplome-rescanne.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF
    assessor_ui.page.get_by_label("Votre message").fill("Bien reçu, merci. L'entretien est maintenu.")
    assessor_ui.page.get_by_role("button", name="Envoyer le message").click()
    expect(assessor_ui.page.locator("#echanges")).to_contain_text("L'entretien est maintenu")
    assessor_ui.step("fil vu par l'evaluatrice")

    set_today((TODAY + timedelta(days=121)).isoformat())
    company.goto(page_path)
    stalled = company.page.locator("#sans-activite")
    expect(stalled).to_contain_text("Dossier sans activité depuis 121 jours")
    expect(stalled.get_by_role("button", name="Relancer le dossier")).to_be_visible()
    expect(stalled.get_by_role("button", name="Abandonner le dossier")).to_be_visible()
    company.step("bandeau abandonner ou relancer", phone=True)
    stalled.get_by_role("button", name="Relancer le dossier").click()
    expect(company.page.locator(".flash-success")).to_contain_text("Le dossier est relancé")
    expect(company.page.locator("#sans-activite")).to_have_count(0)
    company.step("dossier relance")
