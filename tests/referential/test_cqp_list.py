"""The secretariat's CQP list, grouped by filière as the manual lists the branch's 13 CQPs."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.referential.views import by_filiere
from tests.accounts.conftest import page_text
from tests.factories import get_cqp, make_user

MANUAL = [
    ("Fabrication", ["FAB-OPF", "FAB-CEF", "FAB-PIF", "FAB-ANF"]),
    ("Conditionnement", ["CND-CLC", "CND-PLC", "CND-ANC"]),
    ("Logistique", ["LOG-AGL", "LOG-ANL"]),
    ("Maintenance", ["MNT-OMI", "MNT-TMI", "MNT-ANM"]),
    ("Commercialisation", ["COM-TCO"]),
]


@pytest.fixture
def secretary(app_ctx, login_as):
    user = make_user("secretariat")
    login_as(user)
    return user


def test_filieres_in_the_manuals_order(app_ctx):
    from app.referential.services import list_cqps

    groups = by_filiere(list_cqps(include_inactive=True))
    assert [(name, [c.code for c in cqps]) for name, cqps in groups] == MANUAL


def test_the_page_shows_one_heading_and_table_per_filiere(client, secretary):
    html = page_text(client.get("/referentiel/cqp"))
    headings = re.findall(r'<h2 id="filiere-\d+">([^<]+?) <small', html)
    assert headings == [name for name, _ in MANUAL]
    assert html.count("<table") == 5
    assert "13 CQP de la branche, par filière (5 filières)" in html
    assert "· 1 CQP</small>" in html and "· 4 CQP</small>" in html
    # Each CQP in its filière's table, in the manual's order.
    sections = re.split(r'<h2 id="filiere-\d+">', html)[1:]
    for (name, codes), section in zip(MANUAL, sections, strict=True):
        assert section.startswith(name)
        assert re.findall(r"<tr><td>([A-Z]+-[A-Z]+)</td>", section) == codes
    assert "(s)" not in html


def test_an_inactive_cqp_stays_in_its_filiere(client, secretary):
    cqp = get_cqp("LOG-ANL")
    cqp.active = False
    db.session.commit()
    try:
        html = page_text(client.get("/referentiel/cqp"))
    finally:
        cqp.active = True  # the referential is kept between tests
        db.session.commit()
    logistique = html.split('id="filiere-3">')[1].split("<h2")[0]
    assert "LOG-ANL" in logistique and "<strong>Inactif</strong>" in logistique


def test_a_filiere_is_placed_by_its_first_cqp_in_the_referential(app_ctx):
    from app.referential.services import list_cqps

    cqp = get_cqp("FAB-OPF")
    cqp.domain = "Qualité"
    db.session.flush()
    groups = by_filiere(list_cqps(include_inactive=True))
    assert groups[0] == ("Qualité", [cqp])
    assert groups[1][0] == "Fabrication" and "FAB-OPF" not in [c.code for c in groups[1][1]]
    db.session.rollback()
