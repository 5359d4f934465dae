"""Statistics page, secretariat lists and their exports (opened back and compared)."""

import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook

from app.accounts.models import PartnerAccessLog
from app.extensions import db
from app.stats.figures import files_by_status
from app.stats.filters import StatsFilters
from app.stats.tables import STAT_TABLES
from tests.factories import make_user
from tests.stats.dataset import build_branch


@pytest.fixture
def branch(app_ctx):
    return build_branch()


@pytest.fixture
def secretariat(app_ctx, client, login_as):
    login_as(make_user("secretariat"))
    return client


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def read_xlsx(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    return [[("" if v is None else v) for v in row] for row in sheet.iter_rows(values_only=True)]


# ------------------------------------------------------------------ statistics page


def test_statistics_page_shows_every_figure_with_accessible_charts(branch, secretariat):
    response = secretariat.get("/statistiques")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for heading in ("Dossiers par statut", "De l'inscription à la décision", "Décisions par CQP", "Durées",
                    "Sessions de jury", "Compétences le plus souvent en échec"):
        assert heading in html
    charts = re.findall(r'<svg class="chart" id="([^"]+)" role="img"[^>]*aria-labelledby="\1-title \1-desc"', html)
    assert len(charts) == 5
    assert html.count("<title id=") == 5 and html.count("<desc id=") == 5
    assert "<script" not in html.split("</head>")[1]  # no chart library, no inline script
    assert "7 dossiers" in html


def test_statistics_page_applies_the_filters(branch, secretariat):
    html = secretariat.get("/statistiques?year=2025&region=2A").get_data(as_text=True)
    assert "1 dossier ·" in html  # F3 only
    assert "année 2025, département 2A" in html


def test_statistics_page_with_a_bad_filter_says_so_and_answers_422(branch, secretariat):
    response = secretariat.get("/statistiques?siret=123&year=x")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Le SIRET doit comporter 14 chiffres" in html and "doit être un nombre entre 2000 et 2100" in html


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "jury", "candidat", "partenaire"])
def test_statistics_are_for_the_secretariat_only(app_ctx, client, login_as, role):
    login_as(make_user(role))
    for url in ("/statistiques", "/statistiques/dossiers", "/statistiques/acces-partenaires",
                "/statistiques/export/statuts.csv", "/statistiques/dossiers/export.csv"):
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_statistic_exports_hold_the_figures_with_the_filters(branch, secretariat, fmt):
    read = read_csv if fmt == "csv" else read_xlsx
    rows = read(secretariat.get(f"/statistiques/export/statuts.{fmt}?year=2025"))
    assert rows[0] == ["Statut", "Code", "Dossiers", "Part (%)"]
    counts = {r[1]: int(r[2]) for r in rows[1:]}
    assert counts == files_by_status(StatsFilters(year=2025))
    assert counts["valide"] == counts["partiel"] == counts["non_valide"] == 1 and sum(counts.values()) == 3

    cqp = read(secretariat.get(f"/statistiques/export/cqp.{fmt}"))
    assert [[r[0], *(int(v) for v in r[2:8])] for r in cqp[1:]] == [
        ["CND-CLC", 3, 0, 0, 0, 0, 1], ["FAB-OPF", 4, 3, 1, 1, 1, 0]]

    durations = read(secretariat.get(f"/statistiques/export/durees.{fmt}"))
    last = durations[-1]
    assert last[1] == "decision" and float(str(last[3]).replace(",", ".")) == 50.0


@pytest.mark.parametrize("name", list(STAT_TABLES))
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_statistic_table_exports_in_both_formats(branch, secretariat, name, fmt):
    response = secretariat.get(f"/statistiques/export/{name}.{fmt}?cqp=FAB-OPF")
    assert response.status_code == 200
    assert f'filename="statistiques-{name}.{fmt}"' in response.headers["Content-Disposition"]
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert len(rows) >= 2


def test_sessions_export_lists_every_session(branch, secretariat):
    rows = read_csv(secretariat.get("/statistiques/export/sessions.csv"))
    assert [(r[0], r[1], r[3], r[4], r[7]) for r in rows[1:]] == [
        (str(branch.s2.id), "2025-06-10", "5", "1", "0"), (str(branch.s1.id), "2025-03-10", "10", "2", "1")]


def test_unknown_export_is_404(branch, secretariat):
    assert secretariat.get("/statistiques/export/inconnu.csv").status_code == 404
    assert secretariat.get("/statistiques/export/statuts.pdf").status_code == 404
    assert secretariat.get("/statistiques/dossiers/export.pdf").status_code == 404


# ------------------------------------------------------------------ the list of every file


def list_ids(html: str) -> list[int]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [int(x) for x in re.findall(r"<tr>\s*<td>(?:<a [^>]*>)?(\d+)", body)]


def test_file_list_is_paginated_and_sorted(branch, secretariat):
    ids = sorted(f.id for f in branch.files.values())
    html = secretariat.get("/statistiques/dossiers?sort=numero&dir=asc&per_page=10").get_data(as_text=True)
    assert list_ids(html) == ids
    assert "Lignes 1 à 7 sur 7" in html
    desc = secretariat.get("/statistiques/dossiers?sort=numero&dir=desc").get_data(as_text=True)
    assert list_ids(desc) == ids[::-1]
    assert 'aria-sort="descending"' in desc


def test_file_list_pages(app_ctx, secretariat):
    from tests.factories import make_assessor, make_establishment, make_session
    from tests.stats.test_query_counts import add_files

    add_files(30, establishment=make_establishment(), assessor=make_assessor(), session=make_session(capacity=100))
    first = secretariat.get("/statistiques/dossiers?sort=numero&per_page=10").get_data(as_text=True)
    third = secretariat.get("/statistiques/dossiers?sort=numero&per_page=10&page=3").get_data(as_text=True)
    beyond = secretariat.get("/statistiques/dossiers?sort=numero&per_page=10&page=99").get_data(as_text=True)
    assert len(list_ids(first)) == 10 and list_ids(third) == list_ids(beyond)
    assert "Lignes 21 à 30 sur 30" in third and 'rel="next"' not in third
    assert set(list_ids(first)).isdisjoint(list_ids(third))


@pytest.mark.parametrize(("query", "expected"), [
    ("status=valide", ["F1"]),
    ("cqp=CND-CLC", ["F4", "F5", "F6"]),
    ("year=2025", ["F1", "F2", "F3"]),
    ("status=nimporte", ["F1", "F2", "F3", "F4", "F5", "F6", "F7"]),  # an unknown status filters nothing
])
def test_file_list_filters(branch, secretariat, query, expected):
    html = secretariat.get(f"/statistiques/dossiers?sort=numero&{query}").get_data(as_text=True)
    assert list_ids(html) == [branch.files[k].id for k in expected]


def test_file_list_filters_by_establishment(branch, secretariat):
    html = secretariat.get(f"/statistiques/dossiers?sort=numero&siret={branch.e2.siret}").get_data(as_text=True)
    assert list_ids(html) == [branch.files["F3"].id, branch.files["F4"].id]


def test_search_on_the_candidates_name_ignores_case_and_accents(branch, secretariat):
    f3 = branch.files["F3"]
    f3.candidate.set_names("Hélène", "Lefèvre-Durand")
    db.session.commit()
    for q in ("lefevre", "LEFÈVRE durand", "helene", "Hélène Lefèvre"):
        html = secretariat.get("/statistiques/dossiers", query_string={"q": q}).get_data(as_text=True)
        assert list_ids(html) == [f3.id], q
    html = secretariat.get("/statistiques/dossiers", query_string={"q": "100%_"}).get_data(as_text=True)
    assert "Aucun dossier ne correspond" in html


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_file_list_export_is_the_list_with_its_filters_and_sort(branch, secretariat, fmt):
    query = "cqp=FAB-OPF&sort=candidat&dir=desc"
    html = secretariat.get(f"/statistiques/dossiers?{query}").get_data(as_text=True)
    response = secretariat.get(f"/statistiques/dossiers/export.{fmt}?{query}")
    assert response.status_code == 200
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert rows[0][:3] == ["N° dossier", "Nom", "Prénom"]
    assert [int(r[0]) for r in rows[1:]] == list_ids(html)
    f1 = branch.files["F1"]
    line = next(r for r in rows[1:] if int(r[0]) == f1.id)
    assert line[1:4] == [f1.candidate.last_name, f1.candidate.first_name, "FAB-OPF"]
    assert line[6:9] == [branch.e1.siret, "Validé", "valide"]


def test_exports_defuse_spreadsheet_formulas(branch, secretariat):
    f7 = branch.files["F7"]
    f7.candidate.set_names("=HYPERLINK(\"http://x\")", "@SUM(A1)")
    db.session.commit()
    rows = read_csv(secretariat.get(f"/statistiques/dossiers/export.csv?siret={branch.e1.siret}"))
    line = next(r for r in rows if r[0] == str(f7.id))
    assert line[1] == "'@SUM(A1)" and line[2].startswith("'=")
    sheet = read_xlsx(secretariat.get(f"/statistiques/dossiers/export.xlsx?siret={branch.e1.siret}"))
    cell = next(r for r in sheet if r[0] == f7.id)[2]
    assert cell.startswith("'=")


def test_large_exports_stream(app_ctx, secretariat):
    from tests.factories import make_assessor, make_establishment, make_session
    from tests.stats.test_query_counts import add_files

    add_files(1200, establishment=make_establishment(), assessor=make_assessor(), session=make_session(capacity=2000))
    response = secretariat.get("/statistiques/dossiers/export.csv", buffered=False)
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) >= 3  # sent 500 rows at a time, not as one body
    rows = list(csv.reader(io.StringIO("".join(c.decode() if isinstance(c, bytes) else c for c in chunks)[1:]),
                           delimiter=";"))
    assert len(rows) == 1201
    response.close()


# ------------------------------------------------------------------ partner access log


def test_access_log_page_and_export(app_ctx, secretariat):
    partner = make_user("partenaire", email="opco@exemple.fr")
    for i, siret in enumerate(["73282932000074", "73282932000074", "35600000000048"]):
        db.session.add(PartnerAccessLog(user_id=partner.id, siret=siret, context=f"Contexte {i}",
                                        recipient="73282932000074", object=f"Objet {i}", status_code=200,
                                        at=datetime(2026, 1, 1 + i, 9, 0)))
    db.session.commit()
    html = secretariat.get("/statistiques/acces-partenaires?siret=73282932000074").get_data(as_text=True)
    assert "Objet 0" in html and "Objet 1" in html and "Objet 2" not in html
    assert "opco@exemple.fr" in html
    rows = read_csv(secretariat.get("/statistiques/acces-partenaires/export.csv?siret=73282932000074"))
    assert [r[6] for r in rows[1:]] == ["Objet 1", "Objet 0"]  # newest first, like the page
    assert rows[1][1] == "opco@exemple.fr" and rows[1][4] == "Contexte 1"
    sheet = read_xlsx(secretariat.get("/statistiques/acces-partenaires/export.xlsx?q=objet 2"))
    assert [r[6] for r in sheet[1:]] == ["Objet 2"]
