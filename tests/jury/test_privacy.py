"""Personal data (RGPD): every read of a candidate's data audited (who, when, which page) in one INSERT and
listed by GET /audit; the export of everything held on a person; the erasure with a reason, which keeps what an
issued parchment needs and says so; the birth date shown only to the roles that need it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import event, func, select

import app.models  # noqa: F401  (every model mapped before the jury modules inspect them)
from app.accounts.models import Role
from app.core.models import AuditEntry, AuditEntryCandidate, OutboxEmail
from app.core.uploads import upload_dir
from app.extensions import db
from app.files import services
from app.files.models import Candidate, CandidateFile, Document, FileStatus
from app.jury import decisions, privacy
from app.jury.models import ParchmentVersion
from tests import factories
from tests.conftest import csrf_token
from tests.files.conftest import PDF, upload
from tests.jury.helpers import decide, make_file

JURY_DAY = date(2027, 6, 15)


def _reads(candidate_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.candidate_id == candidate_id,
                                                           AuditEntry.action == "personal_data.read")
                                   .order_by(AuditEntry.id)))


@pytest.fixture
def company(app_ctx):
    return factories.make_user(Role.ENTREPRISE)


@pytest.fixture
def published(secretariat, today_is):
    """A valide file of a published session (its parchment issued), and an open file of the same person."""
    today_is("2027-05-01")
    jury_session = factories.make_session(on=JURY_DAY)
    today_is(JURY_DAY)
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, True)
    decisions.publish_session(jury_session, secretariat)
    db.session.commit()
    other = make_file(FileStatus.EN_COURS_INSCRIPTION, candidate=file.candidate, cqp_code="FAB-CEF")
    return file, other


# ---------------------------------------------------------------- reads audited


def test_the_candidate_page_and_the_file_page_are_audited_with_who_and_which_page(company, client, login_as):
    file = make_file(establishment=company.establishment)
    login_as(company)
    assert client.get(f"/entreprise/candidats/{file.candidate_id}").status_code == 200
    assert client.get(f"/dossiers/{file.id}").status_code == 200
    reads = _reads(file.candidate_id)
    assert [(r.actor_id, r.page, r.details["what"]) for r in reads] == [
        (company.id, f"GET /entreprise/candidats/{file.candidate_id}", "fiche du candidat"),
        (company.id, f"GET /dossiers/{file.id}", "dossier")]
    assert all(r.ip == "127.0.0.1" and r.at is not None for r in reads)


def test_a_refused_read_writes_nothing(company, client, login_as):
    file = make_file()  # another establishment's
    login_as(company)
    assert client.get(f"/dossiers/{file.id}").status_code == 404
    assert _reads(file.candidate_id) == []


def test_a_read_is_one_insert_and_no_select(company, app):
    from app.core import audit

    file = make_file(establishment=company.establishment)
    candidate_id, actor = file.candidate_id, db.session.get(type(company), company.id)  # loaded before counting
    statements: list[str] = []

    def log(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    engine = db.engine
    event.listen(engine, "before_cursor_execute", log)
    try:
        with app.test_request_context(f"/dossiers/{file.id}"):
            audit.record_read("dossier", candidate_id, actor=actor)
            db.session.flush()
    finally:
        event.remove(engine, "before_cursor_execute", log)
    assert statements == ["INSERT"]


def test_api_reads_and_document_downloads_are_audited(company, api_as):
    file = make_file(establishment=company.establishment)
    document = services.upload_document(company, kind="diplome", upload=upload(PDF, name="d.pdf"),
                                        candidate=file.candidate, file=file)
    db.session.commit()
    api = api_as(company)
    assert api.get(f"/candidates/{file.candidate_id}").status_code == 200
    assert api.get(f"/files/{file.id}").status_code == 200
    assert api.get("/files").status_code == 200
    assert api.get(f"/files/{file.id}/documents/{document.id}").status_code == 200
    db.session.expire_all()
    assert [r.details["what"] for r in _reads(file.candidate_id)] == [
        "GET /api/v1/candidates/{id}", "GET /api/v1/files/{id}", "GET /api/v1/files", "pièce « d.pdf »"]


def test_the_jury_booklet_audits_every_candidate_it_names(published, secretariat, client, login_as):
    file, _ = published
    login_as(secretariat)
    answer = client.get(f"/jury/sessions/{file.jury_session_id}/livret.pdf")
    assert answer.status_code == 200
    assert [r.details["what"] for r in _reads(file.candidate_id)] == ["livret du jury"]


def test_get_audit_lists_reads_and_changes_for_the_secretariat_only(company, secretariat, api_as, client, login_as):
    file = make_file(establishment=company.establishment)
    login_as(company)
    client.get(f"/dossiers/{file.id}")
    answer = api_as(secretariat).get(f"/audit?candidate_id={file.candidate_id}")
    assert answer.status_code == 200
    [entry] = answer.json
    assert entry["user_email"] == company.email and entry["what"] == "dossier"
    assert entry["page"] == f"GET /dossiers/{file.id}" and entry["at"].endswith("+00:00")
    assert api_as(company).get(f"/audit?candidate_id={file.candidate_id}").status_code == 403
    missing = api_as(secretariat).get("/audit")
    assert missing.status_code == 422 and "candidate_id" in missing.json["errors"]


def test_changes_to_a_candidate_are_listed_with_the_reads(company, api_as):
    file = make_file(establishment=company.establishment)
    assert api_as(company).patch(f"/candidates/{file.candidate_id}", json={"job_title": "Opérateur"}).status_code == 200
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.candidate_id == file.candidate_id))]
    assert "candidate.update" in actions


# ---------------------------------------------------------------- export


def test_the_export_holds_everything_on_the_person(published, secretariat, api_as):
    file, other = published
    services.upload_document(factories.make_user(Role.ENTREPRISE, establishment=other.establishment),
                             kind="diplome", upload=upload(PDF, name="diplome.pdf"), candidate=other.candidate,
                             file=other)
    db.session.commit()
    answer = api_as(secretariat).get(f"/candidates/{file.candidate_id}/export")
    assert answer.status_code == 200, answer.json
    data = answer.json
    candidate = file.candidate
    assert data["identity"]["last_name"] == candidate.last_name
    assert data["identity"]["birth_date"] == candidate.birth_date.isoformat()
    assert {f["id"] for f in data["files"]} == {file.id, other.id}
    decided = next(f for f in data["files"] if f["id"] == file.id)
    assert decided["decision"]["status"] == "valide" and decided["parchment"]["number"] == file.parchment.number
    assert decided["evaluation"]["results"] and decided["history"]
    assert "diplome.pdf" in [d["filename"] for d in data["documents"]]
    assert any(e["action"] == "decision.record" or e["action"].startswith("file.") or e["action"]
               for e in data["audit"])
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "candidate.export", AuditEntry.candidate_id == candidate.id)) == 1


def test_the_export_is_secretariat_only(company, api_as):
    file = make_file(establishment=company.establishment)
    assert api_as(company).get(f"/candidates/{file.candidate_id}/export").status_code == 403


# ---------------------------------------------------------------- erasure


def test_erasure_needs_a_reason(published, secretariat, api_as):
    file, other = published
    for body in ({}, {"reason": "  "}):
        answer = api_as(secretariat).post(f"/candidates/{file.candidate_id}/erase", json=body)
        assert answer.status_code == 422 and "reason" in answer.json["errors"]
    db.session.expire_all()
    assert db.session.get(Candidate, file.candidate_id).erased_at is None
    assert db.session.get(CandidateFile, other.id).status == FileStatus.EN_COURS_INSCRIPTION


def test_erasure_withdraws_open_files_deletes_scans_and_keeps_the_issued_parchment(published, secretariat, api_as,
                                                                                  client):
    file, other = published
    candidate = file.candidate
    holder_before = file.parchment.current_version.holder
    number = file.parchment.number
    company = factories.make_user(Role.ENTREPRISE, establishment=other.establishment)
    document = services.upload_document(company, kind="diplome", upload=upload(PDF, name="diplome.pdf"),
                                        candidate=candidate, file=other)
    db.session.commit()
    stored = upload_dir() / document.stored_name
    assert stored.is_file()
    held = db.session.scalar(select(func.count(Document.id)).where(Document.candidate_id == candidate.id))

    answer = api_as(secretariat).post(f"/candidates/{candidate.id}/erase", json={"reason": "Demande de la personne"})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["withdrawn_files"] == [other.id] and body["documents_deleted"] == held >= 1
    assert [k["parchment_number"] for k in body["kept"]] == [number] and "registre" in body["kept"][0]["kept"]

    db.session.expire_all()
    erased = db.session.get(Candidate, candidate.id)
    assert erased.erased_at is not None and erased.first_name == "Personne" and erased.email is None
    assert erased.birth_date == date(1900, 1, 1) and erased.birth_place_code is None
    assert db.session.get(CandidateFile, other.id).status == FileStatus.ABANDONNE
    assert "Demande de la personne" in db.session.get(CandidateFile, other.id).withdraw_reason
    assert db.session.scalar(select(func.count(Document.id)).where(Document.candidate_id == candidate.id)) == 0
    assert not stored.exists()  # removed with the commit
    # The issued record stays as frozen: /verify still answers the holder as printed.
    version = db.session.scalars(select(ParchmentVersion).order_by(ParchmentVersion.id.desc())).first()
    assert version.holder == holder_before
    verified = client.get(f"/api/v1/verify/{number}")
    assert verified.status_code == 200 and verified.json["holder"].startswith(holder_before["first_name"])
    # Twice: 409, nothing more.
    again = api_as(secretariat).post(f"/candidates/{candidate.id}/erase", json={"reason": "encore"})
    assert again.status_code == 409


def test_erasure_removes_the_emails_about_the_person(company, secretariat, api_as):
    file = make_file(establishment=company.establishment)
    file.candidate.email = "personne@exemple.fr"
    from app.core.mail import queue_email

    queue_email("test", "personne@exemple.fr", "Bonjour Jean", "account_invitation", user=company, link="x", days=1)
    db.session.commit()
    assert api_as(secretariat).post(f"/candidates/{file.candidate_id}/erase", json={"reason": "Demande"}).status_code \
        == 200
    db.session.expire_all()
    assert db.session.scalar(select(func.count(OutboxEmail.id)).where(
        OutboxEmail.recipients == "personne@exemple.fr")) == 0  # pending: never sent


def test_the_secretariat_page_erases_after_confirmation_and_exports(published, secretariat, client, login_as):
    file, _ = published
    login_as(secretariat)
    page = f"/secretariat/candidats/{file.candidate_id}/donnees-personnelles"
    shown = client.get(page)
    assert shown.status_code == 200 and "Journal des accès" in shown.get_data(as_text=True)
    exported = client.get(f"{page}/export.json")
    assert exported.status_code == 200 and json.loads(exported.data)["id"] == file.candidate_id
    unconfirmed = client.post(page, data={"csrf_token": csrf_token(client, page), "reason": "Demande"})
    assert unconfirmed.status_code == 422 and "Cochez la confirmation" in unconfirmed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Candidate, file.candidate_id).erased_at is None
    done = client.post(page, data={"csrf_token": csrf_token(client, page), "reason": "Demande", "confirm": "y"},
                       follow_redirects=True)
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "Les données personnelles sont effacées" in text
    assert file.parchment.number in text
    db.session.expire_all()
    assert db.session.get(Candidate, file.candidate_id).erased_at is not None


@pytest.mark.parametrize("role", [Role.ENTREPRISE, Role.EVALUATEUR, Role.JURY, Role.PARTENAIRE])
def test_the_personal_data_page_of_a_candidate_is_secretariat_only(app_ctx, client, login_as, role):
    file = make_file()
    login_as(factories.make_user(role))
    assert client.get(f"/secretariat/candidats/{file.candidate_id}/donnees-personnelles").status_code == 403


# ---------------------------------------------------------------- minimisation: the birth date


def test_the_birth_date_is_shown_to_the_company_and_hidden_from_the_assessor(company, client, login_as):
    assessor = factories.make_assessor()
    file = make_file(FileStatus.EN_ATTENTE_EVALUATION, establishment=company.establishment, assessor=assessor)
    born = file.candidate.birth_date.strftime("%Y")
    login_as(company)
    assert born in client.get(f"/dossiers/{file.id}").get_data(as_text=True)
    client.post("/deconnexion", data={"csrf_token": csrf_token(client, "/mon-compte")})
    login_as(assessor.user)
    page = client.get(f"/dossiers/{file.id}")
    assert page.status_code == 200 and file.candidate.full_name in page.get_data(as_text=True)
    assert born not in page.get_data(as_text=True)


@pytest.mark.parametrize("shows", [False, True])
def test_the_jury_page_shows_the_birth_date_as_the_branch_decides(published, app, client, login_as, shows):
    file, _ = published
    member = factories.make_user(Role.JURY)
    factories.sit_on(file.jury_session, member)
    app.config["JURY_BOOKLET_SHOWS_BIRTH_DATE"] = shows
    try:
        login_as(member)
        page = client.get(f"/jury/sessions/{file.jury_session_id}")
        assert page.status_code == 200
        assert ("date de naissance" in page.get_data(as_text=True)) is shows
    finally:
        app.config["JURY_BOOKLET_SHOWS_BIRTH_DATE"] = False


def test_the_personal_data_page_is_public_and_states_the_configured_durations(app, client):
    app.config["RETENTION_CLOSED_FILE_MONTHS"] = 84
    try:
        page = client.get("/donnees-personnelles")
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and "7 ans" in text and "Vos droits" in text and "1 an" in text
        assert 'href="/donnees-personnelles"' in client.get("/connexion").get_data(as_text=True)
    finally:
        app.config["RETENTION_CLOSED_FILE_MONTHS"] = 60


def test_an_export_of_the_file_list_audits_every_person_it_names_in_one_entry(secretariat, client, login_as):
    """A bulk read is ONE audit entry (the number of people and the filters in its details) plus one narrow
    audit_log_candidates row per person, written by one INSERT … SELECT: never a row per person in audit_log."""
    first, second = make_file(), make_file()
    other_of_first = make_file(candidate=first.candidate, cqp_code="FAB-CEF")
    unlisted = make_file(FileStatus.ABANDONNE)
    login_as(secretariat)
    statements: list[str] = []

    def log(conn, cursor, statement, *args):
        if "audit_log" in statement:
            statements.append(" ".join(statement.split()[:3]).upper())

    event.listen(db.engine, "before_cursor_execute", log)
    try:
        answer = client.get("/statistiques/dossiers/export.csv?status=en_cours_inscription")
    finally:
        event.remove(db.engine, "before_cursor_execute", log)
    assert answer.status_code == 200 and answer.get_data()
    assert statements == ["INSERT INTO AUDIT_LOG", "INSERT INTO AUDIT_LOG_CANDIDATES", "UPDATE AUDIT_LOG SET"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "personal_data.read")).all()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.candidate_id is None and entry.actor_id == secretariat.id
    assert entry.page == "GET /statistiques/dossiers/export.csv"
    assert entry.details == {"what": "export de la liste des dossiers (csv)", "count": 2,
                             "filters": {"status": "en_cours_inscription"}}
    links = db.session.execute(select(AuditEntryCandidate.candidate_id, AuditEntryCandidate.audit_id)).all()
    assert sorted(links) == sorted([(first.candidate_id, entry.id), (second.candidate_id, entry.id)])
    assert other_of_first.candidate_id == first.candidate_id
    for file in (first, second):
        listed = privacy.audit_entries(file.candidate_id)
        assert [(e.id, e.details["what"]) for e in listed] == [(entry.id, "export de la liste des dossiers (csv)")]
    assert privacy.audit_entries(unlisted.candidate_id) == []


def test_the_persons_export_and_get_audit_list_the_bulk_read_with_their_own_entries(secretariat, client, login_as,
                                                                                  api_as):
    file, other = make_file(), make_file()
    login_as(secretariat)
    assert client.get("/statistiques/dossiers/export.csv").status_code == 200
    api = api_as(secretariat)
    assert api.get(f"/files/{file.id}").status_code == 200  # a read of this person alone, after the export
    db.session.commit()
    answer = api.get(f"/audit?candidate_id={file.candidate_id}")
    assert answer.status_code == 200
    listed = [(e["action"], e["what"], e["page"]) for e in answer.json]
    assert ("personal_data.read", "export de la liste des dossiers (csv)",
            "GET /statistiques/dossiers/export.csv") in listed
    assert listed[-1][1] == "export de la liste des dossiers (csv)"  # newest first: the export is the oldest
    bulk = next(e for e in answer.json if e["what"] == "export de la liste des dossiers (csv)")
    assert bulk["user_email"] == secretariat.email and bulk["details"]["count"] == 2
    exported = api.get(f"/candidates/{other.candidate_id}/export").json
    assert [a["what"] for a in exported["audit"]] == ["export de la liste des dossiers (csv)"]
    page = client.get(f"/secretariat/candidats/{other.candidate_id}/donnees-personnelles")
    assert page.status_code == 200
    assert "Lecture : export de la liste des dossiers (csv)" in page.get_data(as_text=True)


def test_the_file_thread_is_exported_then_erased_with_its_attachment(company, secretariat, api_as):
    from app.files import exchanges
    from app.files.exchange_models import FileMessage

    file = make_file(establishment=company.establishment)
    message = exchanges.post_message(file, company, body="Zoé sera absente le 12", upload=upload(PDF, name="arret.pdf"))
    db.session.commit()
    stored = upload_dir() / message.attachment_stored_name
    exported = api_as(secretariat).get(f"/candidates/{file.candidate_id}/export").json
    assert [(m["body"], m["attachment"]) for m in exported["messages"]] == [("Zoé sera absente le 12", "arret.pdf")]
    assert api_as(secretariat).post(f"/candidates/{file.candidate_id}/erase", json={"reason": "Demande"}).status_code \
        == 200
    db.session.expire_all()
    erased = db.session.get(FileMessage, message.id)
    assert erased.body == "[effacé]" and erased.attachment_stored_name is None and not stored.exists()
