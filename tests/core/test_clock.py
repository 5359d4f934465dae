"""The one clock: APP_TODAY moves "today" outside production, and the file's story follows it."""

from __future__ import annotations

from datetime import date

import pytest

from app.core import clock
from app.files.models import FileStatus
from app.files.workflow import fire
from tests import factories


def test_today_follows_app_today(app_ctx, today_is):
    today_is("2027-03-12")
    assert clock.today() == date(2027, 3, 12)
    assert clock.now().date() == date(2027, 3, 12)


def test_a_malformed_app_today_is_named(app_ctx, today_is):
    today_is("12/03/2027")
    with pytest.raises(clock.ClockError, match="AAAA-MM-JJ"):
        clock.today()


def test_app_today_is_refused_in_production(app, app_ctx, today_is, monkeypatch):
    today_is("2027-03-12")
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    with pytest.raises(clock.ClockError, match="production"):
        clock.today()


def test_the_files_story_is_dated_by_the_app_clock(app_ctx, today_is):
    """A demo or a test moved in time keeps coherent dates: creation, history, status change."""
    today_is("2027-03-01")
    file = factories.make_file()
    company = factories.make_user("entreprise", establishment=file.establishment)
    fire(file, "confirm_assessor", company)
    assert file.status == FileStatus.EN_ATTENTE_EVALUATION
    assert file.created_at.date() == date(2027, 3, 1)
    assert file.status_changed_at.date() == date(2027, 3, 1)
    assert file.history[-1].at.date() == date(2027, 3, 1)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2027, 3, 12), 9, date(2027, 12, 12)),
    (date(2027, 5, 31), 9, date(2028, 2, 29)),   # clamped to the end of a leap February
    (date(2027, 1, 31), 1, date(2027, 2, 28)),
    (date(2027, 12, 1), 1, date(2028, 1, 1)),    # across the year
    (date(2027, 12, 1), 12, date(2028, 12, 1)),
    (date(2027, 3, 31), -1, date(2027, 2, 28)),  # backwards
])
def test_add_months(day, months, expected):
    assert clock.add_months(day, months) == expected
