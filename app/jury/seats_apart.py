"""Jury seats taken apart from the registering request's transaction (issue 16: 200 registrations a second).

A seat is one conditional UPDATE of the session's row (registration.take_seat). Inside the request's
transaction that row would stay locked until the request commits, and every other registration to the
same session would wait for it: they would run one at a time. On PostgreSQL the UPDATE therefore runs in
its own short autocommit transaction (its row lock lasts that statement), and the seat is remembered on
the ORM session: if the request's transaction (or the savepoint the seat was taken in) rolls back, or
ends without a commit, the seat is given back the same way. A seat is never sold twice (the WHERE and the
CHECK constraint); a process killed between the two leaves a seat counted and unused, never one oversold.

SQLite (development) has no row locks worth avoiding and one writer at a time: the UPDATE stays in the
request's transaction there. So does it on PostgreSQL when this transaction already holds the row (it
freed a seat of that session: free_seat marks it), since a second connection would wait for it forever;
and when the row stays locked by another transaction beyond apart.LOCK_TIMEOUT."""

from __future__ import annotations

import logging

from sqlalchemy import event, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Update

from app.core import apart
from app.extensions import db

log = logging.getLogger(__name__)
TAKEN = "jury_seats_taken_apart"  # session.info: [(jury session id, SessionTransaction taken in)]
LOCKED = "jury_sessions_locked_here"  # session.info: ids of the sessions' rows this transaction updated


IN_TRANSACTION = -1  # take(): not run apart, the caller runs the UPDATE in the request's transaction


def take(taking: Update, session_id: int) -> int | None:
    """Runs `taking` (UPDATE … RETURNING seats_taken) in its own transaction: the seats taken, or None
    when there was no seat; IN_TRANSACTION when it must run in the request's transaction instead (SQLite,
    a row this transaction holds, a lock held elsewhere too long), which the caller then does."""
    session = db.session()
    if db.engine.dialect.name != "postgresql" or session_id in session.info.get(LOCKED, set()):
        return IN_TRANSACTION
    try:
        with apart.engine().connect() as connection:  # autocommit, lock_timeout (app.core.apart)
            taken = connection.execute(taking).scalar()
    except OperationalError as error:  # lock_timeout: that row is held by a long transaction; wait in ours
        log.warning("Place de la session %s prise dans la transaction de la requête (%s)", session_id,
                    error.__class__.__name__)
        return IN_TRANSACTION
    if taken is None:  # no seat: the same UPDATE again in the request's transaction would find none either
        return None
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(TAKEN, []).append((session_id, transaction))
    return taken


def locked_here(session_id: int) -> None:
    """This transaction is about to update the session's row itself (a seat freed): later seats of that
    session are taken in it."""
    session = db.session()
    session.get_transaction() or session.begin()
    session.info.setdefault(LOCKED, set()).add(session_id)


def _give_back(session: Session, seats: list[int]) -> None:
    if not seats:
        return
    from app.jury.models import JurySession

    sessions = JurySession.__table__
    try:
        with apart.engine().connect() as connection:  # autocommit: each statement on its own
            for session_id in seats:
                connection.execute(update(sessions).where(sessions.c.id == session_id, sessions.c.seats_taken > 0)
                                   .values(seats_taken=sessions.c.seats_taken - 1))
    except Exception:  # the database gone: the seats stay counted (never oversold), the log says which
        log.exception("Places de jury non rendues après annulation : sessions %s", seats)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _kept(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the outermost commit (not a savepoint's release)
        session.info.pop(TAKEN, None)
        session.info.pop(LOCKED, None)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    taken = session.info.get(TAKEN)
    if taken:
        back = [entry for entry in taken if _within(entry[1], previous_transaction)]
        session.info[TAKEN] = [entry for entry in taken if entry not in back]
        _give_back(session, [session_id for session_id, _ in back])
    if previous_transaction.parent is None:
        session.info.pop(LOCKED, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # ended without a commit (closed): what it took goes back
        taken = session.info.pop(TAKEN, None)
        session.info.pop(LOCKED, None)
        if taken:
            _give_back(session, [session_id for session_id, _ in taken])
