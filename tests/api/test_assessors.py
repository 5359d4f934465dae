"""GET /assessors/public (no token), the renewal cycle through the API, GET /assessors/ended-habilitations."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest

from app.extensions import db
from app.referential.habilitation import RENEWAL_DOCUMENTS
from tests.factories import get_cqp, make_assessor, make_file, make_user

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def documents():
    return {kind: (BytesIO(PDF), f"{kind}.pdf") for kind in RENEWAL_DOCUMENTS}


def test_the_public_list_needs_no_token_and_shows_no_email(app_ctx, api_as, today_is):
    today_is("2027-03-01")
    valid = make_assessor(until=date(2027, 6, 30), cqps=[get_cqp("FAB-OPF"), get_cqp("MNT-TMI")])
    make_assessor(until=date(2027, 2, 28))
    response = api_as(None).get("/assessors/public")
    assert response.status_code == 200
    assert response.json == [{"name": valid.name, "cqp_codes": ["FAB-OPF", "MNT-TMI"],
                              "habilitation_until": "2027-06-30", "departement": None}]
    assert "@" not in response.get_data(as_text=True)
    csv = api_as(None).get("/assessors/public.csv")
    assert csv.status_code == 200 and valid.name in csv.get_data(as_text=True)


def test_renewal_request_then_grant_through_the_api(app_ctx, api_as, today_is, mailbox):
    today_is("2027-03-01")
    assessor = make_assessor(until=date(2027, 10, 10))
    secretary = make_user("secretariat")
    as_assessor = api_as(assessor.user)
    incomplete = as_assessor.post("/habilitation-renewals", data={"message": "x"}, content_type="multipart/form-data")
    assert incomplete.status_code == 422 and set(incomplete.json["errors"]) == set(RENEWAL_DOCUMENTS)
    created = as_assessor.post("/habilitation-renewals", data={**documents(), "message": "Bonjour"},
                               content_type="multipart/form-data")
    assert created.status_code == 201, created.json
    renewal = created.json
    assert renewal["status"] == "deposee" and len(renewal["documents"]) == 3
    again = as_assessor.post("/habilitation-renewals", data=documents(), content_type="multipart/form-data")
    assert again.status_code == 409
    document = renewal["documents"][0]
    assert as_assessor.get(f"/habilitation-renewals/{renewal['id']}/documents/{document['id']}").data == PDF
    assert as_assessor.post(f"/habilitation-renewals/{renewal['id']}/grant",
                            json={"habilitation_until": "2031-10-10"}).status_code == 403
    other = api_as(make_assessor(until=date(2027, 10, 10)).user)
    assert other.get(f"/habilitation-renewals/{renewal['id']}").status_code == 404
    as_secretary = api_as(secretary)
    bad = as_secretary.post(f"/habilitation-renewals/{renewal['id']}/grant", json={"habilitation_until": "2027-01-01"})
    assert bad.status_code == 422 and "postérieure au 10/10/2027" in bad.json["errors"]["habilitation_until"][0]
    granted = as_secretary.post(f"/habilitation-renewals/{renewal['id']}/grant",
                                json={"habilitation_until": "2031-10-10"})
    assert granted.status_code == 200 and granted.json["granted_until"] == "2031-10-10"
    db.session.refresh(assessor)
    assert assessor.habilitation_until == date(2031, 10, 10)
    assert "renouvelée" in mailbox.last_to(assessor.user.email)["Subject"]
    twice = as_secretary.post(f"/habilitation-renewals/{renewal['id']}/refuse", json={"reason": "trop tard"})
    assert twice.status_code == 409


@pytest.mark.parametrize("body, field", [({}, "reason"), ({"reason": ""}, "reason"), ({"reason": 12}, "reason")])
def test_a_refusal_without_a_reason_is_a_422(app_ctx, api_as, today_is, body, field):
    today_is("2027-03-01")
    assessor = make_assessor(until=date(2027, 10, 10))
    created = api_as(assessor.user).post("/habilitation-renewals", data=documents(), content_type="multipart/form-data")
    response = api_as(make_user("secretariat")).post(f"/habilitation-renewals/{created.json['id']}/refuse", json=body)
    assert response.status_code == 422 and field in response.json["errors"]


def test_ended_habilitations_list_their_open_files(app_ctx, api_as, client, login_as, today_is):
    today_is("2027-03-01")
    ended = make_assessor(until=date(2027, 2, 1))
    open_file = make_file(assessor=ended)
    make_file("abandonne", assessor=ended)
    make_file(assessor=make_assessor(until=date(2028, 1, 1)))
    secretary = make_user("secretariat")
    response = api_as(secretary).get("/assessors/ended-habilitations")
    assert response.status_code == 200
    [entry] = response.json
    assert entry["assessor_id"] == ended.id and [f["id"] for f in entry["files"]] == [open_file.id]
    assert api_as(make_user("entreprise")).get("/assessors/ended-habilitations").status_code == 403
    login_as(secretary)
    html = client.get("/secretariat/habilitations-echues").get_data(as_text=True)
    assert ended.name in html and f"n° {open_file.id}" in html and "1 dossier ouvert" in html
