"""Candidates in bulk from an HR export (app/files/candidate_import.py, import_views.py, api/candidate_import.py):
CSV with `;` or `,`, UTF-8 with or without BOM, Windows-1252, XLSX; French labels or field names; every mistake
listed with its row before anything is written; all or nothing; R12 duplicates counted as already present."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.accounts.models import Role
from app.extensions import db
from app.files import candidate_import
from app.files.models import Candidate
from tests import factories
from tests.conftest import csrf_token

FRENCH = ["Nom de naissance", "Prénom", "Date de naissance", "Sexe", "Code INSEE du lieu de naissance", "Email"]
ROWS = [["Lefèvre", "Hélène", "12/03/1985", "F", "69123", "helene.lefevre@exemple.fr"],
        ["Nguyen", "Thomas", "1992-07-01", "M", "99109", ""]]


@pytest.fixture
def company(app_ctx, today_is):
    today_is("2027-03-01")
    return factories.make_user(Role.ENTREPRISE)


def as_csv(rows, *, delimiter=";", encoding="utf-8", bom=False) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding)


def as_xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def candidates_of(establishment_id) -> list[Candidate]:
    db.session.expire_all()
    return list(db.session.scalars(select(Candidate).where(Candidate.establishment_id == establishment_id)
                                   .order_by(Candidate.last_name)))


@pytest.mark.parametrize("data", [
    as_csv([FRENCH, *ROWS]),
    as_csv([FRENCH, *ROWS], bom=True),
    as_csv([FRENCH, *ROWS], delimiter=","),
    as_csv([FRENCH, *ROWS], encoding="cp1252"),
    as_xlsx([FRENCH, ["Lefèvre", "Hélène", datetime(1985, 3, 12), "F", 69123, "helene.lefevre@exemple.fr"],
             ["Nguyen", "Thomas", date(1992, 7, 1), "M", "99109", None]]),
], ids=["csv-utf8", "csv-bom", "csv-comma", "csv-windows-1252", "xlsx"])
def test_each_published_format_creates_the_candidates(company, data):
    result = candidate_import.import_candidates(company.establishment, company, data)
    db.session.commit()
    assert len(result.to_create) == 2 and result.already_present == []
    helene, thomas = candidates_of(company.establishment_id)
    assert (helene.last_name, helene.first_name, helene.birth_date) == ("Lefèvre", "Hélène", date(1985, 3, 12))
    assert helene.birth_place == "Lyon" and helene.birth_country == "France" and helene.sex == "F"
    assert helene.email == "helene.lefevre@exemple.fr"
    assert thomas.birth_country == "Allemagne" and thomas.email is None


def test_field_names_are_accepted_as_headers(company):
    data = as_csv([["last_name", "first_name", "birth_date", "job_title"], ["Roux", "Léa", "1990-01-02", "Opératrice"]])
    candidate_import.import_candidates(company.establishment, company, data)
    assert candidates_of(company.establishment_id)[0].job_title == "Opératrice"


def test_every_mistake_is_listed_with_its_row_and_nothing_is_created(company):
    data = as_csv([[*FRENCH, "Matricule"],
                   ["Lefèvre", "Hélène", "31/02/1985", "F", "69123", "", "A12"],
                   ["", "Thomas", "1992-07-01", "X", "", "pas-une-adresse", "A13"],
                   ["Roux", "Léa", "1990-01-02", "", "", "", "A14"]])
    with pytest.raises(candidate_import.ImportRefused) as refused:
        candidate_import.import_candidates(company.establishment, company, data)
    found = {(e.row, e.field) for e in refused.value.row_errors}
    assert found == {(1, "Matricule"), (2, "birth_date"), (3, "last_name"), (3, "sex"), (3, "email")}
    messages = {(e.row, e.field): e.message for e in refused.value.row_errors}
    assert "Colonne inconnue « Matricule »" in messages[(1, "Matricule")]
    assert messages[(3, "last_name")] == "Le nom de naissance est obligatoire."
    db.session.rollback()
    assert candidates_of(company.establishment_id) == []


def test_a_missing_required_column_is_said_once(company):
    with pytest.raises(candidate_import.ImportRefused) as refused:
        candidate_import.import_candidates(company.establishment, company, as_csv([["Nom", "Prénom"], ["A", "B"]]))
    assert [(e.row, e.field) for e in refused.value.row_errors] == [(1, "birth_date")]


def test_duplicates_by_r12_are_already_present_not_errors(company):
    factories.make_candidate(company.establishment, first_name="Helene", birth_date=date(1985, 3, 12))
    existing = candidates_of(company.establishment_id)[0]
    data = as_csv([FRENCH, [existing.last_name.upper(), "Hélène", "12/03/1985", "", "", ""], ROWS[1], ROWS[1]])
    result = candidate_import.import_candidates(company.establishment, company, data)
    assert len(result.to_create) == 1 and [row for row, _ in result.already_present] == [2, 4]
    assert len(candidates_of(company.establishment_id)) == 2


@pytest.mark.parametrize("data, message", [
    (b"", "Le fichier est vide."),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "Ce format n'est pas reconnu"),
    (b"PK\x03\x04pas un classeur", "Le classeur XLSX est illisible"),
    (as_csv([FRENCH]) + b"Dupont;L\x81a;1990-01-02;;;\r\n", "Ligne 2 : le fichier n'est ni en UTF-8 ni en Windows-1252"),
])
def test_an_unreadable_file_is_refused_with_a_french_message(company, data, message):
    with pytest.raises(candidate_import.ValidationFailed) as refused:
        candidate_import.preview(company.establishment, data)
    assert message in refused.value.message


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_templates_download_and_import_as_they_are(company, login_as, client, fmt):
    login_as(company)
    response = client.get(f"/entreprise/candidats/import/modele.{fmt}")
    assert response.status_code == 200
    if fmt == "xlsx":
        header = [c.value for c in next(load_workbook(io.BytesIO(response.data)).active.iter_rows())]
    else:
        header = next(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert header[:3] == ["Nom de naissance", "Prénom", "Date de naissance"]
    result = candidate_import.import_candidates(company.establishment, company, response.data)
    assert len(result.to_create) == 1


def _post_file(client, data: bytes, name: str):
    token = csrf_token(client, "/entreprise/candidats/import")
    return client.post("/entreprise/candidats/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_preview_lists_the_errors_then_a_correct_file_is_confirmed(company, login_as, client):
    login_as(company)
    bad = _post_file(client, as_csv([FRENCH, ["Lefèvre", "Hélène", "demain", "", "", ""]]), "rh.csv")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "aucun candidat n'a été créé" in page and "date de naissance" in page and "<td>2</td>" in page
    good = _post_file(client, as_xlsx([FRENCH, *ROWS]), "rh.xlsx")
    assert good.status_code == 200 and "Créer 2 candidats" in good.get_data(as_text=True)
    assert candidates_of(company.establishment_id) == []  # the preview writes nothing
    action = re.search(r'action="(/entreprise/candidats/import/[^"]+/confirmer)"', good.get_data(as_text=True))[1]
    done = client.post(action, data={"csrf_token": csrf_token(client, "/entreprise/candidats/import")})
    assert done.status_code == 303
    assert len(candidates_of(company.establishment_id)) == 2
    again = client.post(action, data={"csrf_token": csrf_token(client, "/entreprise/candidats/import")})
    assert again.status_code == 404  # confirmed once


def test_another_company_cannot_confirm_a_preview(company, login_as, client, app):
    login_as(company)
    good = _post_file(client, as_csv([FRENCH, *ROWS]), "rh.csv")
    action = re.search(r'action="(/entreprise/candidats/import/[^"]+/confirmer)"', good.get_data(as_text=True))[1]
    other = factories.make_user(Role.ENTREPRISE)
    intruder = app.test_client()
    from tests.conftest import login
    login(intruder, other.email, factories.PASSWORD)
    refused = intruder.post(action, data={"csrf_token": csrf_token(intruder, "/entreprise/candidats/import")})
    assert refused.status_code == 404
    assert candidates_of(company.establishment_id) == []


def test_the_api_creates_all_or_answers_every_error(company, api_as):
    api = api_as(company)
    created = api.post("/candidates/import", data={"file": (io.BytesIO(as_csv([FRENCH, *ROWS])), "rh.csv")},
                       content_type="multipart/form-data")
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json == {"created": 2, "already_present": 0}
    refused = api.post("/candidates/import", data={"file": (io.BytesIO(as_csv([FRENCH, *ROWS, ["", "", "", "", "",
                                                                                             "x"]])), "rh.csv")},
                       content_type="multipart/form-data")
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert {(e["row"], e["field"]) for e in refused.json["errors"]} == {
        (4, "last_name"), (4, "first_name"), (4, "birth_date"), (4, "email")}
    assert db.session.scalar(select(func.count()).select_from(Candidate)) == 2
    missing = api.post("/candidates/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "file"


def test_only_a_company_imports(app_ctx, api_as):
    secretariat = factories.make_user(Role.SECRETARIAT)
    response = api_as(secretariat).post("/candidates/import", data={"file": (io.BytesIO(b"x"), "a.csv")},
                                        content_type="multipart/form-data")
    assert response.status_code == 403
