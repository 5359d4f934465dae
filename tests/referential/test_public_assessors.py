"""The public list of habilitated assessors: no login, only the habilitations valid today, never an email; the CSV
defuses formula-like cells; the login page's footer links to it."""

from __future__ import annotations

from datetime import date

from app.extensions import db
from app.referential import services
from tests.factories import get_cqp, make_assessor


def test_the_page_lists_the_valid_habilitations_without_login_nor_email(app_ctx, client, today_is):
    today_is("2027-03-01")
    valid = make_assessor(until=date(2027, 3, 1), cqps=[get_cqp("FAB-OPF")])  # last day: still valid
    services.update_assessor(valid, habilitation_until=valid.habilitation_until, departement="69")
    ended = make_assessor(until=date(2027, 2, 28))
    disabled = make_assessor(until=date(2029, 1, 1))
    disabled.user.active = False
    db.session.commit()
    login_page = client.get("/connexion").get_data(as_text=True)
    assert 'href="/evaluateurs-habilites"' in login_page
    html = client.get("/evaluateurs-habilites").get_data(as_text=True)
    assert valid.name in html and "FAB-OPF" in html and "1er mars 2027" in html and "69" in html
    assert ended.name not in html and disabled.name not in html
    assert valid.user.email not in html and "@" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_csv_download_defuses_formulas(app_ctx, client, today_is):
    today_is("2027-03-01")
    assessor = make_assessor(until=date(2028, 1, 1))
    assessor.user.first_name = "=HYPERLINK(\"http://x\")"
    db.session.commit()
    response = client.get("/evaluateurs-habilites.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffNom;CQP;Fin d'habilitation;Département")
    row = next(line for line in text.splitlines() if "HYPERLINK" in line)
    assert row.startswith("\"'=HYPERLINK")  # a quote before the =: text, not a formula
    assert "2028-01-01" in text and assessor.user.email not in text
    assert "FAB-OPF" in text  # no CQP listed: habilitated for every CQP, each named
