"""The files API (docs/api.md): the journey with Bearer tokens and emails over SMTP, the file's shape,
bad input, and access (another establishment's / assessor's file is a 404)."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.files.models import Document, FileStatus
from app.jury.models import jury_members
from tests import factories
from tests.files.conftest import EXE, INTERVIEW, PDF, PNG

FILE_KEYS = {"id", "status", "status_label", "candidate", "establishment", "cqp", "competences", "assessor",
             "interview_date", "jury_session", "rolled_over", "decision", "history"}


@pytest.fixture
def world(app_ctx, today_is):
    today_is("2027-03-01")
    establishment = factories.make_establishment(contact_email="contact@api-chimie.fr")
    return {
        "company": factories.make_user(Role.ENTREPRISE, establishment=establishment, email="rh@api-chimie.fr"),
        "assessor": factories.make_assessor(until=date(2028, 1, 1), email="eva@api-evaluateurs.fr"),
    }


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.json


def upload(api, file_id: int, kind: str, data: bytes, name: str):
    return api.post(f"/files/{file_id}/documents", data={"kind": kind, "file": (BytesIO(data), name)},
                    content_type="multipart/form-data")


def test_the_journey_through_the_api(world, api_as, mailbox, today_is, app):
    company_api, assessor_api = api_as(world["company"]), api_as(world["assessor"].user)
    candidate = company_api.post("/candidates", json={"first_name": "Inès", "last_name": "Girard",
                                                      "birth_date": "1988-11-30", "email": "ines@perso.fr"})
    assert candidate.status_code == 201 and isinstance(candidate.json["id"], int)
    duplicate = company_api.post("/candidates", json={"first_name": "INES", "last_name": "girard",
                                                      "birth_date": "1988-11-30"})
    assert "existe déjà" in problem_of(duplicate, 409)["detail"]
    assert company_api.get(f"/candidates/{candidate.json['id']}").json["last_name"] == "Girard"

    created = company_api.post("/files", json={
        "candidate_id": candidate.json["id"], "cqp_code": "FAB-OPF", "competence_codes": ["C1", "C2"],
        "training_path": "formation", "training_scheme": "vae", "interview_date": INTERVIEW.isoformat()})
    assert created.status_code == 201, created.json
    file = created.json
    assert FILE_KEYS <= set(file) and file["status"] == "en_cours_inscription"
    assert file["status_label"] == "En cours d'inscription" and file["assessor"] is None
    assert [c["code"] for c in file["competences"]] == ["C1", "C2"]
    patched = company_api.patch(f"/files/{file['id']}", json={"assessor_id": world["assessor"].id})
    assert patched.status_code == 200 and patched.json["assessor"]["id"] == world["assessor"].id
    form = upload(company_api, file["id"], "dossier_candidature", PNG, "outil6.png")
    assert form.status_code == 201
    assert form.json["kind"] == "dossier_candidature" and form.json["filename"] == "outil6.png"
    assert form.json["size"] == len(PNG)

    confirmed = company_api.post(f"/files/{file['id']}/confirm-assessor", json={})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "en_attente_evaluation"
    assert confirmed.json["history"][0]["event"] == "confirm_assessor"
    assert confirmed.json["history"][0]["by"] == world["company"].full_name
    assert mailbox.last_to("eva@api-evaluateurs.fr")
    late_patch = company_api.patch(f"/files/{file['id']}", json={"training_scheme": "autre"})
    assert "« En attente d'évaluation »" in problem_of(late_patch, 409)["detail"]

    early = assessor_api.post(f"/files/{file['id']}/submit-evaluation")
    assert "L'évaluateur métier n'a pas été invité." in problem_of(early, 422)["detail"]
    invited = assessor_api.post(f"/files/{file['id']}/job-assessor-invitations",
                                json={"email": "paul@api-chimie.fr", "first_name": "Paul", "last_name": "Métier"})
    assert invited.status_code == 201
    (link,) = [u for u in mailbox.links_in(mailbox.last_to("paul@api-chimie.fr")) if "/invitations/" in u]
    token = link.rsplit("/", 1)[1]

    evaluation = {"interview_date": INTERVIEW.isoformat(), "candidate_observations": "Content.",
                  "results": [{"competence_code": "C1", "acquired": True, "comment": "Oui."},
                              {"competence_code": "C2", "acquired": False, "comment": "Pas encore."}]}
    refused = assessor_api.put(f"/files/{file['id']}/evaluation", json=evaluation)
    assert "ouvre le jour de l'entretien" in problem_of(refused, 422)["detail"]
    today_is(INTERVIEW.isoformat())  # the interview day: results and observations (R5, R5b)
    anonymous = api_as(None)
    observations = {"observations": [{"competence_code": "C1", "comment": "Sûr."},
                                     {"competence_code": "C2", "comment": "Précis."}]}
    assert anonymous.post(f"/invitations/{token}/observations", json=observations).status_code == 200
    assert "déjà" in problem_of(anonymous.post(f"/invitations/{token}/observations", json=observations), 410)["detail"]
    mailbox.clear()
    saved = assessor_api.put(f"/files/{file['id']}/evaluation", json=evaluation)
    assert saved.status_code == 200 and saved.json["results"][1] == {"competence_code": "C2", "acquired": False,
                                                                    "comment": "Pas encore."}
    assert mailbox.to("rh@api-chimie.fr") and mailbox.to("contact@api-chimie.fr")  # R4
    disguised = upload(assessor_api, file["id"], "guide_evaluation", EXE, "guide.pdf")
    assert problem_of(disguised, 422)["errors"]["file"]
    assert upload(assessor_api, file["id"], "guide_evaluation", PDF, "guide.pdf").status_code == 201
    submitted = assessor_api.post(f"/files/{file['id']}/submit-evaluation")
    assert submitted.status_code == 200 and submitted.json["status"] == "validation_evaluation"

    listing = company_api.get("/files?status=validation_evaluation&cqp=FAB-OPF&page=1&per_page=5")
    assert listing.json["total"] == 1 and listing.json["page"] == 1 and listing.json["per_page"] == 5
    assert listing.json["items"][0]["id"] == file["id"]
    assert company_api.get("/files?status=en_cours_inscription").json["total"] == 0
    document = db.session.query(Document).filter_by(kind="guide_evaluation").one()
    served = company_api.get(f"/files/{file['id']}/documents/{document.id}")
    assert served.status_code == 200 and served.data == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_withdraw_through_the_api(world, api_as):
    file = factories.make_file(establishment=world["company"].establishment, assessor=world["assessor"])
    company_api = api_as(world["company"])
    assert "motif" in problem_of(company_api.post(f"/files/{file.id}/withdraw", json={"reason": " "}), 422)["detail"]
    done = company_api.post(f"/files/{file.id}/withdraw", json={"reason": "Démission"})
    assert done.status_code == 200 and done.json["status"] == "abandonne"
    assert done.json["history"][-1]["event"] == "withdraw"
    again = company_api.post(f"/files/{file.id}/withdraw", json={"reason": "Démission"})
    assert "« Abandonné »" in problem_of(again, 409)["detail"]


@pytest.mark.parametrize("body,field", [
    ({"competence_codes": ["C1", "C42"]}, "competence_codes"),
    ({"cqp_code": "NOPE"}, "cqp_code"),
    ({"interview_date": "12/03/2027"}, "interview_date"),
    ({"training_path": "par-correspondance"}, "training_path"),
    ({"training_org_siret": "12345678901234"}, "training_org_siret"),
    ({"competence_codes": "C1"}, "competence_codes"),
    ({"candidate_id": None}, "candidate_id"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_file_input_is_422_naming_the_field(world, api_as, body, field):
    candidate = factories.make_candidate(world["company"].establishment)
    data = {"candidate_id": candidate.id, "cqp_code": "FAB-OPF", "competence_codes": ["C1"],
            "training_path": "formation", "training_scheme": "vae", **body}
    refused = problem_of(api_as(world["company"]).post("/files", json=data), 422)
    assert field in refused["errors"], refused


def test_an_assessor_whose_habilitation_ended_is_refused(world, api_as):
    candidate = factories.make_candidate(world["company"].establishment)
    expired = factories.make_assessor(until=date(2027, 2, 28))
    refused = api_as(world["company"]).post("/files", json={
        "candidate_id": candidate.id, "cqp_code": "FAB-OPF", "competence_codes": ["C1"], "training_path": "formation",
        "training_scheme": "vae", "assessor_id": expired.id})
    assert "a pris fin le 28/02/2027" in problem_of(refused, 422)["detail"]


def test_malformed_requests(world, api_as):
    company_api = api_as(world["company"])
    assert problem_of(company_api.post("/files", data="{pas du json", content_type="application/json"), 400)
    assert problem_of(company_api.post("/candidates", json={"first_name": "A", "last_name": "B",
                                                            "birth_date": "1990-02-30"}), 422)["errors"]
    assert problem_of(company_api.get("/files?per_page=0"), 422)
    assert problem_of(company_api.get("/files?status=perdu"), 422)
    file = factories.make_file(establishment=world["company"].establishment, assessor=world["assessor"])
    no_file = company_api.post(f"/files/{file.id}/documents", data={"kind": "diplome"},
                               content_type="multipart/form-data")
    assert problem_of(no_file, 422)["errors"]["file"]
    bad_kind = upload(company_api, file.id, "photo", PDF, "x.pdf")
    assert problem_of(bad_kind, 422)["errors"]["kind"]
    assert problem_of(api_as(None).post("/invitations/inconnu/observations", json={"observations": []}), 404)


def test_an_unpublished_decision_is_hidden_from_the_company(world, api_as, app):
    session = factories.make_session(on=date(2027, 1, 15))
    file = factories.make_file(FileStatus.VALIDE, establishment=world["company"].establishment,
                               assessor=world["assessor"], session=session)
    shown = api_as(world["company"]).get(f"/files/{file.id}").json
    assert shown["status"] == "inscription_jury" and shown["decision"] is None
    assert shown["jury_session"] == {"id": session.id, "date": "2027-01-15"}
    secretariat_view = api_as(factories.make_user(Role.SECRETARIAT)).get(f"/files/{file.id}").json
    assert secretariat_view["status"] == "valide"


def test_filtering_on_a_decision_does_not_reveal_it_before_publication(world, api_as, login_as):
    """R10: the company's list filtered on « validé » must not single out a file whose decision is unpublished;
    it is listed under « inscription au jury », as it is shown; the secretariat filters on the real status."""
    session = factories.make_session(on=date(2027, 1, 15))
    file = factories.make_file(FileStatus.VALIDE, establishment=world["company"].establishment,
                               assessor=world["assessor"], session=session)
    company = api_as(world["company"])
    assert file.id not in [f["id"] for f in company.get("/files?status=valide&per_page=100").json["items"]]
    assert file.id in [f["id"] for f in company.get("/files?status=inscription_jury&per_page=100").json["items"]]
    secretariat = api_as(factories.make_user(Role.SECRETARIAT))
    assert file.id in [f["id"] for f in secretariat.get("/files?status=valide&per_page=100").json["items"]]
    assert file.id not in [f["id"] for f in secretariat.get("/files?status=inscription_jury&per_page=100").json["items"]]
    web = login_as(world["company"])
    assert f"/dossiers/{file.id}\"" not in web.get("/dossiers?status=valide").get_data(as_text=True)
    assert f"/dossiers/{file.id}\"" in web.get("/dossiers?status=inscription_jury").get_data(as_text=True)

    session.published_at = datetime(2027, 1, 16)
    db.session.commit()
    assert file.id in [f["id"] for f in company.get("/files?status=valide&per_page=100").json["items"]]
    assert file.id not in [f["id"] for f in company.get("/files?status=inscription_jury&per_page=100").json["items"]]


# ---------------------------------------------------------------- access: not yours → 404


ENDPOINTS = [
    ("get", "/files/{id}", None, {"entreprise", "evaluateur", "candidat", "secretariat", "jury"}),
    ("patch", "/files/{id}", {"training_scheme": "vae"}, {"entreprise"}),
    ("post", "/files/{id}/documents", "upload", {"entreprise", "candidat", "evaluateur"}),
    ("get", "/files/{id}/documents/{doc}", None, {"entreprise", "evaluateur", "candidat", "secretariat", "jury"}),
    ("post", "/files/{id}/confirm-assessor", {}, {"entreprise"}),
    ("post", "/files/{id}/job-assessor-invitations", {"email": "a@b.fr", "first_name": "A", "last_name": "B"},
     {"evaluateur"}),
    ("put", "/files/{id}/evaluation", {"interview_date": "2027-03-01", "results": []}, {"evaluateur"}),
    ("post", "/files/{id}/submit-evaluation", None, {"evaluateur"}),
    ("post", "/files/{id}/withdraw", {"reason": "x"}, {"entreprise", "secretariat"}),
    ("get", "/candidates/{candidate}", None, {"entreprise", "secretariat", "candidat"}),
]


@pytest.fixture
def someone_elses_file(app_ctx):
    """A file of another establishment, another assessor, another candidate, another jury session."""
    session = factories.make_session()
    file = factories.make_file(FileStatus.INSCRIPTION_JURY, assessor=factories.make_assessor(), session=session)
    candidate_user = factories.make_user(Role.CANDIDAT)
    file.candidate.user_id = candidate_user.id
    document = Document(file=file, candidate=file.candidate, kind="diplome", filename="d.pdf", stored_name="x-doc.pdf",
                        content_type="application/pdf", size=3)
    db.session.add(document)
    db.session.commit()
    return file, document


def outsider(role: str):
    """A user of that role with files of their own, none of them the file under test."""
    if role == "evaluateur":
        return factories.make_assessor().user
    user = factories.make_user(role)
    if role == "jury":
        other_session = factories.make_session()
        db.session.execute(jury_members.insert().values(session_id=other_session.id, user_id=user.id))
        db.session.commit()
    if role == "candidat":
        candidate = factories.make_candidate()
        candidate.user_id = user.id
        db.session.commit()
    return user


def _call(api, method, template, body, file, document):
    url = template.format(id=file.id, doc=document.id, candidate=file.candidate_id)
    if body == "upload":
        return api.post(url, data={"kind": "diplome", "file": (BytesIO(PDF), "d.pdf")},
                        content_type="multipart/form-data")
    return getattr(api, method)(url, json=body) if body is not None else getattr(api, method)(url)


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "candidat", "jury"])
def test_a_file_that_is_not_yours_does_not_exist(someone_elses_file, api_as, role):
    """Every file endpoint tried with one token per role; all mismatches reported at once."""
    file, document = someone_elses_file
    api = api_as(outsider(role))
    wrong = []
    for method, template, body, roles in ENDPOINTS:
        response = _call(api, method, template, body, file, document)
        expected = 404 if role in roles else 403
        if response.status_code != expected:
            wrong.append((method, template, response.status_code, expected))
    assert wrong == []


@pytest.mark.parametrize("who", ["company", "assessor", "candidate", "jury", "secretariat"])
def test_those_linked_to_the_file_see_it(someone_elses_file, api_as, who):
    file, _document = someone_elses_file
    user = {
        "company": lambda: factories.make_user(Role.ENTREPRISE, establishment=file.establishment),
        "assessor": lambda: file.assessor.user,
        "candidate": lambda: db.session.get(factories.User, file.candidate.user_id),
        "secretariat": lambda: factories.make_user(Role.SECRETARIAT),
        "jury": lambda: _member_of(file.jury_session_id),
    }[who]()
    assert api_as(user).get(f"/files/{file.id}").status_code == 200
    listing = api_as(user).get("/files").json
    assert [f["id"] for f in listing["items"]] == [file.id]


def _member_of(session_id):
    user = factories.make_user(Role.JURY)
    db.session.execute(jury_members.insert().values(session_id=session_id, user_id=user.id))
    db.session.commit()
    return user


def test_a_partner_has_no_file_endpoint(app_ctx, api_as):
    assert api_as(factories.make_user(Role.PARTENAIRE)).get("/files").status_code == 403


# ---------------------------------------------------------------- bounded queries


def test_a_page_of_files_runs_the_same_queries_for_3_and_300_files(app_ctx, api_as, today_is):
    """GET /files loads what it shows (candidate, establishment, CQP, competences, assessor, session,
    decision and its results, parchment, history and its actors, evaluation) a relationship at a time."""
    from tests.stats.test_query_counts import STATUSES, add_files, count_queries

    today_is("2026-01-12")
    establishment = factories.make_establishment()
    company = factories.make_user(Role.ENTREPRISE, establishment=establishment)
    session = factories.make_session(on=date(2025, 12, 1), capacity=1000, published_at=datetime(2025, 12, 2))
    world = {"establishment": establishment, "assessor": factories.make_assessor(until=date(2026, 6, 1)),
             "session": session, "actor": company}
    readers = {role: api_as(user) for role, user in (
        ("secretariat", factories.make_user(Role.SECRETARIAT)), ("entreprise", company))}

    def measure() -> dict[str, int]:
        counts = {}
        for role, api in readers.items():
            api.get("/files?per_page=1")  # the token's use noted (at most every 5 minutes: not counted)
            with count_queries() as statements:
                response = api.get("/files?per_page=100")
            assert response.status_code == 200, response.json
            assert response.json["items"][0]["history"][0]["by"] == company.full_name
            counts[role] = len(statements)
        return counts

    # Three files whose lines hold every relationship: a decided one, one being evaluated, a new one.
    add_files(3, statuses=["valide", "en_attente_evaluation", "en_cours_inscription"], **world)
    with_3 = measure()
    add_files(297, offset=3, statuses=STATUSES, **world)
    with_300 = measure()
    assert readers["secretariat"].get("/files?per_page=100").json["total"] == 300
    assert with_300 == with_3
    assert max(with_3.values()) <= 30, with_3
