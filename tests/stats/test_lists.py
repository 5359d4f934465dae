"""The secretariat's lists (app.stats.lists): every file of the branch and the partners' access log,
filtered, searched and sorted in one SELECT of plain columns; the rows of their exports."""

from datetime import datetime

import pytest
from sqlalchemy import insert

from app.accounts.models import PartnerAccessLog, Role
from app.extensions import db
from app.stats import lists
from tests.factories import make_user
from tests.stats.dataset import build_branch


@pytest.fixture
def branch(app_ctx):
    return build_branch()


def ids(query) -> list[int]:
    return [row.id for row in db.session.execute(lists.file_list_statement(query))]


def test_bad_list_arguments_fall_back_to_the_defaults():
    query = lists.parse_file_list_args({"sort": "pirate", "dir": "sideways", "page": "-2", "per_page": "7",
                                        "status": " valide ", "q": "x" * 500})
    assert (query.sort, query.direction, query.page, query.per_page) == ("cree", "desc", 1, 25)
    assert query.filters == {"status": "valide"} and len(query.q) == 100


@pytest.mark.parametrize(("args", "expected"), [
    ({"status": "valide"}, ["F1"]),
    ({"cqp": "cnd-clc"}, ["F4", "F5", "F6"]),
    ({"year": "2025"}, ["F1", "F2", "F3"]),
    ({"year": "3000"}, ["F1", "F2", "F3", "F4", "F5", "F6", "F7"]),  # out of range: no filter
])
def test_the_file_list_filters(branch, args, expected):
    query = lists.parse_file_list_args({**args, "sort": "numero", "dir": "asc"})
    assert ids(query) == sorted(branch.files[name].id for name in expected)


def test_the_siret_filter_and_the_name_search_ignore_spaces_case_and_accents(branch):
    e1 = branch.e1.siret
    spaced = f"{e1[:3]} {e1[3:6]} {e1[6:9]} {e1[9:]}"
    assert ids(lists.parse_file_list_args({"siret": spaced, "sort": "numero"})) == sorted(
        branch.files[n].id for n in ("F1", "F2", "F7"))
    f1 = branch.files["F1"].candidate
    assert branch.files["F1"].id in ids(lists.parse_file_list_args({"q": f1.last_name.upper()}))


def test_a_file_row_is_what_the_export_writes(branch):
    query = lists.parse_file_list_args({"status": "valide"})
    (row,) = db.session.execute(lists.file_list_statement(query)).all()
    line = lists.file_row(row)
    assert len(line) == len(lists.FILE_HEADERS)
    assert line[0] == branch.files["F1"].id and line[7] == "Validé" and line[8] == "valide"
    assert line[11] == branch.s1.date


def test_the_access_log_filters_and_searches(app_ctx):
    partner, other = make_user(Role.PARTENAIRE), make_user(Role.PARTENAIRE)
    at = datetime(2026, 5, 4, 10, 30, 15, 123456)
    db.session.execute(insert(PartnerAccessLog), [
        {"user_id": partner.id, "siret": "73282932000074", "context": "Financement", "recipient": "73282932000074",
         "object": "Dossier 12", "status_code": 200, "ip": "10.0.0.1", "at": at},
        {"user_id": other.id, "siret": "35600000000048", "context": "Contrôle", "recipient": "73282932000074",
         "object": "Audit", "status_code": 422, "ip": "10.0.0.2", "at": at},
    ])
    db.session.commit()

    def objects(args):
        query = lists.parse_access_log_args(args)
        return [row.object for row in db.session.execute(lists.access_log_statement(query))]

    assert objects({"user": partner.email.upper()}) == ["Dossier 12"]
    assert objects({"siret": "356 000 000 00048"}) == ["Audit"]
    assert objects({"q": "contr"}) == ["Audit"]
    assert sorted(lists.partner_callers()) == sorted([partner.email, other.email])
    (row, _) = db.session.execute(lists.access_log_statement(lists.parse_access_log_args({"sort": "statut"}))).all()
    assert lists.access_row(row)[0] == at.replace(microsecond=0) and len(lists.access_row(row)) == len(
        lists.ACCESS_HEADERS)
