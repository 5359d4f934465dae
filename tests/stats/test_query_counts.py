"""Every page runs a bounded number of queries: the same with 5 and with 500 files."""

from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select

from app.extensions import db
from app.files.models import (
    Candidate,
    CandidateFile,
    Evaluation,
    EvaluationResult,
    JobAssessorInvitation,
    StatusChange,
    file_competences,
)
from app.jury.models import Decision, DecisionResult, JurySession, Parchment, jury_members
from app.referential.models import Competence
from tests.factories import get_cqp, make_assessor, make_establishment, make_session, make_user

STATUSES = ["en_cours_inscription", "en_attente_evaluation", "validation_evaluation", "inscription_jury", "valide"]


@contextmanager
def count_queries():
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def add_files(n: int, *, establishment, assessor, session, candidate_user=None, offset: int = 0,
              statuses=STATUSES, actor=None) -> None:
    """n files of the establishment in every status (taken in turn from `statuses`), with history (by
    `actor`), invitations and draft evaluations; the `valide` ones with their decision and parchment."""
    cqp = get_cqp("FAB-OPF")
    competence_ids = list(db.session.scalars(select(Competence.id).where(Competence.cqp_id == cqp.id)
                                             .order_by(Competence.position).limit(3)))
    now = datetime(2026, 1, 5, 10, 0)
    base = (db.session.scalar(select(db.func.max(CandidateFile.id))) or 0) + 1
    cand_base = (db.session.scalar(select(db.func.max(Candidate.id))) or 0) + 1
    candidates, files, links, invitations, evaluations, results, history = [], [], [], [], [], [], []
    decisions, decision_results, parchments = [], [], []
    for i in range(n):
        status = statuses[i % len(statuses)]
        file_id, cand_id = base + i, cand_base + i
        candidates.append({"id": cand_id, "establishment_id": establishment.id, "first_name": "Léa",
                           "last_name": f"Bulk{offset + i}", "first_name_key": "lea",
                           "last_name_key": f"bulk{offset + i}", "birth_date": date(1990, 1, 1),
                           "user_id": candidate_user.id if candidate_user else None})
        in_session = status in ("inscription_jury", "valide")
        files.append({"id": file_id, "candidate_id": cand_id, "establishment_id": establishment.id,
                      "cqp_id": cqp.id, "status": status, "training_path": "formation",
                      "training_scheme": "vae", "assessor_id": assessor.id,
                      "planned_interview_date": date(2026, 1, 10), "assessor_confirmed_on": date(2026, 1, 1),
                      "jury_session_id": session.id if in_session else None, "rolled_over": False,
                      "created_at": now, "updated_at": now, "status_changed_at": now,
                      "decided_at": now if status == "valide" else None})
        links += [{"file_id": file_id, "competence_id": c} for c in competence_ids]
        history.append({"file_id": file_id, "from_status": "en_cours_inscription", "to_status": status,
                        "event": "confirm_assessor", "at": now, "actor_id": actor.id if actor else None})
        if status == "valide":
            decisions.append({"id": file_id, "file_id": file_id, "session_id": session.id, "status": status,
                              "decided_at": now})
            decision_results += [{"decision_id": file_id, "competence_id": c, "validated": True}
                                 for c in competence_ids]
            parchments.append({"file_id": file_id, "number": f"CQP-BULK-{file_id:06d}", "kind": "parchemin",
                               "created_at": now})
        if status == "en_attente_evaluation":
            invitations.append({"file_id": file_id, "email": "metier@exemple.fr", "first_name": "Jo",
                                "last_name": "Métier", "token_hash": f"{offset + i:064d}", "created_at": now,
                                "expires_at": now + timedelta(days=30)})
            evaluations.append({"id": file_id, "file_id": file_id, "interview_date": date(2026, 1, 10),
                                "updated_at": now})
            results.append({"evaluation_id": file_id, "competence_id": competence_ids[0], "acquired": True,
                            "comment": "ok"})
    db.session.execute(insert(Candidate), candidates)
    db.session.execute(insert(CandidateFile), files)
    db.session.execute(insert(file_competences), links)
    db.session.execute(insert(StatusChange), history)
    if invitations:
        db.session.execute(insert(JobAssessorInvitation), invitations)
        db.session.execute(insert(Evaluation), evaluations)
        db.session.execute(insert(EvaluationResult), results)
    if decisions:
        db.session.execute(insert(Decision), decisions)
        db.session.execute(insert(DecisionResult), decision_results)
        db.session.execute(insert(Parchment), parchments)
    db.session.execute(JurySession.__table__.update().where(JurySession.id == session.id)
                       .values(capacity=1000, seats_taken=JurySession.seats_taken + sum(
                           1 for f in files if f["jury_session_id"])))
    db.session.commit()


@pytest.fixture
def world(app_ctx, today_is):
    today_is("2026-01-12")
    establishment = make_establishment(postcode="69003")
    assessor = make_assessor(until=date(2026, 6, 1))
    session = make_session(on=date(2026, 3, 1), capacity=1000)
    company = make_user("entreprise", establishment=establishment)
    secretariat = make_user("secretariat")
    jury = make_user("jury")
    db.session.execute(insert(jury_members), [{"session_id": session.id, "user_id": jury.id}])
    candidate = make_user("candidat")
    db.session.commit()
    return {"establishment": establishment, "assessor": assessor, "session": session, "users": {
        "entreprise": company, "secretariat": secretariat, "jury": jury, "evaluateur": assessor.user,
        "candidat": candidate}}


PAGES = [
    ("entreprise", "/entreprise"),
    ("evaluateur", "/evaluateur"),
    ("jury", "/jury"),
    ("candidat", "/candidat"),
    ("secretariat", "/secretariat"),
    ("secretariat", "/statistiques"),
    ("secretariat", "/statistiques/dossiers"),
    ("secretariat", "/statistiques/dossiers?sort=candidat&q=bulk&status=valide"),
    ("secretariat", "/statistiques/acces-partenaires"),
]


def test_pages_run_the_same_number_of_queries_with_5_and_500_files(world, app):
    from tests.conftest import login
    from tests.factories import PASSWORD

    clients = {}
    for role in {role for role, _ in PAGES}:
        clients[role] = app.test_client()
        assert login(clients[role], world["users"][role].email, PASSWORD).status_code == 302

    def measure() -> dict:
        counts = {}
        for role, url in PAGES:
            with count_queries() as statements:
                response = clients[role].get(url)
            assert response.status_code == 200, (url, response.status_code)
            counts[url] = len(statements)
        return counts

    kwargs = {"establishment": world["establishment"], "assessor": world["assessor"], "session": world["session"],
              "candidate_user": world["users"]["candidat"]}
    add_files(5, **kwargs)
    with_5 = measure()
    add_files(495, offset=5, **kwargs)
    assert db.session.scalar(select(db.func.count()).select_from(CandidateFile)) == 500
    with_500 = measure()
    assert with_500 == with_5
    assert max(with_5.values()) < 40, with_5
