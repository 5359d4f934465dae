"""R13 in a real browser: a candidate partially validated at one jury completes the CQP at the next.

1. Before: at the jury of 17 June 2027 (Lyon), Léa Martin validated C1–C3 of FAB-OPF (published), what the
   secretariat did through the app's services.
2. The company opens the candidate's page (the path: what was validated, what remains, until when), creates the
   new file: the form shows C1–C3 as acquired (jury date, until when) and offers C4–C7 only; a save without any
   competence is refused in French.
3. The file goes to the jury of 16 March 2028 (its evaluation done through the services); the secretariat's
   decision screen shows the acquired competences and decides C4–C7 « Validée »: the file is « Validé »; the
   secretariat publishes.
4. The company sees « Validé », the candidate's page says « CQP obtenu », and it downloads the parchment, which
   lists the seven competences with the jury that validated each. The PDF is rendered to PNG (pdftoppm) for a
   look; screenshots under tests/e2e/screenshots/test-carry-over-journey/ (copied to NOTES_SHOTS when set)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, SECRETARIAT_EMAIL, set_today

COMPANY_EMAIL = "rh@polymeres-lyon.fr"
COMPANY_PASSWORD = "Polymeres de Lyon 2027 !"
FIRST_JURY = date(2027, 6, 17)
NEW_FILE_DAY = date(2027, 9, 1)
SECOND_JURY = date(2028, 3, 16)


def test_a_candidate_partially_validated_completes_the_cqp_at_the_next_jury(open_browser, live_server, in_app,
                                                                             screenshot_folder):
    set_today((FIRST_JURY - timedelta(days=60)).isoformat())
    with in_app() as session:
        from sqlalchemy import select
        from sqlalchemy.exc import SAWarning

        from app.accounts.models import Role, User
        from app.jury.decisions import publish_session, record_decision
        from tests import factories

        establishment = factories.make_establishment("Polymères de Lyon")
        factories.make_user(Role.ENTREPRISE, email=COMPANY_EMAIL, establishment=establishment,
                            password=COMPANY_PASSWORD, first_name="Hélène", last_name="Rousseau")
        candidate = factories.make_candidate(establishment)
        candidate.set_names("Léa", "Martin")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            first = factories.make_file("inscription_jury", candidate=candidate, competences=7,
                                        assessor=factories.make_assessor(),
                                        session=factories.make_session(on=FIRST_JURY,
                                                                       location="Lyon, Maison de la Chimie"))
        candidate_id, first_id = candidate.id, first.id
        set_today(FIRST_JURY.isoformat())
        secretariat = session.scalar(select(User).where(User.email == SECRETARIAT_EMAIL))
        record_decision(first, secretariat, {c.id: c.code in ("C1", "C2", "C3") for c in first.competences},
                        comment="C4 à C7 à consolider au poste.")
        publish_session(first.jury_session, secretariat)

    # 2. The company: the candidate's path, then the new file on the remaining competences.
    set_today(NEW_FILE_DAY.isoformat())
    company = open_browser("Entreprise")
    page = company.page
    company.login(COMPANY_EMAIL, COMPANY_PASSWORD)
    company.goto(f"/entreprise/candidats/{candidate_id}")
    path = page.locator("section", has=page.get_by_role("heading", name="Parcours de certification"))
    expect(path).to_contain_text("Validé à ce jury : C1, C2, C3")
    acquired = path.get_by_role("table", name="Compétences acquises")
    expect(acquired.locator("tbody tr")).to_have_count(3)
    expect(acquired).to_contain_text("17 juin 2032")
    expect(path).to_contain_text("Reste à valider : C4")
    company.step("parcours du candidat après un jury partiel", phone=True)

    page.get_by_role("link", name="Créer une candidature").click()
    page.get_by_label("Candidat", exact=True).select_option(str(candidate_id))
    page.get_by_label("CQP visé").select_option(value="FAB-OPF")
    page.get_by_role("button", name="Continuer").click()
    notice = page.locator("section", has=page.get_by_role("heading", name="Compétences déjà acquises"))
    for code in ("C1", "C2", "C3"):
        expect(notice).to_contain_text(f"{code} –")
    expect(notice).to_contain_text("acquise au jury du 17 juin 2027, jusqu'au 17 juin 2032")
    offered = page.get_by_role("group", name=re.compile("Compétences restant à évaluer"))
    expect(offered.get_by_role("checkbox")).to_have_count(4)
    for code in ("C1", "C2", "C3"):
        expect(offered.get_by_label(re.compile(rf"^{code} –"))).to_have_count(0)
    page.get_by_label("Parcours", exact=True).select_option("evaluation_directe")
    page.get_by_label("Dispositif de formation", exact=True).select_option("plan_developpement_competences")
    page.get_by_role("button", name="Enregistrer la candidature").click()
    expect(page.locator(".field-error").first).to_contain_text("Choisissez au moins une compétence")
    company.step("nouvelle candidature : compétences acquises et restantes", phone=True)
    for code in ("C4", "C5", "C6", "C7"):
        offered.get_by_label(re.compile(rf"^{code} –")).check()
    page.get_by_role("button", name="Enregistrer la candidature").click()
    expect(page.locator(".flash-success")).to_contain_text("La candidature est créée")
    carried = page.locator(".carried")
    expect(carried).to_contain_text("Compétences déjà acquises")
    expect(carried.locator("li")).to_have_count(3)
    company.step("dossier créé sur les compétences restantes")
    second_id = int(re.search(r"/dossiers/(\d+)", page.url).group(1))

    # 3. The evaluation of C4–C7 done, the file is registered to the next jury; the secretariat decides.
    with in_app() as session:
        from app.files.models import CandidateFile
        from tests.carry_over_helpers import to_jury

        second = session.get(CandidateFile, second_id)
        assert [c.code for c in second.competences] == ["C4", "C5", "C6", "C7"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            session_id = to_jury(second, SECOND_JURY).id
    set_today(SECOND_JURY.isoformat())
    secretariat_ui = open_browser("Secrétariat")
    spage = secretariat_ui.page
    secretariat_ui.login(SECRETARIAT_EMAIL, PASSWORD)
    secretariat_ui.goto(f"/secretariat/jurys/{session_id}/decisions")
    row = spage.locator("tr", has_text="Léa Martin")
    expect(row.locator(".carried-line")).to_contain_text("Déjà acquises (jury précédent) : C1")
    for code in ("C1", "C2", "C3"):
        expect(row.get_by_role("group", name=re.compile(rf"^{code} "))).to_have_count(0)
    for code in ("C4", "C5", "C6", "C7"):
        row.get_by_role("group", name=re.compile(rf"^{code} ")).get_by_label("Validée", exact=True).check()
    secretariat_ui.step("décision sur les compétences restantes", phone=True)
    row.get_by_role("button", name=re.compile("Enregistrer")).click()
    expect(spage.locator(".flash-success")).to_contain_text("Décision enregistrée pour Léa Martin : Validé")
    secretariat_ui.goto(f"/secretariat/dossiers/{second_id}/decision")
    expect(spage.locator(".carried li")).to_have_count(3)
    secretariat_ui.step("fiche de décision avec les compétences acquises")
    secretariat_ui.goto(f"/secretariat/jurys/{session_id}")
    spage.get_by_role("button", name="Publier les résultats").click()
    expect(spage.locator(".flash-success")).to_contain_text("Résultats publiés")

    # 4. The company: « Validé », the path complete, the parchment listing every competence.
    company.goto(f"/dossiers/{second_id}")
    expect(page.locator(".status").first).to_have_text("Validé")
    company.step("CQP obtenu sur deux jurys", phone=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le parchemin (PDF)").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    from pypdf import PdfReader

    reader = PdfReader(BytesIO(data))
    assert len(reader.pages) == 1, "le parchemin tient sur une page"
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Certificat de Qualification Professionnelle" in text and "Léa MARTIN" in text
    for code in ("C1", "C2", "C3", "C4", "C5", "C6", "C7"):
        assert f"{code} —" in text
    assert "jury du 17 juin 2027, Lyon, Maison de la Chimie" in text
    assert "jury du 16 mars 2028, Lyon, CCI" in text
    pdf_path = screenshot_folder / "parchemin-deux-jurys.pdf"
    pdf_path.write_bytes(data)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-singlefile", str(pdf_path),
                        str(pdf_path.with_suffix(""))], check=True)
    company.goto(f"/entreprise/candidats/{candidate_id}")
    expect(page.locator("section", has=page.get_by_role("heading", name="Parcours de certification"))).to_contain_text(
        "CQP obtenu")
    company.step("parcours complet")
    notes = os.environ.get("NOTES_SHOTS")
    if notes:
        shutil.copytree(screenshot_folder, notes, dirs_exist_ok=True)
    assert first_id != second_id
