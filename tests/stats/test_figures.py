"""Each figure of the statistics (app.stats.figures) against the hand-made branch of tests/stats/dataset.py."""

import pytest

from app.stats import figures
from app.stats.filters import StatsFilters
from tests.stats.dataset import build_branch


@pytest.fixture
def branch(app_ctx):
    return build_branch()


def test_files_by_status_counts_every_status(branch):
    assert figures.files_by_status(StatsFilters()) == {
        "en_cours_inscription": 1, "en_attente_evaluation": 1, "validation_evaluation": 1, "inscription_jury": 0,
        "valide": 1, "partiel": 1, "non_valide": 1, "abandonne": 1,
    }


def test_funnel_counts_files_that_reached_each_step_from_the_history(branch):
    steps = figures.funnel(StatsFilters(), 7)
    assert [(s["step"], s["files"]) for s in steps] == [
        ("en_cours_inscription", 7), ("en_attente_evaluation", 5), ("validation_evaluation", 4),
        ("inscription_jury", 4), ("decision", 3),
    ]
    assert steps[-1]["share"] == round(100 * 3 / 7, 1)


def test_rates_per_cqp(branch):
    rows = {r["cqp_code"]: r for r in figures.by_cqp(StatsFilters())}
    fab = rows["FAB-OPF"]
    assert (fab["files"], fab["decided"], fab["valide"], fab["partiel"], fab["non_valide"]) == (4, 3, 1, 1, 1)
    assert fab["valide_rate"] == fab["partiel_rate"] == fab["non_valide_rate"] == 33.3
    cnd = rows["CND-CLC"]
    assert (cnd["files"], cnd["decided"], cnd["abandonne"], cnd["valide_rate"]) == (3, 0, 1, None)
    assert set(rows) == {"FAB-OPF", "CND-CLC"}


def test_time_in_each_status_median_and_90th_percentile(branch):
    rows = {r["status"]: r for r in figures.time_in_status(StatsFilters())}
    # en_cours_inscription: 2 3 4 6 8 10 → median (4+6)/2 = 5; p90 at 4.5 → 8 + .5 × 2 = 9
    assert (rows["en_cours_inscription"]["stays"], rows["en_cours_inscription"]["median_days"],
            rows["en_cours_inscription"]["p90_days"]) == (6, 5.0, 9.0)
    # en_attente_evaluation: 3 6 14 20 (F5 still there: not counted) → 10; at 2.7 → 14 + .7 × 6 = 18.2
    assert (rows["en_attente_evaluation"]["median_days"], rows["en_attente_evaluation"]["p90_days"]) == (10.0, 18.2)
    # validation_evaluation: 1 2 4 10 → 3; 4 + .7 × 6 = 8.2
    assert (rows["validation_evaluation"]["median_days"], rows["validation_evaluation"]["p90_days"]) == (3.0, 8.2)
    # inscription_jury: 2 8 29 30 → 18.5; 29 + .7 × 1 = 29.7
    assert (rows["inscription_jury"]["median_days"], rows["inscription_jury"]["p90_days"]) == (18.5, 29.7)
    assert set(rows) == {"en_cours_inscription", "en_attente_evaluation", "validation_evaluation", "inscription_jury"}


def test_time_in_status_with_a_single_stay(branch):
    rows = {r["status"]: r for r in figures.time_in_status(StatsFilters(region="974"))}
    # E3: F5 left en_cours after 8 days, F6 after 3 → median 5.5, p90 3 + .9 × 5 = 7.5
    assert (rows["en_cours_inscription"]["median_days"], rows["en_cours_inscription"]["p90_days"]) == (5.5, 7.5)


def test_time_from_registration_to_decision(branch):
    # F2 20, F3 50, F1 70 days → median 50; p90 at 1.8 → 50 + .8 × 20 = 66
    assert figures.time_to_decision(StatsFilters()) == {"files": 3, "median_days": 50.0, "p90_days": 66.0}
    assert figures.time_to_decision(StatsFilters(year=2026)) == {"files": 0, "median_days": None, "p90_days": None}


def test_jury_sessions_seats_fill_rate_and_roll_overs(branch):
    sessions = figures.session_rows(StatsFilters())
    assert [(s["id"], s["capacity"], s["seats_taken"], s["files"], s["rolled_over"], s["fill_rate"]) for s in sessions] \
        == [(branch.s2.id, 5, 1, 1, 0, 20.0), (branch.s1.id, 10, 2, 2, 1, 20.0)]  # S3 cancelled: not shown
    assert figures.sessions_summary(StatsFilters()) == {
        "sessions": 2, "capacity": 15, "seats_taken": 3, "fill_rate": 20.0, "files": 3, "rolled_over": 1,
    }


def test_with_filters_only_sessions_holding_a_filtered_file(branch):
    sessions = figures.session_rows(StatsFilters(siret=branch.e2.siret))
    assert [(s["id"], s["files"]) for s in sessions] == [(branch.s2.id, 1)]


def test_competences_most_often_not_acquired_per_cqp(branch):
    rows = [(r["cqp_code"], r["competence_code"], r["failures"], r["assessed"])
            for r in figures.competences_not_acquired(StatsFilters())]
    # F5's draft is not counted; FAB-OPF C2 failed twice; ties follow the referential's order
    assert rows == [("CND-CLC", "C1", 1, 1), ("FAB-OPF", "C2", 2, 3), ("FAB-OPF", "C1", 1, 3),
                    ("FAB-OPF", "C3", 1, 3)]


def test_competences_most_often_not_validated_per_cqp(branch):
    rows = [(r["cqp_code"], r["competence_code"], r["failures"], r["failure_rate"])
            for r in figures.competences_not_validated(StatsFilters())]
    assert rows == [("FAB-OPF", "C2", 2, 66.7), ("FAB-OPF", "C1", 1, 33.3), ("FAB-OPF", "C3", 1, 33.3)]


@pytest.mark.parametrize("figure", ["competences_not_acquired", "competences_not_validated"])
@pytest.mark.parametrize("cqp", ["FAB-OPF", "CND-CLC"])
def test_competence_counts_are_the_same_with_and_without_filters(branch, figure, cqp):
    # Without filters the results are counted alone, minus the drafts (F5's, in CND-CLC); with a
    # filter, joined to their evaluation or decision and file: both ways give the same rows.
    unfiltered = [r for r in getattr(figures, figure)(StatsFilters()) if r["cqp_code"] == cqp]
    assert getattr(figures, figure)(StatsFilters(cqp=cqp)) == unfiltered


def test_only_the_top_three_competences_per_cqp(app_ctx):
    from datetime import datetime

    from tests.factories import make_assessor, make_establishment
    from tests.stats.dataset import add_file

    establishment, assessor = make_establishment(postcode="69001"), make_assessor()
    add_file(establishment, "FAB-OPF", datetime(2025, 1, 1), [("en_attente_evaluation", 1)], assessor=assessor,
             evaluation=[False, False, False, False, False], competences=5)
    rows = figures.competences_not_acquired(StatsFilters())
    assert [r["competence_code"] for r in rows] == ["C1", "C2", "C3"]


def test_branch_statistics_bundles_every_figure(branch):
    stats = figures.branch_statistics(StatsFilters())
    assert stats.total_files == 7
    assert stats.decisions == {"valide": 1, "partiel": 1, "non_valide": 1}
    assert stats.time_to_decision["median_days"] == 50.0
