"""Builders of the jury tests (on top of tests/factories.py), and a counter of SQL statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event, insert, select, update

from app.core.clock import today
from app.extensions import db
from app.files.models import (
    Candidate,
    CandidateFile,
    Document,
    Evaluation,
    EvaluationResult,
    FileStatus,
    JobAssessorInvitation,
    JobAssessorObservation,
    StatusChange,
    file_competences,
)
from app.jury import decisions
from app.jury.models import Decision, DecisionResult, JurySession, Parchment
from app.referential.models import Competence
from tests import factories


def make_file(*args, **kwargs):
    """factories.make_file with its assessor built first (building it while the file is pending
    trips an autoflush warning)."""
    if kwargs.get("assessor") is None:
        kwargs["assessor"] = factories.make_assessor()
    return factories.make_file(*args, **kwargs)


def decide(file, actor, validated: list[bool] | bool = True, **kwargs):
    """Records a decision: `validated` per competence of the file (or one value for all)."""
    if isinstance(validated, bool):
        validated = [validated] * len(file.competences)
    results = {c.id: v for c, v in zip(file.competences, validated, strict=True)}
    return decisions.record_decision(file, actor, results, **kwargs)


@contextmanager
def count_statements() -> Iterator[list[str]]:
    """The SQL statements sent while the block runs."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


# The statuses the bulk files take in turn: undecided, and each decision (R9).
BULK_STATUSES = (FileStatus.INSCRIPTION_JURY, FileStatus.VALIDE, FileStatus.PARTIEL, FileStatus.NON_VALIDE)


def _ids(model, rows: list[dict]) -> list[int]:
    """Inserts the rows in one statement per batch, answering their ids in order."""
    return list(db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))


def add_session_files(jury_session: JurySession, n: int, *, establishment=None, assessor=None,
                      cqp_code: str = "FAB-OPF") -> list[int]:
    """n files registered to the session, as make_file(INSCRIPTION_JURY) builds one (evaluation with
    results and comments, the job assessor's observations, a document), written in bulk; they take
    the BULK_STATUSES in turn, the decided ones with their decision and, when due, their parchment.
    Answers their ids."""
    establishment = establishment or factories.make_establishment()
    assessor = assessor or factories.make_assessor()
    cqp = factories.get_cqp(cqp_code)
    competences = list(db.session.scalars(select(Competence).where(Competence.cqp_id == cqp.id)
                                          .order_by(Competence.position).limit(3)))
    at = datetime.combine(today(), datetime.min.time()) - timedelta(days=30)
    first = db.session.scalar(select(db.func.count()).select_from(CandidateFile)) or 0
    candidate_ids = _ids(Candidate, [{
        "establishment_id": establishment.id, "first_name": "Camille", "last_name": f"Masse{first + i}",
        "first_name_key": "camille", "last_name_key": f"masse{first + i}", "birth_date": at.date() - timedelta(days=9000),
        "birth_place": "Lyon", "created_at": at, "updated_at": at} for i in range(n)])
    statuses = [BULK_STATUSES[i % len(BULK_STATUSES)] for i in range(n)]
    file_ids = _ids(CandidateFile, [{
        "candidate_id": candidate_ids[i], "establishment_id": establishment.id, "cqp_id": cqp.id,
        "status": statuses[i].value, "training_path": "formation", "training_scheme": "plan_developpement_competences",
        "assessor_id": assessor.id, "planned_interview_date": at.date(), "assessor_confirmed_on": at.date(),
        "jury_session_id": jury_session.id, "requested_jury_session_id": jury_session.id, "rolled_over": False,
        "created_at": at, "updated_at": at, "status_changed_at": at,
        "decided_at": at if statuses[i] != FileStatus.INSCRIPTION_JURY else None} for i in range(n)])
    db.session.execute(insert(file_competences), [
        {"file_id": f, "competence_id": c.id} for f in file_ids for c in competences])
    db.session.execute(insert(StatusChange), [
        {"file_id": f, "from_status": "validation_evaluation", "to_status": "inscription_jury",
         "event": "register_jury", "at": at} for f in file_ids])
    evaluation_ids = _ids(Evaluation, [
        {"file_id": f, "interview_date": at.date(), "candidate_observations": "Entretien constructif.",
         "updated_at": at, "submitted_at": at} for f in file_ids])
    db.session.execute(insert(EvaluationResult), [
        {"evaluation_id": e, "competence_id": c.id, "acquired": True, "comment": "Acquis."}
        for e in evaluation_ids for c in competences])
    invitation_ids = _ids(JobAssessorInvitation, [
        {"file_id": f, "email": "metier@exemple.fr", "first_name": "Jo", "last_name": "Métier",
         "token_hash": f"bulk{f:060d}", "created_at": at, "expires_at": at + timedelta(days=30), "used_at": at}
        for f in file_ids])
    db.session.execute(insert(JobAssessorObservation), [
        {"invitation_id": i, "competence_id": c.id, "comment": "Maîtrisé au poste."}
        for i in invitation_ids for c in competences])
    db.session.execute(insert(Document), [
        {"file_id": f, "candidate_id": c, "kind": "guide_evaluation", "filename": "guide.pdf",
         "stored_name": f"bulk-{f}.pdf", "content_type": "application/pdf", "size": 10, "uploaded_at": at}
        for f, c in zip(file_ids, candidate_ids, strict=True)])
    decided = [(f, s) for f, s in zip(file_ids, statuses, strict=True) if s != FileStatus.INSCRIPTION_JURY]
    if decided:
        decision_ids = _ids(Decision, [{"file_id": f, "session_id": jury_session.id, "status": s.value,
                                        "decided_at": at} for f, s in decided])
        db.session.execute(insert(DecisionResult), [
            {"decision_id": d, "competence_id": c.id,
             "validated": s == FileStatus.VALIDE or (s == FileStatus.PARTIEL and position == 0)}
            for d, (_, s) in zip(decision_ids, decided, strict=True) for position, c in enumerate(competences)])
        numbered = [(f, s) for f, s in decided if s in (FileStatus.VALIDE, FileStatus.PARTIEL)]
        db.session.execute(insert(Parchment), [
            {"file_id": f, "number": f"CQP-B{f:03d}-{f // 1000:04d}", "created_at": at,
             "kind": "parchemin" if s == FileStatus.VALIDE else "attestation"} for f, s in numbered])
    table = JurySession.__table__
    db.session.execute(update(table).where(table.c.id == jury_session.id).values(
        capacity=table.c.capacity + n, seats_taken=table.c.seats_taken + n))
    db.session.commit()
    return file_ids
