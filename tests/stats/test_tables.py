"""The statistic tables of the exports (app.stats.tables): one row per figure, as many cells as
headers, the same figures as the page for the same filters."""

import pytest

from app.stats import figures
from app.stats.filters import StatsFilters
from app.stats.tables import STAT_TABLES, stat_table
from tests.stats.dataset import build_branch


@pytest.fixture
def branch(app_ctx):
    return build_branch()


@pytest.mark.parametrize("name", list(STAT_TABLES))
@pytest.mark.parametrize("filters", [StatsFilters(), StatsFilters(cqp="FAB-OPF"), StatsFilters(year=2024)])
def test_every_row_has_a_cell_per_header(branch, name, filters):
    headers, rows = stat_table(name, filters)
    rows = list(rows)
    assert headers and all(len(row) == len(headers) for row in rows)


def test_the_status_table_holds_the_counts_and_their_shares(branch):
    headers, rows = stat_table("statuts", StatsFilters(year=2025))
    rows = list(rows)
    assert {row[1]: row[2] for row in rows} == figures.files_by_status(StatsFilters(year=2025))
    assert [row[3] for row in rows if row[1] == "valide"] == [33.3]  # 1 of F1, F2, F3


def test_the_durations_table_ends_with_registration_to_decision(branch):
    _headers, rows = stat_table("durees", StatsFilters())
    assert list(rows)[-1] == ["De l'inscription à la décision", "decision", 3, 50.0, 66.0]


def test_the_sessions_table_streams_every_session_not_cancelled(branch):
    _headers, rows = stat_table("sessions", StatsFilters())
    assert [(row[0], row[3], row[4], row[7]) for row in rows] == [(branch.s2.id, 5, 1, 0), (branch.s1.id, 10, 2, 1)]


def test_an_unknown_table_is_a_key_error(branch):
    with pytest.raises(KeyError):
        stat_table("inconnue", StatsFilters())
