"""The whole process in a real browser, from an empty database, every role in its own browser:

1. a company requests an account, the secretariat approves it, the company sets its password from
   the emailed link;
2. the company creates a candidate and a file, uploads documents, confirms the assessor;
3. the assessor invites the job assessor, who opens the emailed link and enters observations; the
   assessor enters and submits the evaluation (with the evaluation guide);
4. the company registers the file to a full session and sees it placed in the next one;
5. the secretariat records the decision on the session screen and publishes; the company sees the
   result; the secretariat prints the parchment; the verification page confirms its number.

Each step also makes one mistake a person makes and checks the French message shown. The journeys
follow each other (one story); a journey whose predecessor failed is skipped with that reason.
What no page of the journey creates (the assessor, the jury sessions, the seats already taken) is
created through the app's services, as the secretariat would have done beforehand."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, SECRETARIAT_EMAIL, set_today
from tests.factories import valid_siret

COMPANY_EMAIL = "rh@chimie-du-rhone.fr"
COMPANY_PASSWORD = "Une phrase de passe solide 2027"
ASSESSOR_EMAIL = "eva.luatrice@evaluateurs-cqp.fr"
ASSESSOR_PASSWORD = "Evaluatrice-habilitee-2027"
JOB_ASSESSOR_EMAIL = "marc.collegue@chimie-du-rhone.fr"
SIRET = valid_siret(987)
CQP = "FAB-OPF"

# The story's calendar (the app's clock is moved with APP_TODAY).
START = date(2027, 3, 1)           # the company asks for its account and registers the file
INTERVIEW = date(2027, 3, 10)      # the assessor's interview with the candidate
REGISTRATION = date(2027, 3, 12)   # the company registers the file to a jury
FULL_SESSION = date(2027, 4, 15)   # full: the file rolls over to the next one
NEXT_SESSION = date(2027, 4, 22)


@dataclass
class Story:
    done: set[str]
    file_path: str | None = None
    candidate_name: str = "DUPONT Camille"
    parchment_number: str | None = None

    def require(self, journey: str) -> None:
        if journey not in self.done:
            pytest.skip(f"le parcours précédent ({journey}) n'est pas allé au bout")


@pytest.fixture(scope="module")
def story() -> Story:
    return Story(done=set())


def french(d: date) -> str:
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    return f"{d.day} {months[d.month - 1]} {d.year}"


def pdf_bytes(title: str) -> bytes:
    """A small valid PDF (the app checks the first bytes, not the name)."""
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"% " + title.encode() + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")


# ------------------------------------------------------------------ journey 1


def test_1_company_requests_an_account_secretariat_approves_company_sets_its_password(
        open_browser, live_server, story):
    set_today(START.isoformat())

    # The company asks for an account from the login page.
    company = open_browser("Entreprise")
    page = company.page
    company.goto("/connexion")
    page.get_by_role("link", name="Faire une demande de création de compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demande de création de compte entreprise")
    company.step("demande de compte", phone=True)

    page.get_by_label("SIRET de l'établissement").fill("123 456 789 01234")  # a typo: the key is wrong
    page.get_by_label("Raison sociale de l'établissement").fill("Chimie du Rhône")
    page.get_by_label("Adresse", exact=True).fill("12 quai des Usines")
    page.get_by_label("Code postal").fill("69007")
    page.get_by_label("Ville", exact=True).fill("Lyon")
    page.get_by_label("Prénom du contact").fill("Claire")
    page.get_by_label("Nom du contact", exact=True).fill("Martin")
    page.get_by_label("Adresse email du contact").fill(COMPANY_EMAIL)
    page.get_by_label("Téléphone").fill("04 72 00 00 00")
    page.get_by_role("button", name="Envoyer la demande").click()
    siret = page.get_by_label("SIRET de l'établissement")
    expect(siret).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#siret-erreur")).to_contain_text("SIRET")
    expect(page.locator("#siret-erreur")).to_contain_text("clé de contrôle")
    # What the person typed is kept.
    expect(page.get_by_label("Ville", exact=True)).to_have_value("Lyon")
    company.step("demande de compte SIRET faux")

    siret.fill(SIRET)
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande a bien été envoyée")
    company.step("demande envoyée")
    live_server.wait_for_email(COMPANY_EMAIL, "bien été reçue")

    # The secretariat handles the request.
    secretariat = open_browser("Secrétariat")
    spage = secretariat.page
    secretariat.login(SECRETARIAT_EMAIL, PASSWORD)
    secretariat.step("tableau de bord")
    spage.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Demandes de compte").click()
    expect(spage.get_by_role("heading", level=1)).to_have_text("Demandes de création de compte")
    secretariat.step("demandes de compte", phone=True)
    spage.get_by_role("link", name="Chimie du Rhône").click()
    secretariat.step("demande détaillée")

    # Mistake: refusing without a reason (the confirmation is accepted, the server still refuses).
    spage.get_by_role("button", name="Refuser la demande").click()
    expect(spage.locator("#reason-erreur")).to_have_text(re.compile("Indiquez le motif du refus"))
    assert secretariat.problems.dialogs[-1].startswith("Refuser la demande de Chimie du Rhône")
    secretariat.step("refus sans motif")

    spage.get_by_role("button", name="Approuver la demande").click()
    assert secretariat.problems.dialogs[-1].startswith("Approuver la demande")
    expect(spage.locator(".flash-success")).to_contain_text("Demande approuvée")
    expect(spage.get_by_role("row", name=re.compile("Chimie du Rhône"))).to_contain_text("Approuvée")
    secretariat.step("demande approuvée")

    # The company opens the link of the email and chooses its password.
    message = live_server.wait_for_email(COMPANY_EMAIL, "choisissez votre mot de passe")
    link = live_server.link_in(message, "/mot-de-passe/")
    company.goto(live_server.path_of(link))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir votre mot de passe")
    company.step("choisir le mot de passe", phone=True)

    page.get_by_label("Nouveau mot de passe").fill(COMPANY_PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(COMPANY_PASSWORD + " bis")
    page.get_by_role("button", name="Enregistrer et me connecter").click()
    expect(page.locator("#confirm-erreur")).to_have_text(re.compile("Les deux mots de passe ne sont pas identiques"))
    company.step("mots de passe différents")

    page.get_by_label("Nouveau mot de passe").fill(COMPANY_PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(COMPANY_PASSWORD)
    page.get_by_role("button", name="Enregistrer et me connecter").click()
    expect(page.locator(".flash-success")).to_contain_text("Votre mot de passe est enregistré")
    expect(page.get_by_role("navigation", name="Navigation principale")).to_contain_text("Candidats")
    company.step("tableau de bord entreprise", phone=True)

    # And the password works from now on.
    company.logout()
    company.login(COMPANY_EMAIL, COMPANY_PASSWORD)
    story.done.add("1")


# ------------------------------------------------------------------ journey 2


def test_2_company_creates_candidate_and_file_uploads_documents_confirms_the_assessor(
        open_browser, live_server, in_app, story):
    story.require("1")
    set_today(START.isoformat())
    # The branch's assessor list is kept by the secretariat (referential pages, tested by their owner).
    with in_app():
        from app.accounts.services import set_password
        from app.referential.services import create_assessor

        assessor = create_assessor(ASSESSOR_EMAIL, "Éva", "Luatrice", date(2028, 6, 30), [CQP])
        set_password(assessor.user, ASSESSOR_PASSWORD)

    company = open_browser("Entreprise")
    page = company.page
    company.login(COMPANY_EMAIL, COMPANY_PASSWORD)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Candidats").click()
    company.step("candidats (liste vide)")
    page.get_by_role("link", name="Créer un candidat").first.click()
    page.get_by_label("Nom de naissance", exact=True).fill("Dupont")
    page.get_by_label("Prénom", exact=True).fill("Camille")
    page.get_by_label("Date de naissance").fill("2031-05-17")  # a slip of the year
    page.get_by_label("Commune de naissance").fill("Lyon")
    company.step("nouveau candidat", phone=True)
    page.get_by_role("button", name="Enregistrer").click()
    birth = page.get_by_label("Date de naissance")
    expect(birth).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#birth_date-erreur")).to_contain_text("La date de naissance n'est pas plausible")
    expect(page.get_by_label("Nom de naissance", exact=True)).to_have_value("Dupont")
    company.step("candidat date de naissance fausse")

    birth.fill("1990-05-17")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".flash-success")).to_contain_text("est créé")
    company.step("fiche candidat")

    # The candidate's diploma, first with a disguised file (a text file named .pdf).
    page.get_by_label("Type de document").select_option(label="Diplôme")
    page.get_by_label("Fichier").set_input_files(
        {"name": "diplome.pdf", "mimeType": "application/pdf", "buffer": b"ceci n'est pas un PDF"})
    page.get_by_role("button", name="Déposer").click()
    expect(page.locator(".field-error").first).to_contain_text("PDF, PNG ou JPEG")
    company.step("dépôt d'un faux PDF")
    page.get_by_label("Type de document").select_option(label="Diplôme")
    page.get_by_label("Fichier").set_input_files(
        {"name": "diplome-bac-pro.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("diplome")})
    page.get_by_role("button", name="Déposer").click()
    expect(page.locator(".flash-success")).to_contain_text("Le document est déposé")
    expect(page.get_by_role("link", name="diplome-bac-pro.pdf")).to_be_visible()

    # The file: step 1, the candidate and the CQP (forgetting the CQP first).
    page.get_by_role("link", name="Créer une candidature").first.click()
    expect(page.locator("ol.steps li.current")).to_contain_text("Candidat et CQP")
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator("#cqp_code-erreur")).to_contain_text("Choisissez le CQP")
    company.step("candidature sans CQP")
    page.get_by_label("CQP visé").select_option(value=CQP)
    page.get_by_role("button", name="Continuer").click()

    # Step 2: competences, path, scheme, assessor, planned interview (a date already past first).
    expect(page.locator("ol.steps li.current")).to_contain_text("Compétences")
    boxes = page.locator(".checkbox-list input[type=checkbox]")
    for i in range(3):
        boxes.nth(i).check()
    page.get_by_label("Parcours").select_option(value="formation")
    page.get_by_label("Dispositif de formation").select_option(value="plan_developpement_competences")
    assessor_select = page.get_by_label("Évaluateur habilité CPNE")
    assessor_select.select_option(assessor_select.locator("option", has_text="Luatrice").get_attribute("value"))
    page.get_by_label("Date d'entretien prévue").fill((START - timedelta(days=3)).isoformat())
    company.step("candidature étape 2", phone=True)
    page.get_by_role("button", name="Enregistrer la candidature").click()
    expect(page.locator("#interview_date-erreur")).to_contain_text("ne peut pas être passée")
    expect(boxes.nth(0)).to_be_checked()
    company.step("candidature date d'entretien passée")
    page.get_by_label("Date d'entretien prévue").fill(INTERVIEW.isoformat())
    page.get_by_role("button", name="Enregistrer la candidature").click()
    expect(page.locator(".flash-success")).to_contain_text("La candidature est créée")
    story.file_path = re.sub(r"^https?://[^/]+", "", page.url)
    expect(page.locator("ol.steps li.current")).to_contain_text("En cours d'inscription")
    expect(page.locator(".status").first).to_have_text("En cours d'inscription")

    # The application form (outil n°6) on the file.
    page.get_by_label("Type de document").select_option(label="Dossier de candidature (outil n°6)")
    page.get_by_label("Fichier").set_input_files(
        {"name": "outil-6-dossier-candidature.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("outil 6")})
    page.get_by_role("button", name="Déposer").click()
    expect(page.locator(".flash-success")).to_contain_text("Le document est déposé")
    expect(page.get_by_role("link", name="outil-6-dossier-candidature.pdf")).to_be_visible()
    company.step("dossier en cours d'inscription", phone=True)

    # Confirming the assessor asks first (irreversible), then emails the assessor.
    page.get_by_role("button", name="Confirmer l'évaluateur").click()
    assert "Luatrice" in company.problems.dialogs[-1]
    expect(page.locator(".flash-success")).to_contain_text("est confirmé")
    expect(page.locator(".status").first).to_have_text("En attente d'évaluation")
    expect(page.locator("ol.steps li.done")).to_have_count(1)
    company.step("évaluateur confirmé", phone=True)
    message = live_server.wait_for_email(ASSESSOR_EMAIL)
    assert live_server.link_in(message, story.file_path)
    story.done.add("2")


# ------------------------------------------------------------------ journey 3


def test_3_assessor_invites_job_assessor_who_enters_observations_then_assessor_submits_the_evaluation(
        open_browser, live_server, story):
    story.require("2")
    set_today(INTERVIEW.isoformat())

    assessor = open_browser("Évaluatrice")
    page = assessor.page
    assessor.login(ASSESSOR_EMAIL, ASSESSOR_PASSWORD)
    assessor.step("tableau de bord évaluatrice", phone=True)
    # The link of the confirmation email leads to the file.
    link = live_server.link_in(live_server.wait_for_email(ASSESSOR_EMAIL), story.file_path)
    assessor.goto(live_server.path_of(link))
    expect(page.locator(".status").first).to_have_text("En attente d'évaluation")
    assessor.step("dossier à évaluer")

    # Invite the job assessor (forgetting the email address first).
    page.get_by_role("link", name="Inviter l'évaluateur métier").click()
    page.get_by_label("Prénom").fill("Marc")
    page.get_by_label("Nom", exact=True).fill("Collègue")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.locator("#email-erreur")).to_contain_text("L'adresse email est obligatoire")
    assessor.step("invitation sans email")
    page.get_by_label("Adresse email").fill(JOB_ASSESSOR_EMAIL)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.locator(".flash-success")).to_contain_text("L'invitation est envoyée à Marc Collègue")

    # The job assessor opens the emailed link, without any account.
    job = open_browser("Évaluateur métier")
    jpage = job.page
    message = live_server.wait_for_email(JOB_ASSESSOR_EMAIL, "vos observations")
    job.goto(live_server.path_of(live_server.link_in(message, "/invitations/")))
    expect(jpage.get_by_role("heading", level=1)).to_have_text("Vos observations d'évaluateur métier")
    job.step("observations (lien reçu)", phone=True)
    fields = jpage.locator("textarea[id^=observation_]")
    expect(fields).to_have_count(3)
    fields.nth(0).fill("Applique les consignes sans rappel, y compris en fin de poste.")
    fields.nth(1).fill("Prépare les matières premières avec méthode.")
    jpage.get_by_role("button", name="Envoyer mes observations").click()  # the third one is forgotten
    expect(jpage.get_by_role("alert")).to_contain_text("Saisissez une observation pour chaque compétence")
    expect(jpage.locator("#observation_C3-erreur")).to_contain_text("C3 n'est pas saisie")
    expect(fields.nth(0)).to_have_value(re.compile("Applique les consignes"))
    job.step("observations incomplètes")
    fields.nth(2).fill("Surveille les paramètres et alerte à bon escient.")
    jpage.get_by_role("button", name="Envoyer mes observations").click()
    expect(jpage.get_by_role("heading", level=1)).to_have_text("Merci, vos observations sont enregistrées")
    job.step("observations enregistrées")

    # The assessor enters the evaluation: first with an interview date before the confirmation.
    assessor.goto(story.file_path)
    page.get_by_role("link", name="Saisir l'évaluation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Évaluation des compétences")
    page.get_by_label("Date de l'entretien d'évaluation").fill((START - timedelta(days=5)).isoformat())
    for code in ("C1", "C2", "C3"):
        block = page.locator("fieldset", has=page.locator("legend", has_text=f"{code} –"))
        block.get_by_label("Acquis", exact=True).check()
        block.get_by_label(f"Commentaire – {code}").fill(f"Compétence {code} démontrée pendant l'entretien.")
    page.get_by_label("Observations du candidat").fill("Entretien constructif ; le candidat se sent prêt.")
    assessor.step("saisie de l'évaluation", phone=True)
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator("#interview_date-erreur")).to_contain_text("ne peut pas précéder la confirmation")
    expect(page.get_by_label("Observations du candidat")).to_have_value(re.compile("Entretien constructif"))
    assessor.step("date d'entretien avant la confirmation")
    page.get_by_label("Date de l'entretien d'évaluation").fill(INTERVIEW.isoformat())
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator(".flash-success")).to_contain_text("Le brouillon de l'évaluation est enregistré")

    # Submitting before the evaluation guide is uploaded is refused, naming what is missing.
    page.get_by_role("button", name="Transmettre l'évaluation").click()
    expect(page.get_by_role("alert").filter(has_text="guide")).to_be_visible()
    assessor.step("transmission sans le guide")
    page.get_by_label("Fichier").set_input_files(
        {"name": "outil-4-guide-evaluation.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("outil 4")})
    page.get_by_role("button", name="Déposer").click()
    expect(page.locator(".flash-success")).to_contain_text("Le document est déposé")
    expect(page.get_by_role("link", name="outil-4-guide-evaluation.pdf")).to_be_visible()
    assessor.step("guide déposé")
    page.get_by_role("button", name="Transmettre l'évaluation").click()
    assert "ne sera plus modifiable" in assessor.problems.dialogs[-1]
    expect(page.locator(".flash-success")).to_contain_text("L'évaluation est transmise")
    expect(page.locator(".status").first).to_have_text("Validation de l'évaluation")
    assessor.step("évaluation transmise", phone=True)

    # R4: the company was told once both evaluators' comments were in.
    live_server.wait_for_email(COMPANY_EMAIL, "ont saisi leurs commentaires")
    story.done.add("3")


# ------------------------------------------------------------------ journey 4


def test_4_company_registers_the_file_to_a_full_session_and_sees_it_placed_in_the_next_one(
        open_browser, live_server, in_app, story):
    story.require("3")
    set_today(REGISTRATION.isoformat())

    # The secretariat publishes the jury calendar (a date already past first).
    secretariat = open_browser("Secrétariat")
    spage = secretariat.page
    secretariat.login(SECRETARIAT_EMAIL, PASSWORD)
    spage.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Jurys").click()
    secretariat.step("calendrier des jurys vide")
    spage.get_by_role("link", name="Créer une session").click()
    spage.get_by_label("Date du jury").fill(START.isoformat())
    spage.get_by_label("Nombre de places").fill("1")
    spage.get_by_label("Lieu").fill("Paris, France Chimie")
    secretariat.step("nouvelle session")
    spage.get_by_role("button", name="Créer la session").click()
    expect(spage.locator("#date-erreur")).to_contain_text("ne peut pas être passée")
    secretariat.step("session à une date passée")
    for when, seats, where in ((FULL_SESSION, "1", "Paris, France Chimie"), (NEXT_SESSION, "20", "Lyon, UIC Rhône")):
        if not spage.get_by_label("Date du jury").is_visible():
            spage.get_by_role("link", name="Créer une session").click()
        spage.get_by_label("Date du jury").fill(when.isoformat())
        spage.get_by_label("Nombre de places").fill(seats)
        spage.get_by_label("Lieu").fill(where)
        spage.get_by_role("button", name="Créer la session").click()
        expect(spage.locator(".flash-success")).to_contain_text(f"Session du {when:%d/%m/%Y} créée")
        if spage.url.rstrip("/").endswith("/secretariat/jurys") is False:
            spage.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Jurys").click()
    secretariat.step("calendrier des jurys", phone=True)

    # Another company's file already holds the only seat of the first session.
    with in_app() as session:
        from sqlalchemy import select
        from sqlalchemy.exc import SAWarning

        from app.jury.models import JurySession
        from tests.factories import make_file

        full = session.scalar(select(JurySession).where(JurySession.date == FULL_SESSION))
        with warnings.catch_warnings():
            # The factory links the new file to its candidate before adding it (SQLAlchemy notes it).
            warnings.simplefilter("ignore", SAWarning)
            make_file("inscription_jury", session=full)

    company = open_browser("Entreprise")
    page = company.page
    company.login(COMPANY_EMAIL, COMPANY_PASSWORD)
    company.goto(story.file_path)
    expect(page.locator(".status").first).to_have_text("Validation de l'évaluation")
    company.step("dossier évalué")
    page.get_by_role("link", name="Inscrire au jury").click()
    company.step("inscription au jury", phone=True)
    choice = page.get_by_label("Session de jury souhaitée")
    choice.select_option(choice.locator("option", has_text=f"{FULL_SESSION:%d/%m/%Y}").get_attribute("value"))
    page.get_by_role("button", name="Inscrire au jury").click()
    expect(page.locator(".flash-warning").first).to_contain_text(
        f"La session du {FULL_SESSION:%d/%m/%Y} est complète ou close : le dossier est inscrit à la session "
        f"suivante, le {NEXT_SESSION:%d/%m/%Y}")
    expect(page.get_by_role("heading", name=f"Session du {french(NEXT_SESSION)}")).to_be_visible()
    company.step("placé dans la session suivante", phone=True)
    company.goto(story.file_path)
    expect(page.locator(".status").first).to_have_text("Inscription au jury")
    expect(page.locator("ol.steps li.current")).to_contain_text("Inscription au jury")
    company.step("dossier inscrit au jury")
    story.done.add("4")


# ------------------------------------------------------------------ journey 5


def test_5_secretariat_records_the_decision_publishes_prints_and_the_number_is_verified(
        open_browser, live_server, story, in_app):
    story.require("4")
    secretariat = open_browser("Secrétariat")
    spage = secretariat.page
    secretariat.login(SECRETARIAT_EMAIL, PASSWORD)

    def open_session() -> None:
        secretariat.goto("/secretariat")
        spage.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Jurys").click()
        spage.get_by_role("link", name=french(NEXT_SESSION)).click()
        expect(spage.get_by_role("heading", level=1)).to_contain_text(french(NEXT_SESSION))

    # The day before the jury, the decision screen refuses to record anything.
    set_today((NEXT_SESSION - timedelta(days=1)).isoformat())
    open_session()
    spage.get_by_role("link", name="Saisir les décisions").click()
    expect(spage.get_by_role("status").filter(has_text="qu'à partir de la date du jury")).to_be_visible()
    row = spage.locator("tr", has_text="Camille Dupont")
    expect(row.get_by_role("button", name=re.compile("Enregistrer"))).to_be_disabled()
    secretariat.step("décisions avant la date du jury")

    # On the jury day: every competence validated → « Validé ».
    set_today(NEXT_SESSION.isoformat())
    spage.reload()
    row = spage.locator("tr", has_text="Camille Dupont")
    for code in ("C1", "C2", "C3"):
        row.get_by_role("group", name=re.compile(rf"^{code} ")).get_by_label("Validée", exact=True).check()
    row.get_by_label("Commentaire pour Camille Dupont").fill("Très bon dossier.")
    secretariat.step("écran des décisions de la session", phone=True)
    row.get_by_role("button", name=re.compile("Enregistrer")).click()
    expect(spage.locator(".flash-success")).to_contain_text("Décision enregistrée pour Camille Dupont : Validé")
    expect(spage.locator("tr", has_text="Camille Dupont").locator(".status")).to_have_text("Validé")
    secretariat.step("décision enregistrée")

    # Before publication the company still sees « Inscription au jury ».
    company = open_browser("Entreprise")
    page = company.page
    company.login(COMPANY_EMAIL, COMPANY_PASSWORD)
    company.goto(story.file_path)
    expect(page.locator(".status").first).to_have_text("Inscription au jury")

    # R14: no publication before the attendance of a paritaire jury with its president.
    open_session()
    expect(spage.get_by_role("status").filter(has_text="feuille de présence du jury")).to_contain_text(
        "aucun président présent désigné")
    expect(spage.get_by_role("button", name="Publier les résultats")).to_have_count(0)
    jurors = {"Claire Martin": "salaries", "Paul Durand": "salaries", "Anne Leroy": "employeurs",
              "Marc Petit": "employeurs"}
    with in_app():
        from app.accounts.models import Role
        from tests import factories

        for name in jurors:
            first, last = name.split()
            factories.make_user(Role.JURY, email=f"{first.lower()}.{last.lower()}@paritaire.fr", first_name=first,
                                last_name=last)
    spage.get_by_role("link", name="Compléter la feuille de présence").click()
    for name, college in jurors.items():
        spage.get_by_label(name, exact=True).select_option(college)
        spage.get_by_label(f"{name} présent", exact=True).check()
    spage.get_by_label("Paul Durand président", exact=True).check()
    secretariat.step("feuille de présence du jury", phone=True)
    spage.get_by_role("button", name="Enregistrer la feuille de présence").click()
    expect(spage.locator(".flash-success")).to_contain_text("Feuille de présence enregistrée")

    # Publication asks for confirmation, then emails the company.
    open_session()
    secretariat.confirm_answer = False
    spage.get_by_role("button", name="Publier les résultats").click()
    assert secretariat.problems.dialogs[-1].startswith("Publier les résultats ?")
    expect(spage.get_by_role("button", name="Publier les résultats")).to_be_visible()
    secretariat.confirm_answer = True
    spage.get_by_role("button", name="Publier les résultats").click()
    expect(spage.locator(".flash-success")).to_contain_text("Résultats publiés")
    secretariat.step("session publiée", phone=True)
    live_server.wait_for_email(COMPANY_EMAIL, "résultat")

    # The company sees the result.
    company.goto(story.file_path)
    expect(page.locator(".status").first).to_have_text("Validé")
    expect(page.locator("ol.steps li.current")).to_contain_text("Décision du jury : Validé")
    company.step("résultat publié", phone=True)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Tableau de bord").click()
    company.step("tableau de bord après publication")

    # The secretariat prints the session's parchments. The progress message shows as soon as the
    # form is sent (checked on the submit event alone, since the PDF then replaces the page).
    batch_form = spage.locator("form[data-busy]").filter(has=spage.get_by_role("button", name="Imprimer toute la session (PDF)"))
    batch_form.evaluate("f => f.dispatchEvent(new Event('submit', {bubbles: true, cancelable: true}))")
    expect(spage.get_by_role("status").filter(has_text="Génération du PDF en cours")).to_be_visible()
    secretariat.shot("impression en cours")
    open_session()
    with spage.expect_response(lambda r: "parchemins.pdf" in r.url and r.request.method == "POST") as answer:
        spage.get_by_role("button", name="Imprimer toute la session (PDF)").click()
    assert answer.value.status == 200
    assert answer.value.header_value("content-type") == "application/pdf"
    # The browser shows the PDF in its viewer; its bytes are read through the same session (cookies).
    # Printing again records nothing: the bytes are read through the explicit reprint.
    open_session()
    reprint_form = spage.locator("form[data-busy]").filter(
        has=spage.get_by_role("button", name="Réimprimer toute la session (PDF)"))
    token = reprint_form.locator("input[name=csrf_token]").input_value()
    action = reprint_form.get_attribute("action")
    printed = spage.request.post(action, form={"csrf_token": token})
    assert printed.ok and printed.headers["content-type"] == "application/pdf"
    from io import BytesIO

    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(printed.body())).pages)
    numbers = re.findall(r"CQP-[A-Z0-9]{4}-[A-Z0-9]{4}", text)
    assert numbers, f"aucun numéro de parchemin dans le PDF : {text[:500]}"
    assert "Camille" in text
    story.parchment_number = numbers[0]
    open_session()
    expect(spage.get_by_role("table", name="Impressions")).to_be_visible()
    secretariat.step("impression enregistrée")

    # Anyone verifies the number (a typo first).
    visitor = open_browser("Visiteur")
    vpage = visitor.page
    visitor.goto("/verify")
    wrong = story.parchment_number[:-1] + ("A" if story.parchment_number[-1] != "A" else "B")
    vpage.get_by_label("Numéro du parchemin").fill(wrong)
    vpage.get_by_role("button", name="Vérifier").click()
    expect(vpage.get_by_role("alert")).to_contain_text("Numéro inconnu")
    visitor.step("vérification d'un numéro inconnu", phone=True)
    vpage.get_by_label("Numéro du parchemin").fill(story.parchment_number)
    vpage.get_by_role("button", name="Vérifier").click()
    result = vpage.locator(".verify-result")
    expect(result).to_contain_text(f"Numéro authentique : {story.parchment_number}")
    expect(result).to_contain_text("Camille D.")
    expect(result).to_contain_text(french(NEXT_SESSION))
    visitor.step("vérification du parchemin", phone=True)
    story.done.add("5")


# ------------------------------------------------------------------ the decision screen (issue 11)

DECISION_DAY = date(2027, 12, 9)


def test_decision_screen_refuses_an_empty_save_then_saves_a_choice_per_competence_and_decides_in_bulk(
        open_browser, live_server, in_app):
    """The secretariat's session screen: « Enregistrer » with nothing chosen is refused, naming each
    competence; a choice per competence (with the keyboard) is saved; two files ticked are decided as
    their evaluation concluded. axe-core finds nothing at 390 px."""
    from app.files.models import FileStatus
    from tests.factories import make_session
    from tests.jury.helpers import make_file

    set_today((DECISION_DAY - timedelta(days=60)).isoformat())
    with in_app():
        jury_session = make_session(on=DECISION_DAY, capacity=5, location="Lyon")
        files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(3)]
        session_id = jury_session.id
        names = [f.candidate.full_name for f in files]
        competences = [(c.code, c.title) for c in files[0].competences]
    set_today(DECISION_DAY.isoformat())

    secretariat = open_browser("Secrétariat (décisions)")
    page = secretariat.page
    secretariat.login(SECRETARIAT_EMAIL, PASSWORD)
    secretariat.goto(f"/secretariat/jurys/{session_id}/decisions")
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)  # nothing chosen in advance
    secretariat.step("décisions : rien n'est choisi d'avance", phone=True)

    # « Enregistrer » on an untouched row: refused, each competence named, nothing recorded.
    row = page.locator("tr", has_text=names[0])
    row.get_by_role("button", name=f"Enregistrer la décision de {names[0]}").click()
    row = page.locator("tr", has_text=names[0])
    codes = [code for code, _ in competences]
    expect(row.locator(".field-error").first).to_contain_text(f"{', '.join(codes[:-1])} et {codes[-1]}")
    for code, title in competences:
        group = row.get_by_role("group", name=re.compile(rf"^{code} {re.escape(title)}"))
        expect(group.locator(".field-error")).to_have_text(re.compile(f"{code} : aucune décision choisie"))
    expect(row.locator(".status")).to_have_count(0)
    secretariat.step("enregistrement vide refusé", phone=True)

    # The focus is on the first choice in error: a choice per competence with the keyboard alone.
    first_choice = row.get_by_role("group", name=re.compile(rf"^{competences[0][0]} ")).get_by_label("Validée", exact=True)
    expect(first_choice).to_be_focused()
    page.keyboard.press("Space")        # C1 : Validée
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")   # C2 : Non validée
    page.keyboard.press("Tab")
    page.keyboard.press("Space")        # C3 : Validée
    page.keyboard.press("Tab")
    page.keyboard.type("Décision du jury après examen.")
    page.keyboard.press("Tab")
    expect(row.get_by_role("button", name=f"Enregistrer la décision de {names[0]}")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text(f"Décision enregistrée pour {names[0]} : Partiel")

    # Two files ticked, decided as their evaluation concluded.
    for name in names[1:]:
        page.locator("tr", has_text=name).get_by_role("checkbox").check()
    page.get_by_role("button", name="Décider conforme à l'évaluation").click()
    report = page.locator("#bilan-action")
    expect(report).to_contain_text("Décider conforme à l'évaluation : 2 décisions enregistrées")
    for name in names[1:]:
        expect(report).to_contain_text(name)
        expect(page.locator("tr", has_text=name).locator(".status")).to_have_text("Validé")
    expect(page.get_by_role("heading", name=re.compile("Reste à décider"))).to_contain_text("0 dossier sur 3")
    secretariat.step("décisions conformes à l'évaluation", phone=True)

    # axe-core at phone width: no violation of any impact.
    from axe_playwright_python.sync_playwright import Axe

    page.set_viewport_size({"width": 390, "height": 844})
    violations = Axe().run(page, options={"resultTypes": ["violations"]}).response["violations"]
    assert not violations, [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations]
    page.set_viewport_size({"width": 1280, "height": 900})
    secretariat.logout()  # later journeys count the secretariat's devices


# ------------------------------------------------------------------ the assessor's evaluation form (issue 11)

EVALUATION_DAY = date(2028, 1, 10)
FORM_ASSESSOR_EMAIL = "eva.formulaire@evaluateurs-cqp.fr"
FORM_JOB_ASSESSOR_EMAIL = "lina.collegue@chimie-du-rhone.fr"


def test_evaluation_form_keeps_the_typed_text_across_a_guide_upload_and_a_refused_transmission(
        open_browser, live_server, in_app):
    """The assessor types the evaluation, attaches the guide and uploads it: nothing typed is lost. « Transmettre »
    before the job assessor's observations saves what is typed and names what is missing; « Relancer » sends the
    job assessor a new link."""
    from app.files import evaluation
    from app.files.models import FileStatus
    from tests import factories

    set_today(EVALUATION_DAY.isoformat())
    with in_app():
        assessor = factories.make_assessor(email=FORM_ASSESSOR_EMAIL, until=date(2029, 6, 30))
        file = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION, assessor=assessor, interview_date=EVALUATION_DAY)
        evaluation.invite_job_assessor(file, assessor.user, email=FORM_JOB_ASSESSOR_EMAIL, first_name="Lina",
                                       last_name="Collègue")
        file_id, codes = file.id, [c.code for c in file.competences]

    ui = open_browser("Évaluatrice (formulaire)")
    page = ui.page
    ui.login(FORM_ASSESSOR_EMAIL, factories.PASSWORD)
    ui.goto(f"/dossiers/{file_id}/evaluation")
    expect(page.get_by_label("Date de l'entretien d'évaluation")).to_have_value(EVALUATION_DAY.isoformat())
    expect(page.locator("#h-evaluateur-metier").locator("..")).to_contain_text(
        f"invitation envoyée le {french(EVALUATION_DAY)}")
    ui.step("évaluation avant saisie (date prévue pré-remplie)", phone=True)

    for code in codes:
        block = page.locator("fieldset", has=page.locator("legend", has_text=f"{code} –"))
        expect(block).to_contain_text("Observation de l'évaluateur métier")
        block.get_by_label("Acquis", exact=True).check()
        block.get_by_label(f"Commentaire – {code}").fill(f"Compétence {code} observée en situation réelle.")
    page.get_by_label("Observations du candidat").fill("Le candidat a apprécié l'échange.")
    page.get_by_label("Fichier du guide").set_input_files(
        {"name": "outil-4-guide.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("outil 4 formulaire")})
    ui.step("évaluation saisie, guide choisi")
    page.get_by_role("button", name="Déposer le guide").click()
    expect(page.locator(".flash-success")).to_contain_text("Le document est déposé et le brouillon")
    expect(page.get_by_role("link", name="outil-4-guide.pdf")).to_be_visible()
    for code in codes:
        expect(page.get_by_label(f"Commentaire – {code}")).to_have_value(
            f"Compétence {code} observée en situation réelle.")
    expect(page.get_by_label("Observations du candidat")).to_have_value("Le candidat a apprécié l'échange.")
    ui.step("évaluation après le dépôt du guide (texte gardé)", phone=True)

    # « Transmettre » with a last change typed: saved first, then refused (the job assessor has not answered).
    page.get_by_label(f"Commentaire – {codes[-1]}").fill("Ajouté juste avant de transmettre.")
    page.get_by_role("button", name="Transmettre l'évaluation").click()
    assert "ne sera plus modifiable" in ui.problems.dialogs[-1]
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Brouillon enregistré, mais l'évaluation n'est pas transmise")
    expect(summary).to_contain_text("Les observations de l'évaluateur métier ne sont pas saisies.")
    expect(page.get_by_label(f"Commentaire – {codes[-1]}")).to_have_value("Ajouté juste avant de transmettre.")
    ui.step("transmission refusée, texte gardé")

    # « Relancer »: a new link to the job assessor; the change typed before « Transmettre » was saved.
    page.get_by_role("button", name="Relancer Lina Collègue").click()
    expect(page.locator(".flash-success")).to_contain_text("Relance envoyée à Lina Collègue")
    expect(page.locator("#h-evaluateur-metier").locator("..")).to_contain_text(f"relancée le {french(EVALUATION_DAY)}")
    live_server.wait_for_email(FORM_JOB_ASSESSOR_EMAIL, "relance")
    expect(page.get_by_label(f"Commentaire – {codes[-1]}")).to_have_value("Ajouté juste avant de transmettre.")
    ui.step("relance de l'évaluateur métier")


# ------------------------------------------------------------------ several devices (issue 11)


def test_a_second_device_stays_logged_in_and_logout_everywhere_ends_both(open_browser, live_server):
    """Two browsers log in as the same user: the first stays logged in; « Se déconnecter » on one keeps the
    other; « Se déconnecter partout » ends both."""
    laptop, phone = open_browser("Secrétariat (ordinateur)"), open_browser("Secrétariat (téléphone)")

    def logged_in(ui) -> bool:
        ui.page.goto("/mon-compte")
        return ui.page.get_by_role("heading", level=1, name="Mon compte").is_visible()

    laptop.login(SECRETARIAT_EMAIL, PASSWORD)
    assert logged_in(laptop)
    # Earlier journeys may have left this user's sessions open on other browsers: count from here.
    before = laptop.page.locator(".sessions li").count()
    phone.login(SECRETARIAT_EMAIL, PASSWORD)

    assert logged_in(laptop), "la connexion du second appareil a déconnecté le premier"
    expect(laptop.page.locator(".sessions li")).to_have_count(before + 1)
    laptop.step("deux appareils connectés")

    phone.logout()
    assert logged_in(laptop), "« Se déconnecter » sur un appareil a déconnecté l'autre"
    assert not logged_in(phone)

    phone.login(SECRETARIAT_EMAIL, PASSWORD)
    assert logged_in(phone)
    laptop.page.goto("/mon-compte")
    laptop.page.get_by_role("button", name="Se déconnecter partout").click()
    expect(laptop.page.locator(".flash-success")).to_contain_text("Vous êtes déconnecté de tous vos appareils")
    laptop.step("déconnecté partout")
    assert not logged_in(laptop) and not logged_in(phone)
    expect(phone.page).to_have_url(re.compile("/connexion"))


# ------------------------------------------------------------------ the company reads its published decision (issue 11)


def test_the_company_reads_the_decision_per_competence_and_downloads_the_attestation(
        open_browser, live_server, in_app):
    """A partial decision, corrected before publication: before publication the company's file page shows
    nothing of it; once published, the decision per competence (code, label, validated or not), the jury's
    comment, one « Décision du jury » in the history (not the correction), and the attestation, downloaded."""
    jury_day = date(2027, 9, 16)
    set_today((jury_day - timedelta(days=60)).isoformat())
    with in_app() as session:
        from sqlalchemy import select
        from sqlalchemy.exc import SAWarning

        from app.accounts.models import Role, User
        from app.jury.decisions import record_decision
        from tests import factories

        establishment = factories.make_establishment("Résines de l'Isère")
        factories.make_user(Role.ENTREPRISE, email="rh@resines-isere.fr", establishment=establishment,
                            password=COMPANY_PASSWORD)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            file = factories.make_file("inscription_jury", establishment=establishment, assessor=factories.make_assessor(),
                                       session=factories.make_session(on=jury_day, location="Grenoble"))
        file_id, parchment_path = file.id, f"/dossiers/{file.id}/parchemin.pdf"
        c1, c2, c3 = file.competences
        labels = [c.title for c in (c1, c2, c3)]
        set_today(jury_day.isoformat())
        secretariat = session.scalar(select(User).where(User.email == SECRETARIAT_EMAIL))
        record_decision(file, secretariat, {c1.id: False, c2.id: False, c3.id: False}, comment="Saisie erronée.")
        record_decision(file, secretariat, {c1.id: True, c2.id: True, c3.id: False},
                        comment="C3 à consolider en situation réelle.")

    company = open_browser("Entreprise (décision publiée)")
    page = company.page
    company.login("rh@resines-isere.fr", COMPANY_PASSWORD)
    company.goto(f"/dossiers/{file_id}")
    expect(page.locator(".status").first).to_have_text("Inscription au jury")
    expect(page.get_by_role("heading", name=re.compile("Décision du jury :"))).to_have_count(0)
    expect(page.get_by_text("C3 à consolider")).to_have_count(0)
    company.step("dossier décidé avant publication")

    with in_app() as session:
        from app.jury.decisions import publish_session
        from app.jury.models import JurySession

        set_today((jury_day + timedelta(days=1)).isoformat())
        publish_session(session.scalar(select(JurySession).where(JurySession.date == jury_day)),
                        session.scalar(select(User).where(User.email == SECRETARIAT_EMAIL)))

    page.reload()
    expect(page.locator(".status").first).to_have_text("Partiel")
    decision = page.locator("section.decision")
    expect(decision.get_by_role("heading", name=re.compile("Décision du jury"))).to_contain_text("Partiel")
    expect(decision).to_contain_text("2 compétences validées sur 3")
    table = decision.get_by_role("table", name="Décision du jury par compétence")
    for code, label, verdict in zip(("C1", "C2", "C3"), labels, ("Validée", "Validée", "Non validée"), strict=True):
        row = table.locator("tr", has=page.get_by_role("cell", name=code, exact=True))
        expect(row).to_contain_text(label)
        expect(row.locator(".status")).to_have_text(verdict)
    expect(decision).to_contain_text("Commentaire du jury : C3 à consolider en situation réelle.")
    history = page.get_by_role("table", name="Historique des changements de statut")
    expect(history.locator("tr", has_text="Décision du jury")).to_have_count(1)
    expect(history).to_contain_text("Inscription au jury → Partiel")
    expect(history).not_to_contain_text("Correction")
    company.step("décision publiée par compétence", phone=True)

    with page.expect_download() as download:
        decision.get_by_role("link", name="Télécharger l'attestation de compétences (PDF)").click()
    assert download.value.suggested_filename.startswith("attestation-")
    data = open(download.value.path(), "rb").read()
    assert data.startswith(b"%PDF-")
    from io import BytesIO

    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    number = re.search(r"CQP-[A-Z0-9]{4}-[A-Z0-9]{4}", text)
    assert number, f"aucun numéro d'attestation dans le PDF : {text[:500]}"
    expect(decision).to_contain_text(f"Numéro d'attestation : {number.group(0)}")
    assert "Camille" in text
    assert page.request.get(parchment_path).headers["content-type"] == "application/pdf"
