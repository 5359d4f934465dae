"""The contract under hostile input (issue 17, API.md « Additions, second release »): a 422 names every
invalid field at once, in the API and on a page's form; NUL, integers beyond 32 bits and dates beyond 2100
are 422, never 500; the OpenAPI description carries the constraints and closed lists the server enforces,
generated from the same schemas; timestamps are RFC 3339 with an offset."""

from __future__ import annotations

import re

import pytest

from app.files.models import TRAINING_PATHS, TRAINING_SCHEMES
from tests.conftest import submit_form
from tests.factories import make_file, make_user

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")


def _problem(response, status: int = 422) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:600]
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_a_422_names_every_invalid_field_of_the_body_at_once(app_ctx, api_as):
    api = api_as(make_user("entreprise"))
    answer = api.post("/candidates", json={"first_name": "Ca\u0000mille", "last_name": "x" * 121,
                                           "birth_date": "9999-12-31", "sex": "X", "email": "a\u001bb"})
    errors = _problem(answer)["errors"]
    assert set(errors) == {"first_name", "last_name", "birth_date", "sex", "email"}, errors
    assert "U+0000" in errors["first_name"][0] and "postérieure au 31 décembre 2100" in errors["birth_date"][0]


@pytest.mark.parametrize("capacity", [2147483648, -2147483649, 1e308, 10**30])
def test_an_integer_beyond_32_bits_is_a_422_naming_it(app_ctx, api_as, capacity):
    api = api_as(make_user("secretariat"))
    errors = _problem(api.post("/jury-sessions", json={"date": "2027-06-01", "capacity": capacity}))["errors"]
    assert list(errors) == ["capacity"]


@pytest.mark.parametrize("body", ['{"date": "2027-06-01", "capacity": NaN}', '{"date": "2027-06-01", "capacity": Infinity}'])
def test_a_non_finite_number_is_a_422(app_ctx, api_as, body):
    api = api_as(make_user("secretariat"))
    answer = api.post("/jury-sessions", data=body, headers={"Content-Type": "application/json"})
    assert "capacity" in _problem(answer)["errors"]


def test_an_interview_date_beyond_2100_is_a_422_not_an_overflow(app_ctx, api_as):
    company = make_user("entreprise")
    file = make_file(establishment=company.establishment)
    answer = api_as(company).patch(f"/files/{file.id}", json={"interview_date": "9999-12-31"})
    assert list(_problem(answer)["errors"]) == ["interview_date"]


def test_a_closed_list_names_its_accepted_values(app_ctx, api_as):
    company = make_user("entreprise")
    file = make_file(establishment=company.establishment)
    errors = _problem(api_as(company).patch(f"/files/{file.id}", json={
        "training_path": "correspondance", "training_scheme": "autre-chose"}))["errors"]
    assert set(errors) == {"training_path", "training_scheme"}
    assert all(code in errors["training_path"][0] for code in TRAINING_PATHS)


@pytest.mark.parametrize("query", ["q=%00", "q=a%1Bb", "cqp=%00&status=x%00"])
def test_a_nul_in_a_query_string_is_a_422_naming_it(app_ctx, api_as, client, login_as, query):
    secretariat = make_user("secretariat")
    names = {part.split("=")[0] for part in query.split("&")}
    assert names <= set(_problem(api_as(secretariat).get(f"/files?{query}"))["errors"])
    login_as(secretariat)
    page = client.get(f"/dossiers?{query}")
    assert page.status_code == 422 and "Caractère" in page.get_data(as_text=True)


def test_a_page_form_shows_each_fields_error_at_once(app_ctx, client, login_as):
    login_as(make_user("secretariat"))
    response = submit_form(client, "/secretariat/jurys/nouvelle",
                           {"date": "9999-12-31", "capacity": "2147483648", "location": "Paris"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "postérieure au 31 décembre 2100" in html and "Le nombre de places doit être compris" in html


def test_a_nul_in_a_page_form_is_a_422_naming_the_field_and_writes_nothing(app_ctx, client, login_as):
    from app.extensions import db
    from app.jury.models import JurySession

    login_as(make_user("secretariat"))
    response = submit_form(client, "/secretariat/jurys/nouvelle",
                           {"date": "2027-06-01", "capacity": "10", "location": "Pa\u0000ris"})
    assert response.status_code == 422 and "location" in response.get_data(as_text=True)
    assert db.session.query(JurySession).count() == 0


def test_the_openapi_description_carries_the_constraints_and_closed_lists(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    file_in, candidate_in, session_in = schemas["FileIn"], schemas["CandidateIn"], schemas["SessionIn"]
    assert file_in["properties"]["training_path"]["enum"] == list(TRAINING_PATHS)
    assert file_in["properties"]["training_scheme"]["enum"] == list(TRAINING_SCHEMES)
    assert set(candidate_in["properties"]["sex"]["enum"]) == {"M", "F", None}
    assert candidate_in["properties"]["first_name"]["maxLength"] == 120
    assert session_in["properties"]["capacity"]["maximum"] == 2**31 - 1
    assert session_in["properties"]["location"]["maxLength"] == 255  # from the jury_sessions.location column
    interview = file_in["properties"]["interview_date"]
    assert interview["format"] == "date" and interview["x-maximum"] == "2100-12-31"
    assert schemas["HistoryOut"]["properties"]["at"]["format"] == "date-time"


def test_timestamps_are_rfc3339_with_the_offset_of_paris(app_ctx, api_as):
    from datetime import datetime

    from app.extensions import db
    from app.files.models import StatusChange
    from tests.factories import make_invitation

    company = make_user("entreprise")
    file = make_file("en_attente_evaluation", establishment=company.establishment)
    db.session.add(StatusChange(file_id=file.id, from_status="en_cours_inscription", to_status="en_attente_evaluation",
                                event="confirm_assessor", at=datetime(2027, 1, 15, 9, 30)))  # naive UTC
    db.session.commit()
    invitation = make_invitation(file)
    history = api_as(company).get(f"/files/{file.id}").get_json()["history"]
    assert [entry["at"] for entry in history] == ["2027-01-15T10:30:00+01:00"]  # Paris, winter time
    invitations = api_as(file.assessor.user).get(f"/files/{file.id}/job-assessor-invitations").get_json()
    assert invitations[0]["id"] == invitation.id
    assert RFC3339.match(invitations[0]["created_at"]) and RFC3339.match(invitations[0]["expires_at"])


@pytest.mark.parametrize("value, expected", [
    (1, 1), ("42", 42), (2**31 - 1, 2**31 - 1), (2**31, None), ("2147483648", None), (0, None), (-3, None),
    ("99999999999", None), ("1e308", None), (True, None), ("", None)])
def test_an_id_beyond_the_integer_column_is_no_id(value, expected):
    """Found on PostgreSQL by the fuzz: `db.session.get(JurySession, 2**31)` is an « integer out of range »
    error, a 500, where an unknown id must be a 404 or a 422."""
    from app.core.validation import as_id

    assert as_id(value) == expected


def test_a_jury_session_id_beyond_32_bits_is_a_422_naming_it(app_ctx, api_as):
    company = make_user("entreprise")
    file = make_file("validation_evaluation", establishment=company.establishment)
    answer = api_as(company).post(f"/files/{file.id}/register-jury", json={"jury_session_id": 2**31})
    assert list(_problem(answer)["errors"]) == ["jury_session_id"]
