"""The statistics' filters (app.stats.filters): read from a query string, refused when malformed,
selecting the files of the hand-made branch of tests/stats/dataset.py; the choices the form offers."""

import pytest

from app.core.errors import ValidationFailed
from app.stats.figures import files_by_status
from app.stats.filters import StatsFilters, filter_choices, parse_filters
from tests.stats.dataset import build_branch


@pytest.fixture
def branch(app_ctx):
    return build_branch()


@pytest.mark.parametrize(("filters", "expected"), [
    ({"year": "2025"}, 3),                       # F1, F2, F3
    ({"year": "2026"}, 4),                       # F4 … F7
    ({"year": "2024"}, 0),
    ({"cqp": "CND-CLC"}, 3),                     # F4, F5, F6
    ({"cqp": "fab-opf"}, 4),                     # codes are case-insensitive
    ({"domain": "Fabrication"}, 4),
    ({"domain": "Maintenance"}, 0),
    ({"region": "69"}, 3),                       # E1: F1, F2, F7
    ({"region": "2A"}, 2),                       # E2 (20100): F3, F4
    ({"region": "974"}, 2),                      # E3 (97411): F5, F6
    ({"year": "2026", "cqp": "FAB-OPF"}, 1),     # F7
])
def test_filters_select_the_files(branch, filters, expected):
    assert sum(files_by_status(parse_filters(filters)).values()) == expected


def test_siret_filter(branch):
    assert sum(files_by_status(StatsFilters(siret=branch.e2.siret)).values()) == 2


@pytest.mark.parametrize(("args", "field"), [
    ({"year": "deux-mille"}, "year"), ({"year": "1850"}, "year"), ({"cqp": "XXX-000"}, "cqp"),
    ({"siret": "12345678901234"}, "siret"), ({"region": "Rhône-Alpes"}, "region"),
])
def test_malformed_filters_are_refused_naming_the_field(app_ctx, args, field):
    with pytest.raises(ValidationFailed) as error:
        parse_filters(args)
    assert field in error.value.errors


def test_filter_choices(branch):
    choices = filter_choices()
    assert choices["years"] == [2026, 2025]
    assert choices["regions"] == ["2A", "69", "974"]
    assert "Fabrication" in choices["domains"]


def test_filters_as_arguments_and_in_words():
    filters = StatsFilters(year=2025, cqp="FAB-OPF", region="2A")
    assert filters.active and not StatsFilters().active
    assert filters.as_args() == {"year": "2025", "cqp": "FAB-OPF", "region": "2A"}
    assert filters.list_args() == {"year": "2025", "cqp": "FAB-OPF"}  # what the file list knows
    assert filters.describe() == "année 2025, CQP FAB-OPF, département 2A"
    assert StatsFilters().describe() == "toute la branche"
