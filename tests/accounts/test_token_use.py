"""A token's last use (issue 16): written at most every TOKEN_USE_EVERY, outside the request's transaction,
so that calls sharing one token never queue on its row."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text, update

from app.accounts.auth import TOKEN_USE_EVERY
from app.accounts.models import ApiToken
from app.core import apart
from app.core.clock import utcnow
from app.extensions import db
from tests.factories import make_user


@pytest.fixture
def statements(app_ctx):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engines = {db.engine, apart.engine()}  # the request's, and the writes apart (their own pool on PostgreSQL)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


def _last_used() -> object:
    db.session.expire_all()
    return db.session.scalar(select(ApiToken.last_used_at))


def _set_last_used(moment) -> None:
    db.session.execute(update(ApiToken).values(last_used_at=moment))
    db.session.commit()


def _token_writes(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith("UPDATE") and "api_tokens" in s]


def test_the_first_call_notes_the_use_and_the_next_ones_within_five_minutes_write_nothing(api_as, statements):
    api = api_as(make_user("entreprise"))
    assert api.get("/cqps").status_code == 200
    first = _last_used()
    assert first is not None and abs(utcnow() - first) < timedelta(minutes=1)
    statements.clear()
    for _ in range(3):
        assert api.get("/cqps").status_code == 200
    assert _token_writes(statements) == []
    assert _last_used() == first


def test_a_use_older_than_the_period_is_noted_again(api_as, app_ctx):
    api = api_as(make_user("entreprise"))
    old = utcnow() - TOKEN_USE_EVERY - timedelta(seconds=30)
    assert api.get("/cqps").status_code == 200
    _set_last_used(old)
    assert api.get("/cqps").status_code == 200
    assert _last_used() > old + TOKEN_USE_EVERY


def test_the_note_is_not_part_of_the_request_transaction(api_as, statements):
    """A refused request (404) keeps its use noted; the request itself never updates the token's row."""
    api = api_as(make_user("entreprise"))
    statements.clear()
    assert api.get("/files/999999").status_code == 404
    assert _last_used() is not None
    writes = _token_writes(statements)
    assert len(writes) == 1 and "SELECT" in writes[0].upper()  # the conditional UPDATE … WHERE id IN (SELECT …)


def test_calls_sharing_a_token_do_not_wait_on_its_row(app, api_as, app_ctx):
    """PostgreSQL: while another transaction holds the token's row (as a long request used to), calls with
    that token answer at once, whether their use is due (the row is skipped) or not."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("verrous de ligne : PostgreSQL (TEST_DATABASE_URL)")
    api = api_as(make_user("entreprise"))
    assert api.get("/cqps").status_code == 200
    _set_last_used(utcnow() - TOKEN_USE_EVERY - timedelta(minutes=1))
    holder = db.engine.connect()
    transaction = holder.begin()
    holder.execute(text("SELECT id FROM api_tokens FOR UPDATE"))
    try:
        answers: list[tuple[int, float]] = []

        def call() -> None:
            with app.app_context():
                started = time.monotonic()
                status = api.get("/cqps").status_code
                answers.append((status, time.monotonic() - started))

        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert [status for status, _ in answers] == [200] * 4
        assert max(seconds for _, seconds in answers) < 3
    finally:
        transaction.rollback()
        holder.close()
    assert api.get("/cqps").status_code == 200  # the row free again: the due use is noted
    assert _last_used() > utcnow() - timedelta(minutes=1)
