"""The jury part of the API (docs/api.md): sessions, publish, register-jury, unregister-jury,
decision, parchment.pdf, verify."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.extensions import db
from app.files.models import FileStatus
from app.jury import sessions
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import decide, make_file


@pytest.fixture(autouse=True)
def _today(today_is, app_ctx):
    today_is("2027-05-01")


@pytest.fixture
def secretariat(app_ctx):
    return make_user("secretariat")


@pytest.fixture
def company_file(app_ctx):
    establishment = make_establishment()
    return make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment), \
        make_user("entreprise", establishment=establishment)


def test_secretariat_creates_a_session_and_anyone_lists_them(secretariat, api_as):
    response = api_as(secretariat).post("/jury-sessions", json={"date": "2027-06-15", "capacity": 20,
                                                                "location": "Paris"})
    assert response.status_code == 201
    body = response.json
    assert {k: body[k] for k in ("date", "capacity", "seats_taken", "registration_deadline")} == {
        "date": "2027-06-15", "capacity": 20, "seats_taken": 0, "registration_deadline": "2027-05-25"}
    make_session(on=date(2027, 5, 30))
    listing = api_as(make_user("evaluateur")).get("/jury-sessions")
    assert listing.status_code == 200 and [s["date"] for s in listing.json] == ["2027-05-30", "2027-06-15"]


@pytest.mark.parametrize(("body", "field"), [
    ({"date": "2027-04-01", "capacity": 5}, "date"),
    ({"date": "2027-06-15", "capacity": 0}, "capacity"),
    ({"date": "15/06/2027", "capacity": 5}, "date"),
    ({"capacity": 5}, "date"),
])
def test_bad_session_is_422_naming_the_field(secretariat, api_as, body, field):
    response = api_as(secretariat).post("/jury-sessions", json=body)
    assert response.status_code == 422 and field in response.json["errors"]


def test_only_the_secretariat_creates_sessions(company_file, api_as):
    response = api_as(company_file[1]).post("/jury-sessions", json={"date": "2027-06-15", "capacity": 5})
    assert response.status_code == 403


def test_register_jury_places_the_file_and_says_if_it_was_rolled_over(company_file, api_as):
    file, company = company_file
    full = make_session(on=date(2027, 6, 15), capacity=1, seats_taken=1)
    later = make_session(on=date(2027, 9, 15))
    response = api_as(company).post(f"/files/{file.id}/register-jury", json={"jury_session_id": full.id})
    assert response.status_code == 200
    assert response.json["status"] == "inscription_jury"
    assert response.json["jury_session"] == {"id": later.id, "date": "2027-09-15"}
    assert response.json["rolled_over"] is True


def test_register_jury_without_a_session_takes_the_next_one(company_file, api_as):
    file, company = company_file
    jury_session = make_session(on=date(2027, 6, 15))
    response = api_as(company).post(f"/files/{file.id}/register-jury", json={})
    assert response.status_code == 200 and response.json["jury_session"]["id"] == jury_session.id
    assert response.json["rolled_over"] is False


def test_register_jury_with_an_unknown_session_is_422(company_file, api_as):
    file, company = company_file
    response = api_as(company).post(f"/files/{file.id}/register-jury", json={"jury_session_id": 999999})
    assert response.status_code == 422 and "jury_session_id" in response.json["errors"]


def test_register_jury_in_the_wrong_status_is_409_naming_it(api_as, app_ctx):
    establishment = make_establishment()
    file = make_file(FileStatus.EN_ATTENTE_EVALUATION, establishment=establishment)
    make_session(on=date(2027, 6, 15))
    response = api_as(make_user("entreprise", establishment=establishment)).post(
        f"/files/{file.id}/register-jury", json={})
    assert response.status_code == 409 and "En attente d'évaluation" in response.json["detail"]


def test_register_jury_with_no_seat_anywhere_is_409(company_file, api_as):
    file, company = company_file
    response = api_as(company).post(f"/files/{file.id}/register-jury", json={})
    assert response.status_code == 409 and "Aucune session" in response.json["detail"]
    db.session.refresh(file)
    assert file.status == "validation_evaluation"


def test_another_companys_file_is_404(company_file, api_as):
    file, _ = company_file
    make_session(on=date(2027, 6, 15))
    response = api_as(make_user("entreprise")).post(f"/files/{file.id}/register-jury", json={})
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["entreprise", "secretariat"])
def test_unregister_jury_before_the_deadline(company_file, api_as, role):
    file, company = company_file
    jury_session = make_session(on=date(2027, 6, 15))
    api_as(company).post(f"/files/{file.id}/register-jury", json={})
    actor = company if role == "entreprise" else make_user("secretariat")
    response = api_as(actor).post(f"/files/{file.id}/unregister-jury")
    assert response.status_code == 200 and response.json["status"] == "validation_evaluation"
    assert response.json["jury_session"] is None
    db.session.refresh(jury_session)
    assert jury_session.seats_taken == 0


def _registered(today_is):
    establishment = make_establishment()
    jury_session = make_session(on=date(2027, 6, 15))
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, establishment=establishment)
    return file, jury_session, make_user("entreprise", establishment=establishment)


def test_decision_then_publication_through_the_api(secretariat, api_as, today_is):
    file, jury_session, company = _registered(today_is)
    today_is("2027-06-15")
    c1, c2, c3 = [c.code for c in file.competences]
    body = {"results": [{"competence_code": c1, "validated": True}, {"competence_code": c2, "validated": False},
                        {"competence_code": c3, "validated": True}], "comment": "À retravailler : C2"}
    response = api_as(secretariat).post(f"/files/{file.id}/decision", json=body)
    assert response.status_code == 200 and response.json["status"] == "partiel"
    number = response.json["decision"]["parchment_number"]
    seen_by_company = api_as(company).get(f"/files/{file.id}")
    if seen_by_company.status_code == 200:  # GET /files/{id} belongs to the files area
        assert seen_by_company.json["status"] == "inscription_jury" and seen_by_company.json["decision"] is None
    assert api_as(company).get(f"/files/{file.id}/parchment.pdf").status_code == 409
    assert api_as(None).get(f"/verify/{number}").status_code == 404
    published = api_as(secretariat).post(f"/jury-sessions/{jury_session.id}/publish")
    assert published.status_code == 200 and published.json["published_at"]
    pdf = api_as(company).get(f"/files/{file.id}/parchment.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    verified = api_as(None).get(f"/verify/{number}")
    assert verified.status_code == 200 and verified.json["decision"] == "partiel"


def test_decision_before_the_jury_date_is_422(secretariat, api_as, today_is):
    file, _, _ = _registered(today_is)
    body = {"results": [{"competence_code": c.code, "validated": True} for c in file.competences]}
    response = api_as(secretariat).post(f"/files/{file.id}/decision", json=body)
    assert response.status_code == 422 and "date" in response.json["errors"]


def test_decision_on_a_competence_not_of_the_file_is_422(secretariat, api_as, today_is):
    file, _, _ = _registered(today_is)
    today_is("2027-06-15")
    other = [c for c in file.cqp.competences if c not in file.competences][0]
    body = {"results": [{"competence_code": c.code, "validated": True} for c in file.competences]
            + [{"competence_code": other.code, "validated": True}]}
    response = api_as(secretariat).post(f"/files/{file.id}/decision", json=body)
    assert response.status_code == 422 and other.code in response.json["detail"]
    db.session.refresh(file)
    assert file.status == "inscription_jury"


def test_decision_is_the_secretariats(api_as, today_is):
    file, _, company = _registered(today_is)
    response = api_as(company).post(f"/files/{file.id}/decision", json={"results": []})
    assert response.status_code == 403


def test_parchment_of_a_non_valid_file_is_409(secretariat, api_as, today_is):
    file, _, _ = _registered(today_is)
    today_is("2027-06-15")
    decide(file, secretariat, False)
    db.session.commit()
    assert api_as(secretariat).get(f"/files/{file.id}/parchment.pdf").status_code == 409


def test_publishing_an_unknown_session_is_404(secretariat, api_as):
    assert api_as(secretariat).post("/jury-sessions/424242/publish").status_code == 404


def test_publish_with_undecided_files_is_409(secretariat, api_as, today_is):
    _, jury_session, _ = _registered(today_is)
    today_is("2027-06-15")
    response = api_as(secretariat).post(f"/jury-sessions/{jury_session.id}/publish")
    assert response.status_code == 409 and sessions.list_sessions()[0].published_at is None


def test_openapi_lists_the_jury_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/jury-sessions", "/api/v1/jury-sessions/{session_id}/publish",
                 "/api/v1/files/{file_id}/register-jury", "/api/v1/files/{file_id}/unregister-jury",
                 "/api/v1/files/{file_id}/decision", "/api/v1/files/{file_id}/parchment.pdf",
                 "/api/v1/verify/{number}"):
        assert path in paths, path


def test_register_jury_without_a_body_takes_the_next_session(company_file, api_as):
    file, company = company_file
    jury_session = make_session(on=date(2027, 6, 15))
    response = api_as(company).post(f"/files/{file.id}/register-jury")
    assert response.status_code == 200 and response.json["jury_session"]["id"] == jury_session.id


@pytest.mark.parametrize("value", ["abc", 10**20, True, -3])
def test_register_jury_with_a_malformed_session_id_is_422(company_file, api_as, value):
    file, company = company_file
    make_session(on=date(2027, 6, 15))
    response = api_as(company).post(f"/files/{file.id}/register-jury", json={"jury_session_id": value})
    assert response.status_code == 422 and "jury_session_id" in response.json["errors"]


def test_verify_api_is_public_and_rate_limited(app, api_as):
    limit = int(app.config["VERIFY_RATE_LIMIT"].split()[0])
    anonymous = api_as(None)
    statuses = [anonymous.get("/verify/CQP-AAAA-AAAA").status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [404] * limit and statuses[-1] == 429


# ---------------------------------------------------------------- what the answers hold, and the OpenAPI says


def test_a_session_is_answered_with_every_key(secretariat, api_as, today_is):
    created = api_as(secretariat).post("/jury-sessions", json={"date": "2027-06-15", "capacity": 20})
    assert created.status_code == 201
    body = created.json
    assert body == {"id": body["id"], "date": "2027-06-15", "capacity": 20, "seats_taken": 0, "seats_left": 20,
                    "registration_deadline": "2027-05-25", "location": None, "state": "ouverte",
                    "published_at": None, "cancelled_at": None}
    assert api_as(secretariat).get(f"/jury-sessions/{body['id']}").json == body
    jury_session = sessions.get_session(body["id"])
    jury_session.published_at = datetime(2027, 6, 16, 9, 30, 15, 250)
    db.session.commit()
    today_is("2027-06-20")
    again = api_as(secretariat).get(f"/jury-sessions/{body['id']}").json
    assert (again["published_at"], again["state"]) == ("2027-06-16T11:30:15+02:00", "publiee")  # RFC 3339, Paris offset


def test_an_unknown_session_is_404(secretariat, api_as):
    for value in ("424242", "abc", "9" * 30):
        response = api_as(secretariat).get(f"/jury-sessions/{value}")
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
        assert "n'existe pas" in response.json["detail"]


def test_the_secretariats_parchment_download_is_recorded_as_a_print(secretariat, api_as, today_is):
    from app.jury.models import PrintRecord

    file, jury_session, _ = _registered(today_is)
    today_is("2027-06-15")
    decide(file, secretariat, True)
    db.session.commit()
    response = api_as(secretariat).get(f"/files/{file.id}/parchment.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == f'inline; filename="parchemin-{file.parchment.number}.pdf"'
    [record] = db.session.query(PrintRecord).all()
    assert record.session_id == jury_session.id


def _answer_schema(spec: dict, path: str, method: str, status: str = "200") -> dict:
    content = spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    if content.get("type") == "array":
        content = content["items"]
    return spec["components"]["schemas"][content["$ref"].rsplit("/", 1)[1]]


def test_openapi_shows_what_the_jury_endpoints_answer(client):
    spec = client.get("/api/v1/openapi.json").json
    keys = {"id", "date", "capacity", "seats_taken", "seats_left", "registration_deadline", "location", "state",
            "published_at", "cancelled_at"}
    for path, method, status in (("/api/v1/jury-sessions", "get", "200"), ("/api/v1/jury-sessions", "post", "201"),
                                 ("/api/v1/jury-sessions/{session_id}", "get", "200"),
                                 ("/api/v1/jury-sessions/{session_id}/publish", "post", "200")):
        assert set(_answer_schema(spec, path, method, status)["properties"]) == keys, (path, method)
    assert spec["paths"]["/api/v1/jury-sessions"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"]["type"] == "array"
    verification = _answer_schema(spec, "/api/v1/verify/{number}", "get")["properties"]
    assert set(verification) == {"number", "kind", "cqp_code", "cqp_title", "holder", "decision", "jury_date",
                                 "competences_validated", "version", "issued_at"}
    assert verification["issued_at"]["format"] == "date-time" and verification["version"]["type"] == "integer"
    assert verification["competences_validated"]["items"]["type"] == "string"
    for path in ("/api/v1/files/{file_id}/register-jury", "/api/v1/files/{file_id}/unregister-jury",
                 "/api/v1/files/{file_id}/decision"):
        assert {"status", "jury_session", "rolled_over", "decision"} <= set(_answer_schema(spec, path, "post")["properties"])
    assert "application/pdf" in spec["paths"]["/api/v1/files/{file_id}/parchment.pdf"]["get"]["responses"]["200"][
        "content"]


def test_the_session_list_runs_the_same_statements_for_3_and_300_sessions(secretariat, api_as):
    from sqlalchemy import insert

    from app.jury.models import JurySession
    from tests.jury.helpers import count_statements

    office = api_as(secretariat)
    office.get("/jury-sessions")  # the token's use noted (at most every 5 minutes: not counted)

    def statements() -> tuple[int, int]:
        db.session.expire_all()
        with count_statements() as sent:
            response = office.get("/jury-sessions")
        assert response.status_code == 200
        return len(response.json), len(sent)

    def add(n: int, first_day: int) -> None:
        db.session.execute(insert(JurySession), [
            {"date": date(2027, 6, 1) + timedelta(days=first_day + i), "capacity": 10, "seats_taken": i % 10,
             "created_at": datetime(2027, 5, 1)} for i in range(n)])
        db.session.commit()

    add(3, 0)
    shown, with_3 = statements()
    add(297, 3)
    shown_300, with_300 = statements()
    assert (shown, shown_300) == (3, 300)
    assert with_3 == with_300 <= 30


def test_a_session_past_its_deadline_is_422_on_date_unless_confirmed(secretariat, api_as, today_is):
    today_is("2027-05-01")
    body = {"date": "2027-05-10", "capacity": 5}
    refused = api_as(secretariat).post("/jury-sessions", json=body)
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["date"]
    created = api_as(secretariat).post("/jury-sessions", json={**body, "confirm_past_deadline": True})
    assert created.status_code == 201 and created.json["state"] == "close"
