"""`flask demo` (small demo set, idempotent) and `flask demo --files N` (synthetic branch)."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from app.accounts.models import Establishment, User
from app.demo import DEMO_PASSWORD, DEMO_SIRET
from app.extensions import db
from app.files.models import CandidateFile, FileStatus, StatusChange
from app.jury.models import Decision, DecisionResult, JurySession
from tests.perf.synthetic import generate_branch


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_is_idempotent_and_shows_a_file_in_several_statuses(app_ctx, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "rh@chimie-demo.fr" in result.output and DEMO_PASSWORD in result.output
    establishment = db.session.scalar(select(Establishment).where(Establishment.siret == DEMO_SIRET))
    files = db.session.scalars(select(CandidateFile).where(CandidateFile.establishment_id == establishment.id)).all()
    assert {f.status for f in files} >= {"en_cours_inscription", "en_attente_evaluation", "validation_evaluation",
                                         "inscription_jury", "valide", "partiel"}
    for file in files:  # the history ends where the file is
        if file.history:
            assert file.history[-1].to_status == file.status
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert count(CandidateFile) == len(files)
    assert count(User) == 5


def test_demo_home_pages_show_what_to_do(app_ctx, runner, client):
    from tests.conftest import login

    runner.invoke(args=["demo"])
    assert login(client, "rh@chimie-demo.fr", DEMO_PASSWORD).status_code == 302
    html = client.get("/entreprise").get_data(as_text=True)
    assert "En attente de l&#39;évaluateur métier depuis 9 jours" in html
    assert "À vous : inscrire le candidat à une session de jury" in html
    assert "Chloé Garnier" in html  # published result
    assert "status-partiel" not in html  # Thomas Petit's session is not published yet


def test_synthetic_branch_is_coherent(app_ctx, today_is):
    today_is("2026-06-15")  # the branch is dated from today: fixed, the same branch every run
    for _ in generate_branch(400, seed=7):
        pass
    db.session.commit()
    assert count(CandidateFile) == 400
    statuses = dict(db.session.execute(select(CandidateFile.status, func.count()).group_by(CandidateFile.status)).all())
    # files at every step of the workflow, most decisions valide, then partiel, then non_valide
    assert set(statuses) == {s.value for s in FileStatus}
    assert statuses["valide"] > statuses["partiel"] > statuses["non_valide"]
    # the last history row of each file is its status
    last = select(StatusChange.file_id, func.max(StatusChange.id).label("last_id")).group_by(StatusChange.file_id) \
        .subquery()
    mismatched = db.session.scalar(
        select(func.count()).select_from(StatusChange).join(last, last.c.last_id == StatusChange.id)
        .join(CandidateFile, CandidateFile.id == StatusChange.file_id)
        .where(StatusChange.to_status != CandidateFile.status))
    assert mismatched == 0
    # seats: never over capacity, equal to the files placed
    placed = dict(db.session.execute(select(CandidateFile.jury_session_id, func.count())
                                     .where(CandidateFile.jury_session_id.is_not(None))
                                     .group_by(CandidateFile.jury_session_id)).all())
    for session in db.session.scalars(select(JurySession)):
        assert session.seats_taken == placed.get(session.id, 0) <= session.capacity
    # every decided file has a decision whose results follow R9
    decided = count(CandidateFile, CandidateFile.status.in_(["valide", "partiel", "non_valide"]))
    assert count(Decision) == decided
    for decision in db.session.scalars(select(Decision)):
        values = [r.validated for r in decision.results]
        expected = "valide" if all(values) else "non_valide" if not any(values) else "partiel"
        assert decision.status == expected == decision.file.status
    assert count(DecisionResult) > 0


def test_demo_files_option_with_progress_bar(app_ctx, runner):
    result = runner.invoke(args=["demo", "--files", "120"])
    assert result.exit_code == 0, result.output
    assert "120 dossiers synthétiques créés" in result.output
    assert count(CandidateFile) == 120 + 6  # with the demo company's own files
    assert runner.invoke(args=["demo", "--files", "-3"]).exit_code != 0


def test_demo_files_from_the_repository_root_as_make_run_does(tmp_path):
    """`flask --app app demo --files N` in a fresh process from the repository's root: the command finds
    the generator of tests/perf/ there, not on the test run's path."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "SECRET_KEY": "demo-test",
           "UPLOAD_DIR": str(tmp_path / "uploads"), "APP_ENV": "development", "PYTHONPATH": ""}
    env.pop("APP_TODAY", None)
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for args in (["db", "upgrade"], ["demo", "--files", "60"]):
        done = subprocess.run([*flask, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    assert "60 dossiers synthétiques créés" in done.stdout
