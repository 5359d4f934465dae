"""The files area's pages (app/files/views.py). The whole journey through them (CSRF on), with the
emails received over SMTP and the links taken from them: company → assessor → job assessor →
assessor → validated evaluation; the candidate invited by the company; who may open which page;
what each viewer is shown; the file's page in a bounded number of queries."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from io import BytesIO

import pytest
from sqlalchemy import delete

from app.accounts import services as accounts
from app.accounts.models import Role
from app.extensions import db
from app.files.models import Candidate, CandidateFile, Document, FileStatus, StatusChange
from app.referential.models import Competence, Cqp
from tests import factories
from tests.api.test_files import outsider, someone_elses_file  # noqa: F401 (fixture)
from tests.conftest import KEEP_TABLES, csrf_token, submit_form
from tests.files.conftest import EXE, INTERVIEW, PDF, confirmed_file, day, invite, login, new_file

BASE = "http://certifia.test"


def path_of(link: str) -> str:
    assert link.startswith(BASE), link
    return link[len(BASE):]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post_upload(client, url: str, data: bytes, name: str, kind: str, form_url: str, **extra):
    return client.post(url, data={"csrf_token": csrf_token(client, form_url), "kind": kind,
                                  "file": (BytesIO(data), name), **extra}, content_type="multipart/form-data")


def test_company_assessor_and_job_assessor_take_a_file_to_validated_evaluation(app, app_ctx, client, login_as,
                                                                                mailbox, today_is):
    today_is("2027-03-01")
    establishment = factories.make_establishment(contact_email="contact@chimie-web.fr")
    company = factories.make_user(Role.ENTREPRISE, establishment=establishment, email="rh@chimie-web.fr")
    assessor = factories.make_assessor(until=date(2028, 1, 1), email="eva@evaluateurs-chimie.fr")
    login_as(company)

    # 1. the candidate
    candidate_data = {"last_name": "Lefèvre", "first_name": "Zoé", "birth_date": "1992-06-15", "birth_place": "Lyon"}
    created = submit_form(client, "/entreprise/candidats/nouveau", candidate_data)
    assert created.status_code == 302
    candidate = db.session.query(Candidate).filter_by(last_name="Lefèvre").one()
    duplicate = submit_form(client, "/entreprise/candidats/nouveau", {**candidate_data, "last_name": "LEFEVRE",
                                                                       "first_name": "zoe"})
    assert duplicate.status_code == 409
    assert "existe déjà dans votre établissement" in text(duplicate)
    assert 'value="LEFEVRE"' in text(duplicate)  # what the user typed is kept
    listing = client.get("/entreprise/candidats?q=lefevre")
    assert "Lefèvre" in text(listing)

    # 2. the candidature: first the CQP (GET, no JavaScript), then its competences as checkboxes
    step1 = client.get(f"/entreprise/dossiers/nouveau?candidate_id={candidate.id}")
    assert step1.status_code == 200 and 'name="cqp_code"' in text(step1)
    step2_url = f"/entreprise/dossiers/nouveau?candidate_id={candidate.id}&cqp_code=FAB-OPF&step=1"
    step2 = client.get(step2_url)
    assert 'type="checkbox"' in text(step2) and 'value="C7"' in text(step2)
    file_data = {"candidate_id": candidate.id, "cqp_code": "FAB-OPF", "competence_codes": ["C1", "C2"],
                 "training_path": "formation", "training_scheme": "contrat_professionnalisation",
                 "training_org_siret": "", "assessor_id": "", "interview_date": INTERVIEW.isoformat()}
    made = submit_form(client, "/entreprise/dossiers/nouveau", file_data, form_url=step2_url)
    assert made.status_code == 302
    file = db.session.query(CandidateFile).filter_by(candidate_id=candidate.id).one()
    page = client.get(f"/dossiers/{file.id}")
    assert '<ol class="steps"' in text(page)
    assert "Ce qu'il manque pour l'étape suivante" in text(page)
    assert "L'évaluateur habilité n'est pas choisi." in text(page)

    # 3. confirming without an assessor is refused by R2, then the assessor is chosen and confirmed
    refused = submit_form(client, f"/dossiers/{file.id}/confirmer-evaluateur", {}, form_url=f"/dossiers/{file.id}")
    assert refused.status_code == 422 and "L'évaluateur habilité n'est pas choisi." in text(refused)
    edit = submit_form(client, f"/dossiers/{file.id}/modifier", {**file_data, "assessor_id": assessor.id})
    assert edit.status_code == 302
    confirmed = submit_form(client, f"/dossiers/{file.id}/confirmer-evaluateur", {}, form_url=f"/dossiers/{file.id}")
    assert confirmed.status_code == 302
    email = mailbox.last_to("eva@evaluateurs-chimie.fr")
    assert "Zoé Lefèvre" in email["Subject"]
    assert f"{BASE}/dossiers/{file.id}" in mailbox.links_in(email)
    assert email.get_body(preferencelist=("html",)) is not None
    locked = submit_form(client, f"/dossiers/{file.id}/modifier", file_data, form_url=f"/dossiers/{file.id}")
    assert locked.status_code == 409 and "En attente d'évaluation" in text(locked)

    # 4. the assessor, from the link of the email
    assessor_client = app.test_client()
    assert login(assessor_client, "eva@evaluateurs-chimie.fr", factories.PASSWORD).status_code == 302
    mine = assessor_client.get("/evaluateur/dossiers?status=en_attente_evaluation")
    assert "Lefèvre" in text(mine) and "L'évaluateur métier n'a pas été invité." in text(mine)
    assert assessor_client.get(path_of(mailbox.links_in(email)[0])).status_code == 200
    invited = submit_form(assessor_client, f"/dossiers/{file.id}/evaluateur-metier",
                          {"first_name": "Jules", "last_name": "Collègue", "email": "jules@chimie-web.fr"})
    assert invited.status_code == 302

    # 5. the job assessor: no account, the link of the email
    invitation_email = mailbox.last_to("jules@chimie-web.fr")
    (link,) = [u for u in mailbox.links_in(invitation_email) if "/invitations/" in u]
    job_client = app.test_client()
    form_page = job_client.get(path_of(link))
    assert form_page.status_code == 200
    assert "Zoé Lefèvre" in text(form_page)
    # R5b: before the interview day the page says from when, and shows no form
    assert "à partir du 10/03/2027, jour de l'entretien" in text(form_page)
    assert "Envoyer mes observations" not in text(form_page)

    # 6. the evaluation: refused before the interview day (R5), then drafted on the day
    evaluation = {"interview_date": INTERVIEW.isoformat(), "acquired_C1": "1", "comment_C1": "Maîtrisé.",
                  "acquired_C2": "0", "comment_C2": "À consolider.", "candidate_observations": "Entretien utile."}
    early = submit_form(assessor_client, f"/dossiers/{file.id}/evaluation", evaluation)
    assert early.status_code == 422 and "ouvre le jour de l'entretien (10/03/2027)" in text(early)
    assert "À consolider." in text(early)
    today_is(INTERVIEW.isoformat())

    # 5b. on the interview day the job assessor's link takes the observations
    form_page = job_client.get(path_of(link))
    assert form_page.status_code == 200 and "C2 –" in text(form_page) and "C3 –" not in text(form_page)
    assert "Envoyer mes observations" in text(form_page)
    incomplete = submit_form(job_client, path_of(link), {"observation_C1": "Rigoureuse.", "observation_C2": ""})
    assert incomplete.status_code == 422 and "compétence C2" in text(incomplete)
    assert "Rigoureuse." in text(incomplete)
    sent = submit_form(job_client, path_of(link), {"observation_C1": "Rigoureuse.", "observation_C2": "Autonome.",
                                                   "general_comment": "RAS"})
    assert sent.status_code == 200 and "Merci" in text(sent)
    again = job_client.get(path_of(link))
    assert again.status_code == 410 and "déjà été enregistrées" in text(again)
    mailbox.clear()
    saved = submit_form(assessor_client, f"/dossiers/{file.id}/evaluation", evaluation)
    assert saved.status_code == 302
    # R4: the company (its users and its contact email) is told once
    assert len(mailbox.to("rh@chimie-web.fr")) == 1 and len(mailbox.to("contact@chimie-web.fr")) == 1
    assert "ont saisi leurs commentaires" in mailbox.text_of(mailbox.last_to("rh@chimie-web.fr"))
    not_yet = submit_form(assessor_client, f"/dossiers/{file.id}/transmettre", {},
                          form_url=f"/dossiers/{file.id}/evaluation")
    assert not_yet.status_code == 422 and "outil n°4" in text(not_yet)
    disguised = post_upload(assessor_client, f"/dossiers/{file.id}/documents", EXE, "guide.pdf", "guide_evaluation",
                            f"/dossiers/{file.id}/evaluation", back="evaluation")
    assert disguised.status_code == 422 and "ni un PDF" in text(disguised)
    guide = post_upload(assessor_client, f"/dossiers/{file.id}/documents", PDF, "guide.pdf", "guide_evaluation",
                        f"/dossiers/{file.id}/evaluation", back="evaluation")
    assert guide.status_code == 302
    submitted = submit_form(assessor_client, f"/dossiers/{file.id}/transmettre", {},
                            form_url=f"/dossiers/{file.id}/evaluation")
    assert submitted.status_code == 302
    db.session.expire_all()
    assert db.session.get(CandidateFile, file.id).status == FileStatus.VALIDATION_EVALUATION
    emails = mailbox.to("rh@chimie-web.fr")
    assert [("commentaires" in str(m["Subject"]), "prêt pour l'inscription au jury" in str(m["Subject"]))
            for m in emails] == [(True, False), (False, True)]  # R4 stays one email; then ready for the jury

    # 7. the company sees the result, the history and the way to the jury
    final = text(client.get(f"/dossiers/{file.id}"))
    assert "Validation de l'évaluation" in final
    assert "Confirmation de l'évaluateur" in final and "Transmission de l'évaluation" in final
    assert re.search(r"\d+(er)? \w+ \d{4} à \d+ h \d\d", final)  # date_fr with the time
    assert "À consolider." in final and "Autonome." in final
    assert f"/jury/dossiers/{file.id}" in final or "Inscrire au jury" in final
    document = db.session.get(CandidateFile, file.id).documents[0]
    served = client.get(f"/dossiers/{file.id}/documents/{document.id}")
    assert served.status_code == 200 and served.data == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in served.headers["Content-Disposition"]


def test_the_company_invites_the_candidate_who_sets_a_password_and_corrects_their_civil_status(
        app, app_ctx, client, login_as, mailbox, today_is, company, assessor):
    file = new_file(company, assessor)
    candidate = file.candidate
    login_as(company)
    bad = submit_form(client, f"/entreprise/candidats/{candidate.id}/inviter", {"email": "pas-une-adresse"},
                      form_url=f"/entreprise/candidats/{candidate.id}")
    assert bad.status_code == 422 and "pas valide" in text(bad)
    sent = submit_form(client, f"/entreprise/candidats/{candidate.id}/inviter", {"email": "elodie@perso.fr"},
                       form_url=f"/entreprise/candidats/{candidate.id}")
    assert sent.status_code == 302
    email = mailbox.last_to("elodie@perso.fr")
    (link,) = [u for u in mailbox.links_in(email) if "/invitation-candidat/" in u]

    candidate_client = app.test_client()
    page = candidate_client.get(path_of(link))
    assert page.status_code == 200 and "elodie@perso.fr" in text(page)
    short = submit_form(candidate_client, path_of(link), {"password": "court", "confirm": "court"})
    assert short.status_code == 422 and "12 caractères" in text(short)
    done = submit_form(candidate_client, path_of(link), {"password": "un-mot-de-passe-long", "confirm":
                                                         "un-mot-de-passe-long"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/candidat/etat-civil")
    assert candidate_client.get(path_of(link)).status_code == 410

    corrected = submit_form(candidate_client, "/candidat/etat-civil", {
        "last_name": "Martin-Durand", "first_name": "Élodie", "birth_date": "1990-04-02", "email": "elodie@perso.fr"})
    assert corrected.status_code == 302
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).last_name == "Martin-Durand"
    diploma = post_upload(candidate_client, "/candidat/documents", PDF, "bac.pdf", "diplome", "/candidat/etat-civil")
    assert diploma.status_code == 302
    assert "bac.pdf" in text(candidate_client.get("/candidat/etat-civil"))
    assert "bac.pdf" in text(client.get(f"/entreprise/candidats/{candidate.id}"))  # the company sees it
    own = candidate_client.get("/candidat/dossiers")
    assert "FAB-OPF" in text(own)
    assert candidate_client.get(f"/candidat/dossiers/{file.id}").status_code == 200
    assert candidate_client.get(f"/entreprise/candidats/{candidate.id}").status_code == 403


def test_bad_input_is_answered_422_with_the_form_and_what_was_typed(app_ctx, client, login_as, company, assessor):
    login_as(company)
    bad_date = submit_form(client, "/entreprise/candidats/nouveau",
                           {"last_name": "Dupont", "first_name": "", "birth_date": "2027-13-45"})
    assert bad_date.status_code == 422
    body = text(bad_date)
    assert "Le prénom est obligatoire." in body and "Date invalide" in body and 'value="Dupont"' in body
    assert 'aria-describedby="first_name-erreur"' in body

    file = new_file(company, assessor)
    no_competence = submit_form(client, f"/dossiers/{file.id}/modifier", {
        "candidate_id": file.candidate_id, "cqp_code": "FAB-OPF", "training_path": "formation",
        "training_scheme": "vae", "training_org_siret": "12345678901234", "assessor_id": assessor.id,
        "interview_date": INTERVIEW.isoformat()})
    assert no_competence.status_code == 422 and "au moins une compétence" in text(no_competence)
    bad_siret = submit_form(client, f"/dossiers/{file.id}/modifier", {
        "competence_codes": ["C1"], "training_path": "formation", "training_scheme": "vae",
        "training_org_siret": "12345678901234", "assessor_id": assessor.id, "interview_date": INTERVIEW.isoformat()})
    assert bad_siret.status_code == 422 and "SIRET" in text(bad_siret) and 'value="12345678901234"' in text(bad_siret)
    foreign = submit_form(client, f"/dossiers/{file.id}/modifier", {
        "competence_codes": ["C1", "C42"], "training_path": "formation", "assessor_id": assessor.id})
    assert foreign.status_code == 422 and "C42" in text(foreign)

    no_reason = submit_form(client, f"/dossiers/{file.id}/abandon", {"reason": ""}, form_url=f"/dossiers/{file.id}")
    assert no_reason.status_code == 422 and "Le motif de l'abandon est obligatoire." in text(no_reason)
    withdrawn = submit_form(client, f"/dossiers/{file.id}/abandon", {"reason": "Démission"},
                            form_url=f"/dossiers/{file.id}")
    assert withdrawn.status_code == 302
    db.session.expire_all()
    assert db.session.get(CandidateFile, file.id).status == FileStatus.ABANDONNE


def test_uploads_too_large_or_disguised_are_refused(app, app_ctx, client, login_as, company, assessor, monkeypatch):
    file = new_file(company, assessor)
    login_as(company)
    url = f"/dossiers/{file.id}/documents"
    # Limits lowered so that the test client does not spool megabytes to temporary files.
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 4096)
    too_big = post_upload(client, url, b"%PDF-" + b"0" * 4096, "gros.pdf", "diplome", f"/dossiers/{file.id}")
    assert too_big.status_code == 413 and "taille maximale" in text(too_big)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 8192)
    whole_request = post_upload(client, url, b"%PDF-" + b"0" * 10000, "gros.pdf", "diplome", f"/dossiers/{file.id}")
    assert whole_request.status_code == 413 and "trop volumineux" in text(whole_request)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 11 * 1024 * 1024)
    exe = post_upload(client, url, EXE, "diplome.pdf", "diplome", f"/dossiers/{file.id}")
    assert exe.status_code == 422
    guide = post_upload(client, url, PDF, "guide.pdf", "guide_evaluation", f"/dossiers/{file.id}")
    assert guide.status_code == 422  # a company does not deposit the assessor's guide
    ok = post_upload(client, url, PDF, "diplome.pdf", "dossier_candidature", f"/dossiers/{file.id}")
    assert ok.status_code == 302
    db.session.expire_all()
    assert [d.kind for d in db.session.get(CandidateFile, file.id).documents] == ["dossier_candidature"]


def test_the_file_list_filters_by_status_and_searches_by_name(app_ctx, client, login_as, company, assessor):
    from tests.files.conftest import confirmed_file, new_candidate

    new_file(company, assessor, candidate=new_candidate(company, last_name="Arnaud"))
    confirmed_file(company, assessor, candidate=new_candidate(company, last_name="Bernard"))
    login_as(company)
    waiting = text(client.get("/dossiers?status=en_attente_evaluation"))
    assert "Bernard" in waiting and "Arnaud" not in waiting
    found = text(client.get("/dossiers?q=arn"))
    assert "Arnaud" in found and "Bernard" not in found
    assert client.get("/dossiers?status=nimporte&page=abc").status_code == 200


# ---------------------------------------------------------------- who may open which page


READERS = {"entreprise", "evaluateur", "candidat", "secretariat", "jury"}
PAGES = [
    ("get", "/dossiers/{id}", READERS),
    ("get", "/candidat/dossiers/{id}", READERS),
    ("get", "/dossiers/{id}/modifier", {"entreprise"}),
    ("post", "/dossiers/{id}/modifier", {"entreprise"}),
    ("post", "/dossiers/{id}/confirmer-evaluateur", {"entreprise"}),
    ("post", "/dossiers/{id}/abandon", {"entreprise", "secretariat"}),
    ("post", "/dossiers/{id}/documents", {"entreprise", "candidat", "evaluateur"}),
    ("get", "/dossiers/{id}/documents/{doc}", READERS),
    ("get", "/dossiers/{id}/evaluateur-metier", {"evaluateur"}),
    ("get", "/dossiers/{id}/evaluation", {"evaluateur"}),
    ("post", "/dossiers/{id}/evaluation", {"evaluateur"}),
    ("post", "/dossiers/{id}/transmettre", {"evaluateur"}),
    ("get", "/entreprise/candidats/{candidate}", {"entreprise"}),
    ("post", "/entreprise/candidats/{candidate}/inviter", {"entreprise"}),
    ("get", "/candidats/{candidate}/documents/{doc}", READERS),
]


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "candidat", "jury"])
def test_a_file_page_that_is_not_yours_is_a_404(app, someone_elses_file, client, role):  # noqa: F811
    """One login per role (password hashing is slow), every page tried; all mismatches reported."""
    file, document = someone_elses_file
    user = outsider(role)
    assert login(client, user.email).status_code == 302
    token = csrf_token(client, "/dossiers")
    wrong = []
    for method, template, roles in PAGES:
        url = template.format(id=file.id, doc=document.id, candidate=file.candidate_id)
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, "reason": "x", "kind": "diplome"})
        expected = 404 if role in roles else 403
        if response.status_code != expected:
            wrong.append((method, url, response.status_code, expected))
    assert wrong == []


# ---------------------------------------------------------------- what the pages show each viewer


def test_the_file_list_says_what_each_file_waits_for_and_from_whom(app, app_ctx, client, login_as, company,
                                                                    assessor):
    from tests.files.conftest import confirmed_file, new_candidate

    new_file(company, assessor, candidate=new_candidate(company, last_name="Arnaud"), training_scheme=None)
    confirmed_file(company, assessor, candidate=new_candidate(company, last_name="Bernard"))
    login_as(company)
    listing = text(client.get("/dossiers"))
    assert "Vous : compléter le dossier (1 élément manquant) puis confirmer l'évaluateur" in listing
    assert "(Le dispositif de formation n'est pas renseigné.)" in listing
    assert "L'évaluateur habilité : invitation de l'évaluateur métier" in listing
    assert "Créer une candidature" in listing and "<th scope=\"col\">Établissement</th>" not in listing
    secretariat = app.test_client()
    assert login(secretariat, factories.make_user(Role.SECRETARIAT).email).status_code == 302
    theirs = text(secretariat.get("/dossiers"))
    assert "L'entreprise : confirmation de l'évaluateur" in theirs and "Établissement" in theirs
    assert "Créer une candidature" not in theirs


def test_the_file_page_tells_the_viewer_their_turn_and_the_others_who_is_awaited(app, app_ctx, client, login_as,
                                                                                 company, assessor):
    file = new_file(company, assessor)
    login_as(company)
    mine = text(client.get(f"/dossiers/{file.id}"))
    assert "<strong>À vous : confirmer l'évaluateur (depuis aujourd'hui)</strong>" in mine
    assert "Modifier la candidature" in mine and "Abandonner le dossier" in mine
    assert f'href="/entreprise/candidats/{file.candidate_id}"' in mine
    assessor_client = app.test_client()
    assert login(assessor_client, assessor.user.email).status_code == 302
    theirs = text(assessor_client.get(f"/dossiers/{file.id}"))
    assert "En attente de l'entreprise depuis aujourd'hui" in theirs
    assert "(confirmation de l'évaluateur)" in theirs
    assert "Modifier la candidature" not in theirs and "Abandonner le dossier" not in theirs
    assert f'href="/entreprise/candidats/{file.candidate_id}"' not in theirs


def test_registration_to_the_jury_is_offered_to_who_may_register(app, app_ctx, client, login_as, today_is):
    file = factories.make_file(FileStatus.VALIDATION_EVALUATION)
    login_as(factories.make_user(Role.ENTREPRISE, establishment=file.establishment))
    page = text(client.get(f"/dossiers/{file.id}"))
    assert "Inscrire au jury" in page and f'href="/entreprise/dossiers/{file.id}/jury"' in page
    secretariat = app.test_client()
    assert login(secretariat, factories.make_user(Role.SECRETARIAT).email).status_code == 302
    assert "Inscrire au jury" in text(secretariat.get(f"/dossiers/{file.id}"))  # it registers for the company
    jury_member = factories.make_user(Role.JURY)
    registered = factories.make_file(FileStatus.INSCRIPTION_JURY, session=factories.sit_on(factories.make_session(),
                                                                                           jury_member))
    member = app.test_client()
    assert login(member, jury_member.email).status_code == 302
    seen = text(member.get(f"/dossiers/{registered.id}"))
    assert "Inscrire au jury" not in seen and "Abandonner le dossier" not in seen
    assert "<strong>À vous : siéger à la session du" in seen


def test_the_candidate_sees_their_files_progress_not_the_evaluation(app, app_ctx, client):
    candidate_user = factories.make_user(Role.CANDIDAT)
    candidate = factories.make_candidate(user=candidate_user)
    file = factories.make_file(FileStatus.VALIDATION_EVALUATION, candidate=candidate)
    assert login(client, candidate_user.email).status_code == 302
    listing = text(client.get("/candidat/dossiers"))
    assert "Mes dossiers CQP" in listing and f'href="/candidat/dossiers/{file.id}"' in listing
    assert 'name="q"' not in listing
    page = text(client.get(f"/candidat/dossiers/{file.id}"))
    assert 'href="/candidat/dossiers"' in page and "En attente de l'entreprise" in page
    assert "Compétences et évaluation" not in page and "Acquis" not in page


# ---------------------------------------------------------------- the file page in a bounded number of queries


@pytest.fixture
def cqp_of_ten(app):
    """A CQP with ten competences (the referential's have at most nine), removed after the test."""
    with app.app_context():
        cqp = Cqp(code="TST-DIX", title="CQP d'essai à dix compétences", domain="Essai")
        cqp.competences = [Competence(code=f"C{i}", title=f"Compétence d'essai {i}", position=i) for i in range(1, 11)]
        db.session.add(cqp)
        db.session.commit()
        cqp_id = cqp.id
    yield "TST-DIX"
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):  # every file first (they name its competences)
            if table.name not in KEEP_TABLES:
                db.session.execute(table.delete())
        db.session.execute(delete(Competence).where(Competence.cqp_id == cqp_id))
        db.session.execute(delete(Cqp).where(Cqp.id == cqp_id))
        db.session.commit()
        db.session.remove()


def _file_with(n: int, status: FileStatus, cqp_code: str, *, actors, **kwargs):
    """A file of n competences, with n history rows (each by another actor), n documents, and the
    evaluation, observations and parchment its status implies."""
    file = factories.make_file(status, cqp_code=cqp_code, competences=n, **kwargs)
    if status == FileStatus.EN_ATTENTE_EVALUATION:
        factories.make_invitation(file, used=True)
    if status == FileStatus.VALIDE:
        factories.make_parchment(file)
    for i in range(n):
        file.history.append(StatusChange(from_status="en_cours_inscription", to_status="en_attente_evaluation",
                                         event="confirm_assessor", actor=actors[i],
                                         comment=f"Ligne {i}"))
        db.session.add(Document(file=file, candidate=file.candidate, kind="dossier_candidature",
                                filename=f"piece-{i}.pdf", stored_name=f"count-{file.id}-{i}.pdf",
                                content_type="application/pdf", size=1000))
    db.session.commit()
    assert len(file.competences) == n
    return file


def test_the_file_page_runs_the_same_number_of_queries_with_3_and_10_competences_and_history_rows(
        app, app_ctx, cqp_of_ten, today_is):
    from tests.stats.test_query_counts import count_queries

    today_is("2027-03-01")
    establishment = factories.make_establishment()
    company = factories.make_user(Role.ENTREPRISE, establishment=establishment)
    secretariat = factories.make_user(Role.SECRETARIAT)
    jury_member = factories.make_user(Role.JURY)
    candidate_user = factories.make_user(Role.CANDIDAT)
    assessor = factories.make_assessor()
    actors = [accounts.create_user(f"acteur{i}@exemple.fr", Role.SECRETARIAT, first_name="Acteur", last_name=str(i))
              for i in range(10)]  # no password: none of them signs in
    past = factories.sit_on(factories.make_session(on=date(2027, 2, 20), capacity=50), jury_member)
    published = factories.make_session(on=date(2027, 2, 10), capacity=50, published_at=datetime(2027, 2, 12))
    cases = [  # (viewer, status, session)
        (company, FileStatus.EN_COURS_INSCRIPTION, None),
        (company, FileStatus.EN_ATTENTE_EVALUATION, None),
        (assessor.user, FileStatus.EN_ATTENTE_EVALUATION, None),
        (jury_member, FileStatus.INSCRIPTION_JURY, past),
        (secretariat, FileStatus.VALIDE, past),
        (candidate_user, FileStatus.VALIDE, past),
        (company, FileStatus.VALIDE, published),
    ]
    clients = {}
    for user in {case[0] for case in cases}:
        clients[user.id] = app.test_client()
        assert login(clients[user.id], user.email).status_code == 302
    counts = {}
    for viewer, status, session in cases:
        measured = []
        for n in (3, 10):
            candidate = factories.make_candidate(establishment, user=candidate_user)
            file = _file_with(n, status, cqp_of_ten, actors=actors, candidate=candidate,
                              assessor=assessor, session=session)
            db.session.expire_all()
            with count_queries() as statements:
                response = clients[viewer.id].get(f"/dossiers/{file.id}")
            assert response.status_code == 200, (viewer.role, status)
            assert f"Compétence d'essai {n}" in text(response) and f"Ligne {n - 1}" in text(response)
            measured.append(len(statements))
        counts[(viewer.role, status.value)] = measured
    assert all(with_3 == with_10 for with_3, with_10 in counts.values()), counts
    assert max(with_3 for with_3, _ in counts.values()) <= 25, counts


def test_the_file_list_runs_the_same_number_of_queries_with_5_and_20_files(app, app_ctx, today_is):
    """Each line's status and what it waits for are read from what the list loaded (20 a page)."""
    from tests.stats.test_query_counts import count_queries

    today_is("2027-03-01")
    establishment = factories.make_establishment()
    company = factories.make_user(Role.ENTREPRISE, establishment=establishment)
    candidate_user = factories.make_user(Role.CANDIDAT)
    jury_member = factories.make_user(Role.JURY)
    assessor = factories.make_assessor()
    session = factories.sit_on(factories.make_session(on=date(2027, 2, 20), capacity=50), jury_member)
    viewers = {"entreprise": company, "evaluateur": assessor.user, "jury": jury_member, "candidat": candidate_user,
               "secretariat": factories.make_user(Role.SECRETARIAT)}
    clients = {}
    for role, user in viewers.items():
        clients[role] = app.test_client()
        assert login(clients[role], user.email).status_code == 302
    statuses = [FileStatus.EN_COURS_INSCRIPTION, FileStatus.EN_ATTENTE_EVALUATION, FileStatus.VALIDATION_EVALUATION,
                FileStatus.INSCRIPTION_JURY, FileStatus.VALIDE]

    def add(n: int) -> None:
        for i in range(n):
            status = statuses[i % len(statuses)]
            file = factories.make_file(status, candidate=factories.make_candidate(establishment, user=candidate_user),
                                       assessor=assessor, session=session if status in statuses[3:] else None)
            if status == FileStatus.EN_ATTENTE_EVALUATION:
                factories.make_invitation(file, used=i % 2 == 0)

    def measure() -> dict:
        counts = {}
        for role, client in clients.items():
            db.session.expire_all()
            with count_queries() as statements:
                response = client.get("/candidat/dossiers" if role == "candidat" else "/dossiers")
            assert response.status_code == 200, role
            counts[role] = len(statements)
        return counts

    add(5)
    with_5 = measure()
    add(15)
    with_20 = measure()
    assert with_20 == with_5
    assert max(with_5.values()) <= 25, with_5


@pytest.mark.parametrize("offset,status,shown", [
    (-1, 200, "à partir du 10/03/2027, jour de l'entretien"),
    (0, 200, "Envoyer mes observations"),
    (8, 200, "Envoyer mes observations"),
    (9, 200, "close depuis le 18/03/2027"),
])
def test_r5b_the_job_assessor_page_says_when_observations_are_taken(app, app_ctx, client, company, assessor,
                                                                     today_is, offset, status, shown):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(day(offset))
    page = client.get(f"/invitations/{token}")
    assert page.status_code == status and shown in text(page)
    if offset == 9:
        assert "enregistre la date réelle de l'entretien dans son évaluation" in text(page)
    observations = {f"observation_{c.code}": "Vu au poste." for c in file.competences}
    open_ = offset in (0, 8)
    sent = submit_form(client, f"/invitations/{token}", observations, form_url=None if open_ else "/connexion")
    if open_:
        assert sent.status_code == 200 and "Merci" in text(sent)
    else:
        assert sent.status_code == 422 and shown in text(sent)
        db.session.expire_all()
        assert not file.job_assessor_observations_in


@pytest.mark.parametrize("offset,status", [(-1, 422), (0, 200), (8, 200), (9, 422)])
def test_r5b_the_api_takes_observations_from_the_interview_day_to_8_days_after(app, app_ctx, api_as, company,
                                                                                 assessor, today_is, offset, status):
    file = confirmed_file(company, assessor)
    token = invite(file, assessor)
    today_is(day(offset))
    body = {"observations": [{"competence_code": c.code, "comment": "Vu au poste."} for c in file.competences]}
    answer = api_as(None).post(f"/invitations/{token}/observations", json=body)
    assert answer.status_code == status
    if status == 422:
        problem = answer.get_json()
        assert ("à partir du 10/03/2027" if offset < 0 else "close depuis le 18/03/2027") in problem["detail"]
        assert problem["errors"]["observations"]
        db.session.expire_all()
        assert not file.job_assessor_observations_in


def test_r12b_a_second_open_file_is_refused_on_the_cqp_field_and_by_the_api(app, app_ctx, client, login_as,
                                                                              api_as, company, assessor):
    first = new_file(company, assessor)
    login_as(company)
    page = client.get(f"/entreprise/dossiers/nouveau?step=1&candidate_id={first.candidate_id}&cqp_code=FAB-OPF")
    assert page.status_code == 409
    body = text(page)
    assert f"le dossier n° {first.id} (« En cours d'inscription »)" in body
    assert 'id="cqp_code-erreur"' in body and 'name="competence_codes"' not in body
    answer = api_as(company).post("/files", json={
        "candidate_id": first.candidate_id, "cqp_code": "FAB-OPF", "competence_codes": ["C1"],
        "training_path": "formation", "training_scheme": "vae"})
    assert answer.status_code == 409 and answer.mimetype == "application/problem+json"
    assert f"le dossier n° {first.id}" in answer.json["detail"]
    db.session.expire_all()
    assert db.session.query(CandidateFile).count() == 1


def test_a_creating_form_posted_twice_with_its_token_creates_once_and_lands_on_the_creation(
        app, app_ctx, client, login_as, company, assessor):
    login_as(company)
    form = client.get("/entreprise/candidats/nouveau")
    token = re.search(r'name="creation_token" type="hidden" value="([^"]+)"|'
                      r'id="creation_token" name="creation_token" type="hidden" value="([^"]+)"', text(form))
    assert token, "pas de jeton de création sur le formulaire"
    token = next(t for t in token.groups() if t)
    person = {"creation_token": token, "last_name": "Durand", "first_name": "Inès", "birth_date": "1991-05-06"}
    first = submit_form(client, "/entreprise/candidats/nouveau", person)
    again = submit_form(client, "/entreprise/candidats/nouveau", person)  # back, then resubmit
    assert first.status_code == again.status_code == 302 and first.location == again.location
    (candidate,) = db.session.query(Candidate).all()
    assert first.location.endswith(f"/entreprise/candidats/{candidate.id}")

    url = f"/entreprise/dossiers/nouveau?candidate_id={candidate.id}&cqp_code=FAB-OPF"
    page = text(client.get(url))
    file_token = html.unescape(re.search(r'name="creation_token"[^>]*value="([^"]+)"', page).group(1))
    data = {"creation_token": file_token, "candidate_id": candidate.id, "cqp_code": "FAB-OPF",
            "competence_codes": ["C1"], "training_path": "formation",
            "training_scheme": "plan_developpement_competences", "assessor_id": "",
            "interview_date": INTERVIEW.isoformat()}
    made = submit_form(client, "/entreprise/dossiers/nouveau", data, form_url=url)
    twice = submit_form(client, "/entreprise/dossiers/nouveau", data, form_url=url)
    assert made.status_code == twice.status_code == 302 and made.location == twice.location
    (file,) = db.session.query(CandidateFile).all()
    assert made.location.endswith(f"/dossiers/{file.id}")
    fresh = dict(data, creation_token="")  # a new post without the token meets R12b
    assert submit_form(client, "/entreprise/dossiers/nouveau", fresh, form_url=url).status_code == 409


# ---------------------------------------------------------------- the published decision on the company's file page


@pytest.fixture
def decided_partial(app_ctx, today_is):
    """A partiel decision recorded, then corrected before publication (C1, C2 validated, C3 not), with its
    attestation; the session held on 2027-03-20 and not yet published."""
    from tests.jury.helpers import decide

    today_is("2027-03-01")
    establishment = factories.make_establishment()
    company = factories.make_user(Role.ENTREPRISE, establishment=establishment)
    secretariat = factories.make_user(Role.SECRETARIAT)
    session = factories.make_session(on=date(2027, 3, 20))
    file = factories.make_file(FileStatus.INSCRIPTION_JURY, establishment=establishment, session=session,
                               assessor=factories.make_assessor())
    today_is("2027-03-20")
    decide(file, secretariat, [False, False, False], comment="Premier avis.")
    decide(file, secretariat, [True, True, False], comment="C3 à consolider en situation réelle.")
    db.session.commit()
    return {"file": file, "company": company, "secretariat": secretariat, "session": session}


def _publish(case, today_is):
    from app.jury import decisions

    today_is("2027-03-21")
    decisions.publish_session(case["session"], case["secretariat"])
    db.session.commit()


def test_before_publication_the_company_sees_nothing_of_the_decision(app, decided_partial, client, login_as):
    case = decided_partial
    login_as(case["company"])
    page = text(client.get(f"/dossiers/{case['file'].id}"))
    assert "Décision du jury :" not in page and "Non validée" not in page and "C3 à consolider" not in page
    assert "parchemin.pdf" not in page and case["file"].parchment.number not in page
    assert "Correction de la décision" not in page
    assert client.get(f"/dossiers/{case['file'].id}/parchemin.pdf").status_code == 409


def test_once_published_the_company_reads_the_decision_per_competence_and_downloads_the_attestation(
        app, decided_partial, client, login_as, today_is):
    case = decided_partial
    _publish(case, today_is)
    login_as(case["company"])
    response = client.get(f"/dossiers/{case['file'].id}")
    page = text(response)
    assert "Décision du jury :" in page and "2 compétences validées sur 3" in page
    table = page[page.index("Décision du jury par compétence"):]
    table = table[:table.index("</table>")]
    for competence, verdict in zip(case["file"].competences, ("Validée", "Validée", "Non validée"), strict=True):
        row = table[table.index(f"<td>{competence.code}</td>"):]
        row = row[:row.index("</tr>")]
        assert competence.title in row and f">{verdict}<" in row, row
    assert "Commentaire du jury : C3 à consolider en situation réelle." in re.sub(r"<[^>]+>", "", page)
    assert "Télécharger l'attestation de compétences (PDF)" in page
    assert f"Numéro d'attestation : {case['file'].parchment.number}" in page
    pdf = client.get(f"/dossiers/{case['file'].id}/parchemin.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # One « Décision du jury » at publication, with the published result; the correction is not an event.
    history = page[page.index("Historique des changements de statut"):]
    assert history.count("Décision du jury") == 1 and "Correction de la décision" not in history
    assert "Inscription au jury → Partiel" in history and "21 mars 2027" in history


def test_the_secretariat_still_reads_every_decision_event(app, decided_partial, client, login_as, today_is):
    case = decided_partial
    _publish(case, today_is)
    login_as(case["secretariat"])
    history = text(client.get(f"/dossiers/{case['file'].id}"))
    history = history[history.index("Historique des changements de statut"):]
    assert "Correction de la décision" in history and "Inscription au jury → Non validé" in history


def test_a_rectification_after_publication_is_shown_to_the_company(app, decided_partial, client, login_as,
                                                                   today_is):
    from tests.jury.helpers import decide

    case = decided_partial
    _publish(case, today_is)
    decide(case["file"], case["secretariat"], [True, True, True], reason="Erreur de saisie sur C3.")
    db.session.commit()
    login_as(case["company"])
    history = text(client.get(f"/dossiers/{case['file'].id}"))
    history = history[history.index("Historique des changements de statut"):]
    assert history.count("Décision du jury") == 1 and "Rectification de la décision" in history
    assert "Partiel → Validé" in history and "Erreur de saisie sur C3." in history


def test_the_api_shows_the_company_the_same_decision_and_history(app, decided_partial, api_as, today_is):
    case = decided_partial
    file_id = case["file"].id
    before = api_as(case["company"]).get(f"/files/{file_id}").json
    assert before.get("decision") is None and before["status"] == "inscription_jury"
    assert not {"record_decision", "correct_decision"} & {h["event"] for h in before["history"]}
    _publish(case, today_is)
    answer = api_as(case["company"]).get(f"/files/{file_id}").json
    assert answer["decision"]["status"] == "partiel"
    assert answer["decision"]["comment"] == "C3 à consolider en situation réelle."
    assert [(r["competence_code"], r["validated"]) for r in answer["decision"]["results"]] == [
        ("C1", True), ("C2", True), ("C3", False)]
    assert all(r["competence_title"] for r in answer["decision"]["results"])
    assert answer["decision"]["parchment_number"] == case["file"].parchment.number
    decisions = [h for h in answer["history"] if h["event"] in ("record_decision", "correct_decision")]
    assert [(h["event"], h["from"], h["to"]) for h in decisions] == [("record_decision", "inscription_jury", "partiel")]
    secretariat = api_as(case["secretariat"]).get(f"/files/{file_id}").json
    assert [h["event"] for h in secretariat["history"]][-2:] == ["record_decision", "correct_decision"]


# ---------------------------------------------------------------- documents on the candidature


def test_the_diploma_of_the_candidate_page_appears_on_the_candidature_and_opens_from_it(
        app, app_ctx, client, login_as, company, assessor):
    file = new_file(company, assessor)
    login_as(company)
    form_url = f"/entreprise/candidats/{file.candidate_id}"
    assert 'accept="application/pdf,image/png,image/jpeg' in text(client.get(form_url))
    sent = post_upload(client, f"/entreprise/candidats/{file.candidate_id}/documents", PDF, "bac-pro.pdf", "diplome",
                       form_url)
    assert sent.status_code == 302
    page = text(client.get(f"/dossiers/{file.id}"))
    documents = page[page.index("<h2>Documents</h2>"):]
    assert "bac-pro.pdf" in documents and "(fiche du candidat)" in documents
    link = re.search(r'href="(/dossiers/\d+/documents/\d+)">bac-pro\.pdf', documents).group(1)
    assert client.get(link).data == PDF
    # The file inputs say what they accept; several candidature files may be chosen at once.
    assert re.search(r'<input type="file" id="file" name="file" accept="[^"]+" multiple', documents)


def test_several_files_posted_at_once_from_the_file_page_are_all_saved_or_none(app, app_ctx, client, login_as,
                                                                              company, assessor):
    file = new_file(company, assessor)
    login_as(company)
    url, form_url = f"/dossiers/{file.id}/documents", f"/dossiers/{file.id}"

    def post(*files):
        return client.post(url, data={"csrf_token": csrf_token(client, form_url), "kind": "dossier_candidature",
                                      "file": [(BytesIO(data), name) for data, name in files]},
                           content_type="multipart/form-data")

    refused = post((PDF, "outil6.pdf"), (EXE, "photo.exe"))
    assert refused.status_code == 422
    assert "« photo.exe » : Ce fichier n'est ni un PDF" in text(refused)
    assert db.session.scalars(db.select(Document).where(Document.file_id == file.id)).all() == []
    saved = post((PDF, "outil6.pdf"), (PDF, "annexe.pdf"))
    assert saved.status_code == 302
    assert "2 documents sont déposés : « outil6.pdf », « annexe.pdf »." in text(client.get(saved.location))


def test_a_document_is_deleted_or_replaced_from_the_file_page_until_the_assessor_is_confirmed(
        app, app_ctx, client, login_as, company, assessor):
    from app.files import services

    file = new_file(company, assessor)
    login_as(company)
    form_url = f"/dossiers/{file.id}"
    for name in ("premier.pdf", "second.pdf"):
        post_upload(client, f"/dossiers/{file.id}/documents", PDF, name, "dossier_candidature", form_url)
    first, second = sorted(file.documents, key=lambda d: d.id)
    page = text(client.get(form_url))
    assert "Supprimer premier.pdf" in page and "Remplacer « second.pdf » par" in page
    deleted = client.post(f"/dossiers/{file.id}/documents/{first.id}/supprimer",
                          data={"csrf_token": csrf_token(client, form_url)})
    assert deleted.status_code == 303
    assert "Le document « premier.pdf » est supprimé." in text(client.get(deleted.location))
    replaced = client.post(f"/dossiers/{file.id}/documents/{second.id}/remplacer",
                           data={"csrf_token": csrf_token(client, form_url), "file": (BytesIO(PDF), "second-v2.pdf")},
                           content_type="multipart/form-data")
    assert replaced.status_code == 303
    assert "est remplacé par « second-v2.pdf »" in text(client.get(replaced.location))
    services.confirm_assessor(file, company)
    db.session.commit()
    page = text(client.get(form_url))
    assert "Supprimer second-v2.pdf" not in page
    refused = client.post(f"/dossiers/{file.id}/documents/{second.id}/supprimer",
                          data={"csrf_token": csrf_token(client, form_url)})
    assert refused.status_code == 303
    assert "ne peut plus être supprimé ni remplacé : l'évaluateur est confirmé" in text(client.get(refused.location))
    assert db.session.get(Document, second.id) is not None


def test_the_api_deletes_and_replaces_a_document_then_refuses_once_the_step_is_done(app, app_ctx, api_as, company,
                                                                                  assessor):
    from app.files import services

    file = new_file(company, assessor)
    api = api_as(company)
    created = [api.post(f"/files/{file.id}/documents", data={"kind": "dossier_candidature", "file": (BytesIO(PDF), n)},
                        content_type="multipart/form-data").json for n in ("a.pdf", "b.pdf")]
    assert api.delete(f"/files/{file.id}/documents/{created[0]['id']}").status_code == 204
    assert api.get(f"/files/{file.id}/documents/{created[0]['id']}").status_code == 404
    replaced = api.put(f"/files/{file.id}/documents/{created[1]['id']}", data={"file": (BytesIO(PDF), "b2.pdf")},
                       content_type="multipart/form-data")
    assert replaced.status_code == 200 and replaced.json["filename"] == "b2.pdf"
    assert replaced.json["id"] == created[1]["id"]
    bad = api.put(f"/files/{file.id}/documents/{created[1]['id']}", data={"file": (BytesIO(EXE), "b3.pdf")},
                  content_type="multipart/form-data")
    assert bad.status_code == 422 and "ni un PDF" in bad.json["errors"]["file"][0]
    services.confirm_assessor(file, company)
    db.session.commit()
    refused = api.delete(f"/files/{file.id}/documents/{created[1]['id']}")
    assert refused.status_code == 409 and "b2.pdf" in refused.json["detail"]
    assert api_as(factories.make_user(Role.ENTREPRISE)).delete(
        f"/files/{file.id}/documents/{created[1]['id']}").status_code == 404


def test_the_candidate_page_takes_several_diplomas_at_once(app, app_ctx, client, login_as, company):
    from tests.files.conftest import new_candidate

    candidate = new_candidate(company)
    login_as(company)
    form_url = f"/entreprise/candidats/{candidate.id}"
    assert re.search(r'<input type="file" id="file" name="file" accept="[^"]+" multiple', text(client.get(form_url)))
    sent = client.post(f"/entreprise/candidats/{candidate.id}/documents",
                       data={"csrf_token": csrf_token(client, form_url), "kind": "diplome",
                             "file": [(BytesIO(PDF), "cap.pdf"), (BytesIO(PDF), "bac-pro.pdf")]},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    page = text(client.get(sent.location))
    assert "2 documents sont déposés : « cap.pdf », « bac-pro.pdf »." in page
    assert "Supprimer cap.pdf" in page  # no candidature confirmed yet: the diplomas may change


def test_the_api_says_what_is_missing_and_who_must_act(app, app_ctx, api_as, company, assessor):
    file = confirmed_file(company, assessor)
    answer = api_as(company).get(f"/files/{file.id}").json
    assert answer["missing"][0] == {"who": "l'évaluateur habilité", "text": "L'évaluateur métier n'a pas été invité."}
    assert {"who": "l'évaluateur habilité", "text": "Résultats non saisis pour les compétences C1, C2 et C3."} \
        in answer["missing"]
    mine = api_as(assessor.user).get(f"/files/{file.id}").json["missing"]
    assert {line["who"] for line in mine} == {"vous"}
    assert not any("date de l'entretien" in line["text"].lower() for line in mine)  # the planned date is set


def test_the_assessor_deletes_a_wrong_guide_from_the_evaluation_page_until_transmission(
        app, app_ctx, client, login_as, company, assessor, today_is):
    from tests.files.conftest import add_guide, ready_to_submit

    file = ready_to_submit(company, assessor, today_is)
    wrong = add_guide(file, assessor)
    login_as(assessor.user)
    form_url = f"/dossiers/{file.id}/evaluation"
    assert f"Supprimer {wrong.filename}" in text(client.get(form_url))
    deleted = client.post(f"/dossiers/{file.id}/documents/{wrong.id}/supprimer",
                          data={"csrf_token": csrf_token(client, form_url)})
    assert deleted.status_code == 303 and deleted.location.endswith(form_url)
    assert db.session.get(Document, wrong.id) is None
