"""Benchmark of a jury session's pages: SQL statements and time (median of BENCH_RUNS, default 5) of
the secretariat's decision screen and session page, and of the jury member's page, for a session of
BENCH_FILES files (default 300), beside a trivial page of the same run (the login form) to read them
as ratios.

The database (DATABASE_URL, PostgreSQL for meaningful figures) is WIPED: its schema is dropped, then
migrated again and filled. The data is written straight into the models' tables, so that the script
measures any version of the application: CERTIFIA_ROOT names the checkout to import `app` from
(default: this one), e.g. a worktree of an older commit.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_bench .venv/bin/python tests/perf/bench_decisions.py
    CERTIFIA_ROOT=/tmp/before DATABASE_URL=… .venv/bin/python tests/perf/bench_decisions.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(os.environ.get("CERTIFIA_ROOT") or Path(__file__).resolve().parents[2]).resolve()
sys.path.insert(0, str(ROOT))

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
FILES = int(os.environ.get("BENCH_FILES", "300"))
SIRET = "40000001400011"  # a valid SIRET (Luhn on the SIREN and on the whole number)


def build(db, n: int) -> dict:
    """A held session of n files, each as a real one looks when it reaches the jury (competences,
    evaluation with results, the job assessor's observations, a document, history); a quarter
    undecided, the others decided with their results and, when due, their parchment."""
    from sqlalchemy import insert, select

    from app.accounts import services as accounts
    from app.files.models import (
        Candidate,
        CandidateFile,
        Document,
        Evaluation,
        EvaluationResult,
        JobAssessorInvitation,
        JobAssessorObservation,
        StatusChange,
        file_competences,
    )
    from app.jury.models import Decision, DecisionResult, JurySession, Parchment, jury_members
    from app.referential.models import Competence, Cqp
    from app.referential.services import create_assessor

    def ids(model, rows):
        return list(db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))

    day = date.today() - timedelta(days=1)
    at = datetime.combine(day, datetime.min.time()) - timedelta(days=40)
    establishment = accounts.create_establishment(SIRET, "Chimie du banc d'essai")
    secretariat = accounts.create_user("secretariat@banc-essai.fr", "secretariat", password="banc-essai-mot-de-passe",
                                       first_name="Sé", last_name="Crétariat")
    member = accounts.create_user("jury@banc-essai.fr", "jury", password="banc-essai-mot-de-passe",
                                  first_name="Ju", last_name="Ré")
    cqp = db.session.scalar(select(Cqp).where(Cqp.code == "FAB-OPF"))
    assessor = create_assessor("evaluateur@banc-essai.fr", "Éva", "Luatrice", day + timedelta(days=365), [cqp.code])
    competences = list(db.session.scalars(select(Competence).where(Competence.cqp_id == cqp.id)
                                          .order_by(Competence.position).limit(3)))
    [session_id] = ids(JurySession, [{"date": day, "capacity": n, "seats_taken": n, "location": "Paris",
                                      "created_at": at}])
    db.session.execute(insert(jury_members), [{"session_id": session_id, "user_id": member.id}])
    statuses = ["inscription_jury", "valide", "partiel", "non_valide"]
    candidate_ids = ids(Candidate, [{
        "establishment_id": establishment.id, "first_name": "Camille", "last_name": f"Banc{i}",
        "first_name_key": "camille", "last_name_key": f"banc{i}", "birth_date": date(1990, 1, 1),
        "created_at": at, "updated_at": at} for i in range(n)])
    status_of = [statuses[i % 4] for i in range(n)]
    file_ids = ids(CandidateFile, [{
        "candidate_id": candidate_ids[i], "establishment_id": establishment.id, "cqp_id": cqp.id,
        "status": status_of[i], "training_path": "formation", "training_scheme": "plan_developpement_competences",
        "assessor_id": assessor.id, "planned_interview_date": at.date(), "assessor_confirmed_on": at.date(),
        "jury_session_id": session_id, "requested_jury_session_id": session_id, "rolled_over": False,
        "created_at": at, "updated_at": at, "status_changed_at": at,
        "decided_at": None if status_of[i] == "inscription_jury" else at} for i in range(n)])
    db.session.execute(insert(file_competences), [{"file_id": f, "competence_id": c.id}
                                                  for f in file_ids for c in competences])
    db.session.execute(insert(StatusChange), [{"file_id": f, "from_status": "validation_evaluation",
                                               "to_status": "inscription_jury", "event": "register_jury", "at": at}
                                              for f in file_ids])
    evaluation_ids = ids(Evaluation, [{"file_id": f, "interview_date": at.date(), "updated_at": at,
                                       "candidate_observations": "Entretien constructif.", "submitted_at": at}
                                      for f in file_ids])
    db.session.execute(insert(EvaluationResult), [{"evaluation_id": e, "competence_id": c.id, "acquired": True,
                                                   "comment": "Acquis."} for e in evaluation_ids for c in competences])
    invitation_ids = ids(JobAssessorInvitation, [{
        "file_id": f, "email": "metier@banc-essai.fr", "first_name": "Jo", "last_name": "Métier",
        "token_hash": f"banc{f:060d}", "created_at": at, "expires_at": at + timedelta(days=30), "used_at": at}
        for f in file_ids])
    db.session.execute(insert(JobAssessorObservation), [{"invitation_id": i, "competence_id": c.id,
                                                         "comment": "Maîtrisé au poste."}
                                                        for i in invitation_ids for c in competences])
    db.session.execute(insert(Document), [{"file_id": f, "candidate_id": c, "kind": "guide_evaluation",
                                           "filename": "guide.pdf", "stored_name": f"banc-{f}.pdf",
                                           "content_type": "application/pdf", "size": 10, "uploaded_at": at}
                                          for f, c in zip(file_ids, candidate_ids, strict=True)])
    decided = [(f, s) for f, s in zip(file_ids, status_of, strict=True) if s != "inscription_jury"]
    decision_ids = ids(Decision, [{"file_id": f, "session_id": session_id, "status": s, "decided_at": at}
                                  for f, s in decided])
    db.session.execute(insert(DecisionResult), [
        {"decision_id": d, "competence_id": c.id, "validated": s == "valide" or (s == "partiel" and k == 0)}
        for d, (_, s) in zip(decision_ids, decided, strict=True) for k, c in enumerate(competences)])
    db.session.execute(insert(Parchment), [
        {"file_id": f, "number": f"CQP-B{f:03d}-{f // 1000:04d}", "created_at": at,
         "kind": "parchemin" if s == "valide" else "attestation"} for f, s in decided if s in ("valide", "partiel")])
    db.session.commit()
    return {"session_id": session_id, "secretariat": secretariat.get_id(), "member": member.get_id()}


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        print("DATABASE_URL est requis (ex. postgresql+psycopg://postgres@127.0.0.1:5432/certifia_bench) ; "
              "sa base est vidée.", file=sys.stderr)
        return 2
    from flask_migrate import upgrade
    from sqlalchemy import event, text

    from app import create_app
    from app.extensions import db
    from app.referential.services import load_referential

    app = create_app({"RATELIMIT_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
        upgrade(directory=str(app.extensions["migrate"].directory))
        load_referential()
        db.session.commit()
        built = build(db, FILES)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        engine = db.engine
        db.session.remove()

    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def client_of(user_id: str | None):
        client = app.test_client()
        if user_id is not None:
            with client.session_transaction() as session:
                session["_user_id"] = user_id
                session["_fresh"] = True
        return client

    def measure(client, url: str) -> tuple[int, float, float]:
        """(statements of one call, median and max in ms over RUNS calls after a warm-up)."""
        def call():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            response.get_data()
        call()
        statements.clear()
        call()
        count = len(statements)
        laps = []
        for _ in range(RUNS):
            start = time.perf_counter()
            call()
            laps.append((time.perf_counter() - start) * 1000)
        return count, statistics.median(laps), max(laps)

    office, juror = client_of(built["secretariat"]), client_of(built["member"])
    session_id = built["session_id"]
    pages = [
        ("page de connexion (référence)", client_of(None), "/connexion"),
        ("écran des décisions de la session", office, f"/secretariat/jurys/{session_id}/decisions"),
        ("page de la session (secrétariat)", office, f"/secretariat/jurys/{session_id}"),
        ("page de la session (membre du jury)", juror, f"/jury/sessions/{session_id}"),
    ]
    print(f"Application : {ROOT} ; base : {engine.dialect.name} ; session de {FILES} dossiers ; "
          f"médiane et maximum sur {RUNS} passages\n")
    print(f"{'':<40}{'requêtes SQL':>13}{'médiane (ms)':>14}{'max (ms)':>10}{'× connexion':>13}")
    reference = None
    for label, client, page in pages:
        count, median, worst = measure(client, page)
        reference = reference or median
        print(f"{label:<40}{count:>13}{median:>14.1f}{worst:>10.1f}{median / reference:>13.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
