"""The journey through the web pages (CSRF on), up to a parchment verified by anyone: the files
area's own web journey takes a file to « Validation de l'évaluation » (tests/files); here the file
starts there, built by the factories, and everything after it goes through the pages and the emails."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from app.extensions import db
from app.files.models import CandidateFile
from app.jury.models import JurySession
from tests.conftest import login, submit_form
from tests.factories import PASSWORD, make_establishment, make_user
from tests.jury.helpers import make_file

BASE = "http://certifia.test"


def text(response) -> str:
    return response.get_data(as_text=True)


def test_from_a_validated_evaluation_to_a_verified_parchment_through_the_pages(app, app_ctx, mailbox, today_is):
    today_is("2027-03-01")
    establishment = make_establishment(name="Chimie Web", contact_email="contact@chimie-web.fr")
    make_user("entreprise", establishment=establishment, email="rh@chimie-web.fr")
    make_user("secretariat", email="secretariat@branche.fr")
    make_user("jury", email="jure@syndicat.fr", last_name="Paritaire")
    file = make_file("validation_evaluation", establishment=establishment, competences=2)
    file_id, holder = file.id, file.candidate

    office, company, juror, visitor = (app.test_client() for _ in range(4))
    assert login(office, "secretariat@branche.fr", PASSWORD).status_code == 302
    assert login(company, "rh@chimie-web.fr", PASSWORD).status_code == 302
    assert login(juror, "jure@syndicat.fr", PASSWORD).status_code == 302

    # the secretariat opens a session with a juror
    new = office.get("/secretariat/jurys/nouvelle")
    juror_id = re.search(r'<option value="(\d+)">[^<]*Paritaire', text(new)).group(1)
    created = submit_form(office, "/secretariat/jurys/nouvelle", {"date": "2027-06-15", "capacity": "12",
                                                                  "location": "Paris", "member_ids": [juror_id]})
    assert created.status_code == 302
    session_url = created.headers["Location"]
    session_id = int(session_url.rsplit("/", 1)[1])

    # the company registers the file to it
    register_url = f"/entreprise/dossiers/{file_id}/jury"
    form = company.get(register_url)
    assert "15/06/2027" in text(form) and "25/05/2027" in text(form)
    done = submit_form(company, register_url, {"jury_session_id": str(session_id)}, follow_redirects=True)
    assert "Dossier inscrit au jury du 15/06/2027" in text(done)

    # the juror reads the file and prints the booklet
    assert "15 juin 2027" in text(juror.get("/jury/sessions"))
    assert holder.full_name in text(juror.get(f"/jury/sessions/{session_id}"))
    assert juror.get(f"/jury/sessions/{session_id}/livret.pdf").data.startswith(b"%PDF")

    # on the jury day the secretariat records the decision on the session screen, then publishes
    today_is("2027-06-15")
    decisions_url = f"/secretariat/jurys/{session_id}/decisions"
    screen = text(office.get(decisions_url))
    assert "Reste à décider : 1 dossier sur 1" in screen
    boxes = set(re.findall(rf'name="(f{file_id}-c_\d+)"', screen))
    assert len(boxes) == 2
    saved = submit_form(office, f"{decisions_url}/{file_id}", {name: "validee" for name in boxes},
                        form_url=decisions_url, follow_redirects=True)
    assert "Validé" in text(saved) and "Toutes les décisions sont saisies" in text(saved)
    assert "Inscription au jury" in text(company.get(register_url))  # not published yet

    # R14: without the attendance of a paritaire jury the publication is refused, and the page says why
    assert "pas complète (collège des salariés : 0 membre présent sur 2 requis" in text(office.get(session_url))
    second = make_user("jury", email="jure2@syndicat.fr")
    employers = [make_user("jury", email=f"employeur{n}@branche.fr") for n in range(2)]
    sheet = {f"college-{juror_id}": "salaries", f"present-{juror_id}": "1", "president": juror_id,
             f"college-{second.id}": "salaries", f"present-{second.id}": "1"}
    for employer in employers:
        sheet |= {f"college-{employer.id}": "employeurs", f"present-{employer.id}": "1"}
    recorded = submit_form(office, f"{session_url}/presence", sheet, follow_redirects=True)
    assert "Feuille de présence enregistrée" in text(recorded)
    assert office.get(f"/jury/sessions/{session_id}/proces-verbal.pdf").data.startswith(b"%PDF")

    mailbox.clear()
    published = submit_form(office, f"{session_url}/publier", {}, form_url=session_url, follow_redirects=True)
    assert "Résultats publiés" in text(published)

    # the company gets the email, follows its link to the parchment
    email = mailbox.last_to("rh@chimie-web.fr")
    assert holder.full_name in mailbox.text_of(email) and "Validé" in mailbox.text_of(email)
    link = [u for u in mailbox.links_in(email) if u.endswith("parchemin.pdf")][0]
    parchment = company.get(link[len(BASE):])
    assert parchment.status_code == 200 and parchment.mimetype == "application/pdf"
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(parchment.data)).pages)
    assert "Certificat de Qualification Professionnelle" in pdf_text and holder.last_name.upper() in pdf_text

    # the secretariat prints the whole session and marks it sent
    batch = submit_form(office, f"{session_url}/parchemins.pdf", {}, form_url=session_url)
    assert batch.status_code == 200 and batch.data.startswith(b"%PDF")
    action = re.search(r'action="([^"]+/envoye)"', text(office.get(session_url))).group(1)
    submit_form(office, action, {}, form_url=session_url)
    assert "Envoyé le" in text(office.get(session_url))

    # anyone checks the number printed on the parchment, without logging in
    verify_url = re.search(r"http://certifia\.test/verifier/\S+", pdf_text).group(0)
    page = visitor.get(verify_url[len(BASE):])
    assert page.status_code == 200 and "Numéro authentique" in text(page)
    assert f"{holder.first_name} {holder.last_name[0]}." in text(page) and holder.last_name not in text(page)

    db.session.expire_all()
    assert db.session.get(CandidateFile, file_id).status == "valide"
    assert db.session.get(JurySession, session_id).published_at is not None
