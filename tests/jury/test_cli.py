"""`flask reminders send`: it commits what it queued, delivers the outbox and says what it sent."""

from __future__ import annotations

from datetime import date

from app.core.models import OutboxEmail, SentReminder
from app.extensions import db
from tests.factories import make_assessor


def test_the_command_says_what_it_sent(app_ctx, runner, mailbox):
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "0 rappel aux entreprises" in result.output and "(s)" not in result.output
    assert "Emails : 0 envoyé, 0 à réessayer, 0 en échec." in result.output


def test_the_command_commits_and_delivers_what_is_due(app_ctx, runner, mailbox, today_is):
    today_is("2027-01-10")
    assessor = make_assessor(until=date(2027, 10, 10))
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "1 rappel aux évaluateurs (habilitation finissant dans 9 mois, dans 3 mois, ce jour)" in result.output
    assert "Emails : 1 envoyé," in result.output and len(mailbox.to(assessor.user.email)) == 1
    db.session.rollback()  # what the command wrote is committed
    assert db.session.query(SentReminder).count() == 1 and db.session.query(OutboxEmail).count() == 1
