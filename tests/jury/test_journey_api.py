"""The whole journey through the API, from an empty database to a verified parchment: establishment,
assessor, candidate, file, confirmation, job assessor (link taken from the email), evaluation, guide,
submission, jury session, registration, decision, publication, parchment PDF, public verification."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from app.extensions import db
from tests.factories import make_user, valid_siret

BASE = "http://certifia.test"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def ok(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:800])
    return response.json


def test_from_an_empty_database_to_a_verified_parchment(app, app_ctx, api_as, mailbox, today_is):
    today_is("2027-03-01")
    secretariat = make_user("secretariat")
    office = api_as(secretariat)

    siret = valid_siret(777)
    ok(office.post("/establishments", json={"siret": siret, "name": "Chimie du Rhône",
                                            "contact_email": "contact@chimie-rhone.fr"}), 201)
    from app.accounts.services import find_establishment

    company_user = make_user("entreprise", establishment=find_establishment(siret), email="rh@chimie-rhone.fr")
    company = api_as(company_user)
    assessor = ok(office.post("/assessors", json={"email": "eva@evaluateurs.fr", "first_name": "Éva",
                                                  "last_name": "Luatrice", "habilitation_until": "2028-12-31"}), 201)
    from app.accounts.services import find_user_by_email

    evaluator = api_as(find_user_by_email("eva@evaluateurs.fr"))

    candidate = ok(company.post("/candidates", json={"first_name": "Zoé", "last_name": "Lefèvre",
                                                     "birth_date": "1992-06-15"}), 201)
    file = ok(company.post("/files", json={
        "candidate_id": candidate["id"], "cqp_code": "FAB-OPF", "competence_codes": ["C1", "C2"],
        "training_path": "formation", "training_scheme": "contrat_professionnalisation",
        "assessor_id": assessor["id"], "interview_date": "2027-03-10"}), 201)
    file_id = file["id"]
    assert ok(company.post(f"/files/{file_id}/confirm-assessor", json={}))["status"] == "en_attente_evaluation"

    ok(evaluator.post(f"/files/{file_id}/job-assessor-invitations",
                      json={"email": "jules@chimie-rhone.fr", "first_name": "Jules", "last_name": "Collègue"}), 201)
    link = [u for u in mailbox.links_in(mailbox.last_to("jules@chimie-rhone.fr")) if "/invitations/" in u][0]
    token = link.rsplit("/", 1)[1]
    today_is("2027-03-10")  # R5b: the job assessor answers from the interview day
    ok(api_as(None).post(f"/invitations/{token}/observations", json={
        "observations": [{"competence_code": "C1", "comment": "Rigoureuse."},
                         {"competence_code": "C2", "comment": "Autonome."}]}))

    ok(evaluator.put(f"/files/{file_id}/evaluation", json={
        "interview_date": "2027-03-10", "candidate_observations": "Entretien utile.",
        "results": [{"competence_code": "C1", "acquired": True, "comment": "Maîtrisé."},
                    {"competence_code": "C2", "acquired": True, "comment": "Acquis."}]}))
    ok(evaluator.post(f"/files/{file_id}/documents", data={"kind": "guide_evaluation",
                                                           "file": (io.BytesIO(PDF), "guide.pdf")},
                      content_type="multipart/form-data"), 201)
    assert ok(evaluator.post(f"/files/{file_id}/submit-evaluation"))["status"] == "validation_evaluation"

    jury_session = ok(office.post("/jury-sessions", json={"date": "2027-06-15", "capacity": 10, "location": "Paris"}),
                 201)
    assert jury_session["registration_deadline"] == "2027-05-25"
    registered = ok(company.post(f"/files/{file_id}/register-jury", json={"jury_session_id": jury_session["id"]}))
    assert registered["status"] == "inscription_jury" and registered["rolled_over"] is False
    assert registered["jury_session"] == {"id": jury_session["id"], "date": "2027-06-15"}

    today_is("2027-06-15")
    decided = ok(office.post(f"/files/{file_id}/decision", json={
        "results": [{"competence_code": "C1", "validated": True}, {"competence_code": "C2", "validated": True}]}))
    assert decided["status"] == "valide"
    number = decided["decision"]["parchment_number"]
    assert re.fullmatch(r"CQP-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", number)
    assert ok(company.get(f"/files/{file_id}"))["decision"] is None
    assert api_as(None).get(f"/verify/{number}").status_code == 404

    today_is("2027-06-16")
    # R14: the attendance of a paritaire jury, with its president, before publication
    jurors = [make_user("jury", email=f"jure{n}@branche.fr") for n in range(4)]
    recorded = ok(office.put(f"/jury-sessions/{jury_session['id']}/attendance", json={"members": [
        {"email": j.email, "college": "salaries" if n < 2 else "employeurs", "present": True, "president": n == 0}
        for n, j in enumerate(jurors)]}))
    assert recorded["attendance_missing"] == [] and len(recorded["attendance"]) == 4
    mailbox.clear()
    ok(office.post(f"/jury-sessions/{jury_session['id']}/publish"))
    results_email = mailbox.text_of(mailbox.last_to("rh@chimie-rhone.fr"))
    assert "Zoé Lefèvre" in results_email and "Validé" in results_email
    seen = ok(company.get(f"/files/{file_id}"))
    assert seen["status"] == "valide" and seen["decision"]["parchment_number"] == number

    parchment = company.get(f"/files/{file_id}/parchment.pdf")
    assert parchment.status_code == 200 and parchment.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(parchment.data)).pages)
    assert "Zoé LEFÈVRE" in text and number in text
    verify_url = re.search(r"http://certifia\.test/verifier/\S+", text).group(0)
    assert verify_url == f"{BASE}/verifier/{number}"

    verified = ok(api_as(None).get(f"/verify/{number}"))
    assert verified == {"number": number, "kind": "parchemin", "cqp_code": "FAB-OPF", "cqp_title": verified["cqp_title"],
                        "holder": "Zoé L.", "decision": "valide", "jury_date": "2027-06-15",
                        "competences_validated": ["C1", "C2"], "version": 1, "issued_at": verified["issued_at"]}
    db.session.rollback()
