"""The French filters of core/templating: plurals (0 and 1 singular), dates."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.core.templating import born_on, datetime_fr, pluriel


@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 place"), (1, "1 place"), (2, "2 places"), (300, "300 places"), (1234, "1\u202f234 places"),
    (None, "0 place"), (-1, "-1 place"), (-2, "-2 places"),
])
def test_pluriel_takes_the_singular_for_0_and_1(count, expected):
    assert pluriel(count, "place", "places") == expected


def test_pluriel_without_a_plural_adds_an_s_and_keeps_an_irregular_one():
    assert pluriel(3, "dossier") == "3 dossiers"
    assert pluriel(2, "session tenue", "sessions tenues") == "2 sessions tenues"
    assert pluriel(2, "bureau", "bureaux") == "2 bureaux"


def test_pluriel_as_a_jinja_filter(app):
    render = app.jinja_env.from_string('{{ n|pluriel("prise", "prises") }} sur {{ total|pluriel("place") }}').render
    assert render(n=0, total=300) == "0 prise sur 300 places"
    assert render(n=1, total=1) == "1 prise sur 1 place"


def test_datetime_fr_reads_utc_as_paris_time():
    assert datetime_fr(datetime(2026, 12, 1, 21, 5)) == "1er décembre 2026 à 22 h 05"  # winter: UTC+1
    assert datetime_fr(datetime(2027, 7, 14, 8, 0)) == "14 juillet 2027 à 10 h 00"  # summer: UTC+2
    assert datetime_fr(None) == ""


def test_born_on_agrees_with_the_sex_and_never_writes_ne_e():
    assert (born_on("F"), born_on("M"), born_on(None), born_on("")) == (
        "née le", "né le", "date de naissance :", "date de naissance :")
