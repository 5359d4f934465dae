"""Server-rendered SVG charts (app.stats.charts): an image with its title and description, bars in
proportion, French numbers, nothing unescaped."""

import re

import pytest

from app.stats import charts, figures
from app.stats.filters import StatsFilters
from tests.stats.dataset import build_branch


def widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)"', svg)]


def test_a_bar_chart_is_a_described_image_with_bars_in_proportion():
    svg = str(charts.bar_chart("c1", "Dossiers", "Dossiers par statut.", [("A", 10), ("B", 5), ("C", None)]))
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert "<title id=\"c1-title\">Dossiers</title>" in svg and "Dossiers par statut." in svg
    full, half, none = widths(svg)
    assert half == pytest.approx(full / 2) and none == 0
    assert ">–</text>" in svg  # no value


def test_numbers_are_written_the_french_way():
    assert charts._number(12.5, " j") == "12,5 j" and charts._number(40.0, " %") == "40 %"
    assert charts._number(None) == "–" and charts._number(7) == "7"


def test_labels_are_escaped_and_shortened():
    svg = str(charts.bar_chart("c2", "T", "D", [("<script>alert(1)</script> et un libellé bien trop long", 1)]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "…" in svg


def test_an_empty_chart_says_so():
    assert "Aucune donnée" in str(charts.bar_chart("c3", "T", "D", []))
    assert "Aucune donnée" in str(charts.stacked_chart("c4", "T", "D", []))


def test_a_stacked_chart_splits_each_row_in_percentages_with_a_legend():
    svg = str(charts.stacked_chart("c5", "Décisions", "D", [
        ("FAB-OPF", [("Validé", 3, "green"), ("Partiel", 1, "orange"), ("Non validé", 0, "red")]),
        ("CND-CLC", [("Validé", 0, "green"), ("Partiel", 0, "orange"), ("Non validé", 0, "red")]),
    ]))
    assert "75 %" in svg and "25 %" in svg and "pas encore de décision" in svg
    assert all(label in svg for label in ("Validé", "Partiel", "Non validé"))


def test_the_statistics_page_charts(app_ctx, today_is):
    today_is("2026-06-01")
    build_branch()
    drawn = charts.statistics_charts(figures.branch_statistics(StatsFilters(year=2025)))
    assert set(drawn) == {"statuses", "funnel", "cqp", "durations", "sessions"}
    assert "année 2025" in str(drawn["statuses"])  # the description names the filters
    assert "10/03/2025" in str(drawn["sessions"])
