"""The jury calendar: create, edit, cancel (files moved to the next session with a seat), late
sessions (R10), and the files of a session as its pages load them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.mail import send_pending
from app.extensions import db
from app.files.models import FileStatus
from app.jury import sessions
from app.jury.session_page import session_page
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import add_session_files, count_statements, decide, make_file

JURY_DAY = date(2027, 6, 15)


@pytest.fixture(autouse=True)
def _today(today_is):
    today_is("2027-03-12")


def test_create_session_with_its_members(secretariat):
    member = make_user("jury")
    jury_session = sessions.create_session(date=date(2027, 6, 15), capacity=30, location="Paris",
                                           member_ids=[member.id], actor=secretariat)
    assert (jury_session.capacity, jury_session.seats_taken, jury_session.location) == (30, 0, "Paris")
    assert jury_session.members == [member] and jury_session.registration_deadline == date(2027, 5, 25)
    assert jury_session.state == "ouverte"


def test_a_session_cannot_be_created_in_the_past(secretariat):
    with pytest.raises(ValidationFailed) as refused:
        sessions.create_session(date=date(2027, 3, 11), capacity=10, actor=secretariat)
    assert "date" in refused.value.errors and "passée" in refused.value.message


@pytest.mark.parametrize("capacity", [0, -3, None])
def test_a_session_needs_at_least_one_seat(secretariat, capacity):
    with pytest.raises(ValidationFailed) as refused:
        sessions.create_session(date=date(2027, 6, 15), capacity=capacity, actor=secretariat)
    assert "capacity" in refused.value.errors


def test_members_must_have_the_jury_role(secretariat):
    company = make_user("entreprise")
    with pytest.raises(ValidationFailed) as refused:
        sessions.create_session(date=date(2027, 6, 15), capacity=5, member_ids=[company.id], actor=secretariat)
    assert "member_ids" in refused.value.errors


def test_capacity_cannot_drop_below_the_seats_taken(secretariat):
    jury_session = make_session(on=date(2027, 6, 15), capacity=10, seats_taken=4)
    with pytest.raises(ValidationFailed) as refused:
        sessions.update_session(jury_session, date=jury_session.date, capacity=3, actor=secretariat)
    assert "(4)" in refused.value.message
    db.session.refresh(jury_session)
    assert jury_session.capacity == 10
    sessions.update_session(jury_session, date=date(2027, 6, 22), capacity=4, location="Lyon", actor=secretariat)
    assert (jury_session.capacity, jury_session.date, jury_session.location) == (4, date(2027, 6, 22), "Lyon")


def test_a_cancelled_or_published_session_cannot_be_edited(secretariat):
    cancelled = make_session(on=JURY_DAY, cancelled_at=datetime(2027, 3, 1))
    published = make_session(on=JURY_DAY, published_at=datetime(2027, 3, 1))
    for jury_session, word in ((cancelled, "annulée"), (published, "publiée")):
        with pytest.raises(Conflict) as refused:
            sessions.update_session(jury_session, date=JURY_DAY, capacity=5, actor=secretariat)
        assert word in refused.value.message


@pytest.mark.parametrize(("today", "state"), [
    ("2027-05-25", "ouverte"), ("2027-05-26", "close"), ("2027-06-15", "tenue"),
])
def test_session_state_follows_the_calendar(app_ctx, today_is, today, state):
    jury_session = make_session(on=date(2027, 6, 15))
    today_is(today)
    assert jury_session.state == state


def test_get_session_refuses_what_is_not_a_session(app_ctx):
    jury_session = make_session(on=JURY_DAY)
    assert sessions.get_session(str(jury_session.id)) is jury_session
    for value in ("999999", "abc", "", "-1", "9" * 30):
        with pytest.raises(NotFound) as refused:
            sessions.get_session(value)
        assert "jury_session_id" in refused.value.errors


def test_a_member_sits_on_their_sessions_but_not_the_cancelled_ones(app_ctx):
    member = make_user("jury")
    later, sooner, cancelled = (make_session(on=date(2027, m, 15)) for m in (9, 6, 7))
    cancelled.cancelled_at = datetime(2027, 3, 1)
    make_session(on=date(2027, 8, 15))  # without them
    for jury_session in (later, sooner, cancelled):
        jury_session.members.append(member)
    db.session.commit()
    assert sessions.sessions_of_member(member) == [sooner, later]


def test_cancelling_moves_files_to_the_next_session_and_tells_companies(secretariat, mailbox):
    establishment = make_establishment(contact_email="rh@exemple.fr")
    cancelled = make_session(on=date(2027, 6, 15), capacity=5)
    next_one = make_session(on=date(2027, 9, 15), capacity=1)
    moved = make_file(FileStatus.INSCRIPTION_JURY, session=cancelled, establishment=establishment)
    stranded = make_file(FileStatus.INSCRIPTION_JURY, session=cancelled, establishment=establishment)
    counts = sessions.cancel_session(cancelled, secretariat, reason="Salle indisponible")
    db.session.commit()
    send_pending()
    assert counts == {"moved": 1, "unregistered": 1}
    assert moved.jury_session_id == next_one.id and moved.status == "inscription_jury" and moved.rolled_over
    assert moved.jury_session is next_one
    assert stranded.status == "validation_evaluation" and stranded.jury_session_id is None
    assert (cancelled.seats_taken, next_one.seats_taken) == (0, 1)
    assert cancelled.state == "annulee"
    texts = [mailbox.text_of(m) for m in mailbox.to("rh@exemple.fr")]
    assert any("reporté à la session du 15 septembre 2027" in t for t in texts)
    assert any("revient au statut « Validation de l'évaluation »" in t for t in texts)


def test_a_session_with_decisions_cannot_be_cancelled(secretariat, today_is):
    jury_session = make_session(on=date(2027, 6, 15))
    make_file(FileStatus.VALIDE, session=jury_session)
    with pytest.raises(Conflict):
        sessions.cancel_session(jury_session, secretariat)
    assert jury_session.cancelled_at is None


def test_a_session_is_cancelled_once(secretariat):
    jury_session = make_session(on=JURY_DAY)
    sessions.cancel_session(jury_session, secretariat)
    with pytest.raises(Conflict) as refused:
        sessions.cancel_session(jury_session, secretariat)
    assert "déjà annulée" in refused.value.message


# ---------------------------------------------------------------- late sessions (R10)


@pytest.fixture
def clock_at(monkeypatch, today_is):
    """Sets the business clock to a datetime (APP_TODAY gives the day, the time of day is patched)."""

    def set_clock(at: datetime) -> None:
        today_is(at.date())
        monkeypatch.setattr("app.jury.models.app_now", lambda: at)

    return set_clock


@pytest.mark.parametrize(("at", "late"), [
    (datetime(2027, 6, 16, 23, 59), False),
    (datetime(2027, 6, 17, 0, 0), False),
    (datetime(2027, 6, 17, 0, 1), True),
])
def test_sessions_unpublished_48_hours_after_their_date_are_late(app_ctx, clock_at, at, late):
    jury_session = make_session(on=JURY_DAY)
    clock_at(at)
    assert (jury_session in sessions.late_sessions()) is late
    assert jury_session.is_late is late


def test_published_or_cancelled_sessions_are_never_late(app_ctx, clock_at):
    published = make_session(on=JURY_DAY, published_at=datetime(2027, 6, 16))
    cancelled = make_session(on=JURY_DAY, cancelled_at=datetime(2027, 6, 1))
    clock_at(datetime(2027, 7, 1))
    late = sessions.late_sessions()
    assert published not in late and cancelled not in late


# ---------------------------------------------------------------- a session's files, as its pages show them


def test_the_session_page_counts_the_decisions_and_what_to_print(secretariat, today_is):
    jury_session = make_session(on=JURY_DAY)
    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(4)]
    today_is(JURY_DAY)
    decide(files[0], secretariat, True)
    decide(files[1], secretariat, [True, False, False])
    decide(files[2], secretariat, False)
    db.session.commit()
    page = session_page(jury_session)
    assert [f.id for f in page.files] == [f.id for f in files]
    assert [f.id for f in page.files if f.printable] == [files[0].id, files[1].id] and page.batches == []
    assert (page.printable, page.to_print, page.printed_count, page.sent_count) == (2, 2, 0, 0)
    assert (page.summary.total, page.summary.decided, page.summary.undecided) == (4, 3, 1)
    assert page.summary.counts == {"valide": 1, "partiel": 1, "non_valide": 1}


def test_the_files_to_examine_leave_out_the_withdrawn_ones(app_ctx):
    jury_session = make_session(on=JURY_DAY)
    kept = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    withdrawn = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    withdrawn.status = FileStatus.ABANDONNE.value
    db.session.commit()
    assert sessions.files_to_examine(jury_session) == [kept]


def test_the_files_to_examine_come_in_the_same_statements_for_3_and_300(app_ctx):
    def statements_for(jury_session) -> int:
        db.session.expire_all()
        with count_statements() as statements:
            for f in sessions.files_to_examine(jury_session):
                _ = (f.candidate.full_name, f.establishment.name, f.cqp.code, f.assessor.name, f.competences,
                     f.evaluation.results, [i.observations for i in f.invitations], f.documents)
        return len(statements)

    small, large = make_session(on=JURY_DAY), make_session(on=date(2027, 7, 15))
    add_session_files(small, 3)
    add_session_files(large, 300)
    assert statements_for(small) == statements_for(large) <= 10


# ---------------------------------------------------------------- a past registration deadline asks for confirmation


def test_a_session_whose_deadline_is_past_is_created_only_when_confirmed(secretariat):
    with pytest.raises(ValidationFailed) as refused:  # today 2027-03-12: deadline of 2027-03-20 is 2027-02-27
        sessions.create_session(date=date(2027, 3, 20), capacity=10, actor=secretariat)
    assert list(refused.value.errors) == ["date"] and "27/02/2027" in refused.value.message
    assert "Confirmez" in refused.value.message
    created = sessions.create_session(date=date(2027, 3, 20), capacity=10, actor=secretariat,
                                      confirm_past_deadline=True)
    assert created.id and created.state == "close"
    assert sessions.create_session(date=date(2027, 4, 2), capacity=5, actor=secretariat).state == "ouverte"
