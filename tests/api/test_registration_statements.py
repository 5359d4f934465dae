"""POST /api/v1/files/{id}/register-jury in a fixed number of SQL statements (issue 16: 200 registrations a
second), counted on both engines (the request's and the writes apart, where the seat is taken on
PostgreSQL), whatever the number of sessions, of files already registered and of the file's history."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from app.accounts.models import Establishment
from app.core import apart
from app.extensions import db
from app.files.models import FileStatus, StatusChange
from app.jury.models import JurySession
from tests.factories import make_establishment, make_session, make_user
from tests.jury.helpers import add_session_files, make_file

# The token with its user (1); the file with what the answer shows, its one-to-ones joined and the session
# asked outer-joined (1), its collections: correction request, acquired competences, competences,
# documents, history with its actors, invitations, the assessor's CQPs, the evaluation's results (8); the
# seat's conditional UPDATE (1); the workflow's correction check and the webhooks (2); the file's one
# UPDATE, its history line, the audit entry (3).
REGISTRATION = 16
ROLLED_OVER = REGISTRATION + 2  # the UPDATE that finds no seat, then the later sessions with one (R8)


@pytest.fixture(autouse=True)
def _today(today_is, app_ctx):
    today_is("2027-05-01")


@pytest.fixture
def company(app_ctx):
    establishment = make_establishment()
    return establishment, make_user("entreprise", establishment=establishment)


def _statements(client, file_id: int, session_id: int) -> tuple[dict, list[str]]:
    db.session.expunge_all()  # as a new request finds it: nothing in the identity map
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    engines = {db.engine, apart.engine()}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.post(f"/files/{file_id}/register-jury", json={"jury_session_id": session_id})
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.json
    return response.json, sent


def _history(file_id: int, actor_id: int, n: int = 1) -> None:
    """n lines of the file's history by that actor (unregistered and registered again): the answer names them
    (another user than the caller, whom the identity map would hold already)."""
    db.session.execute(insert(StatusChange), [
        {"file_id": file_id, "from_status": "validation_evaluation", "to_status": "inscription_jury",
         "event": "register_jury", "actor_id": actor_id, "at": datetime(2027, 4, 1)} for _ in range(n)])
    db.session.commit()


def _warm(client, file_id: int) -> None:
    """The token's use is noted at most every 5 minutes: noted here, not counted."""
    assert client.get(f"/files/{file_id}").status_code == 200


def test_a_registration_runs_a_fixed_number_of_statements(company, api_as):
    establishment, user = company
    file_id = make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment).id
    _history(file_id, make_user("secretariat").id)
    session_id = make_session(on=date(2027, 6, 15), capacity=5).id
    client = api_as(user)
    _warm(client, file_id)
    answer, sent = _statements(client, file_id, session_id)
    assert (answer["status"], answer["jury_session"]["id"], answer["rolled_over"]) == (
        "inscription_jury", session_id, False)
    assert len(sent) == REGISTRATION, "\n".join(sent)
    assert sum(s.lstrip().upper().startswith("UPDATE CANDIDATE_FILES") for s in sent) == 1


def test_the_count_does_not_grow_with_sessions_registered_files_or_history(company, api_as):
    establishment, user = company
    establishment_id = establishment.id
    client = api_as(user)
    first_id = make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment).id
    _history(first_id, make_user("secretariat").id)
    asked = make_session(on=date(2027, 6, 15), capacity=400)
    asked_id = asked.id
    _warm(client, first_id)
    _, with_few = _statements(client, first_id, asked_id)

    establishment = db.session.get(Establishment, establishment_id)  # expunged by the count
    add_session_files(db.session.get(JurySession, asked_id), 120, establishment=establishment)
    db.session.execute(insert(JurySession), [
        {"date": date(2027, 7, 1) + timedelta(days=i), "capacity": 10, "seats_taken": 0,
         "created_at": datetime(2027, 4, 1)} for i in range(40)])
    db.session.commit()
    second_id = make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment).id
    _history(second_id, make_user("secretariat").id, 30)
    answer, with_many = _statements(client, second_id, asked_id)
    assert answer["jury_session"]["id"] == asked_id
    assert len(with_many) == len(with_few) == REGISTRATION


def test_a_registration_rolled_over_reads_the_later_sessions_once(company, api_as):
    establishment, user = company
    file_id = make_file(FileStatus.VALIDATION_EVALUATION, establishment=establishment).id
    _history(file_id, make_user("secretariat").id)
    full_id = make_session(on=date(2027, 6, 15), capacity=1, seats_taken=1).id
    later_id = make_session(on=date(2027, 9, 15)).id
    client = api_as(user)
    _warm(client, file_id)
    answer, sent = _statements(client, file_id, full_id)
    assert (answer["jury_session"]["id"], answer["rolled_over"]) == (later_id, True)
    assert len(sent) == ROLLED_OVER, "\n".join(sent)
