"""The application factory's request rules (app/__init__.py): a request commits once, and every
failure rolls back and answers in French — a page, or problem+json under /api/. Here the failures
the views never raise themselves: a conflict found by the database at commit (409), the database
gone (503), an unexpected exception (500)."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from app.accounts.models import ApiToken, Establishment, OneTimeToken, User
from app.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_user, valid_siret


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def conflict_at_commit(app_ctx):
    """The next commit meets a unique constraint, as when a concurrent request took the same value
    between this request's checks and its commit: a second account with a taken address is added
    just before the commit."""
    taken = make_user("jury", email="deja.pris@exemple.fr")
    state = {"armed": False}

    def add_duplicate(session):
        if state["armed"]:
            state["armed"] = False
            session.add(User(email=taken.email, role="jury", session_nonce="x"))

    event.listen(db.session, "before_commit", add_duplicate)
    yield state
    event.remove(db.session, "before_commit", add_duplicate)


class FailingStatements:
    """fail(exception): from then on every SQL statement reading the CQP table raises it (the rest,
    the user's login, still works); stop(): the database answers again."""

    def __init__(self):
        self.exception: Exception | None = None

    def fail(self, exception: Exception) -> None:
        self.exception = exception

    def stop(self) -> None:
        self.exception = None

    def before_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.exception is not None and "FROM cqps" in statement:
            raise self.exception


@pytest.fixture
def failing_statements(app_ctx):
    failing = FailingStatements()
    event.listen(db.engine, "before_cursor_execute", failing.before_execute)
    yield failing
    event.remove(db.engine, "before_cursor_execute", failing.before_execute)


def _database_gone() -> OperationalError:
    return OperationalError("SELECT … FROM cqps", {}, ConnectionRefusedError("connection refused"))


def _is_problem(response, status: int, detail: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["status"], body["detail"]) == (status, detail) and body["title"]


# ---------------------------------------------------------------- 409: the database refuses the commit


def test_a_conflict_at_commit_is_a_409_page_and_keeps_nothing(conflict_at_commit, client, mailbox):
    make_user("entreprise", email="rh@exemple.fr")
    token = csrf_token(client, "/mot-de-passe-oublie")
    conflict_at_commit["armed"] = True
    response = client.post("/mot-de-passe-oublie", data={"email": "rh@exemple.fr", "csrf_token": token})
    assert response.status_code == 409
    assert "L'opération entre en conflit avec une donnée existante." in unescape(response.get_data(as_text=True))
    assert _count(OneTimeToken) == 0  # the reset link was rolled back with the rest
    assert mailbox.to("rh@exemple.fr") == []  # and its email never left


def test_a_conflict_at_commit_is_a_409_problem_for_the_api(conflict_at_commit, api_as):
    api = api_as(make_user("secretariat"))
    conflict_at_commit["armed"] = True
    response = api.post("/establishments", json={"siret": valid_siret(), "name": "Chimie du Nord"})
    _is_problem(response, 409, "L'opération entre en conflit avec une donnée existante.")
    assert _count(Establishment) == 0


# ---------------------------------------------------------------- 503: the database does not answer


def test_a_database_gone_is_a_503_page(failing_statements, client, login_as, caplog):
    login_as(make_user("secretariat"))
    failing_statements.fail(_database_gone())
    response = client.get("/referentiel/cqp")
    assert response.status_code == 503
    assert "Le service est momentanément indisponible." in unescape(response.get_data(as_text=True))
    assert "Base de données indisponible" in caplog.text


def test_a_database_gone_is_a_503_problem_for_the_api(failing_statements, api_as):
    api = api_as(make_user("entreprise"))
    failing_statements.fail(_database_gone())
    _is_problem(api.get("/cqps"), 503, "Le service est momentanément indisponible.")


# ---------------------------------------------------------------- 500: a bug


def test_an_unexpected_exception_is_a_500_page_and_is_logged(failing_statements, client, login_as, caplog):
    login_as(make_user("secretariat"))
    failing_statements.fail(RuntimeError("une erreur de programmation"))
    response = client.get("/referentiel/cqp")
    assert response.status_code == 500
    page = unescape(response.get_data(as_text=True))
    assert "Une erreur inattendue s'est produite. L'équipe technique a été prévenue." in page
    assert "une erreur de programmation" not in page  # no internals shown
    assert "Erreur inattendue" in caplog.text and "une erreur de programmation" in caplog.text


def test_an_unexpected_exception_is_a_500_problem_for_the_api(failing_statements, api_as):
    api = api_as(make_user("entreprise"))
    failing_statements.fail(RuntimeError("une erreur de programmation"))
    response = api.get("/cqps")
    _is_problem(response, 500, "Une erreur inattendue s'est produite. L'équipe technique a été prévenue.")
    assert "une erreur de programmation" not in response.get_data(as_text=True)


def test_a_failed_request_keeps_nothing_it_wrote(failing_statements, api_as):
    """The request fails after loading its caller: rolled back, the 500 answered. The token's
    `last_used_at` is not the request's write (issue 16: its own short transaction, so that calls
    sharing a token never wait on its row), so the failed call's use is noted all the same."""
    api = api_as(make_user("entreprise"))
    failing_statements.fail(RuntimeError("après une écriture"))
    assert api.get("/cqps").status_code == 500
    noted = db.session.scalar(select(ApiToken.last_used_at))
    assert noted is not None
    failing_statements.stop()  # the database answers again: the same call, the use not written again
    assert api.get("/cqps").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) == noted
