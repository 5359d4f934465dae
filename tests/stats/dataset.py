"""A small branch whose every figure is computed by hand in the tests (tests/stats/test_services.py).

Files are written directly with their history rows (dated), as the workflow would have left them.

| file | est. (dept) | CQP     | created    | stays (days) in each status, in order                 | now                   |
|------|-------------|---------|------------|-------------------------------------------------------|-----------------------|
| F1   | E1 (69)     | FAB-OPF | 2025-01-01 | inscription 10, attente 20, validation 10, jury 30    | valide (S1)           |
| F2   | E1 (69)     | FAB-OPF | 2025-02-01 | 4, 6, 2, 8                                            | partiel (S1, reporté) |
| F3   | E2 (2A)     | FAB-OPF | 2025-03-01 | 6, 14, 1, 29                                          | non_valide (S2)       |
| F4   | E2 (2A)     | CND-CLC | 2026-01-10 | 2, 3, 4, jury 2 then unregistered                     | validation_evaluation |
| F5   | E3 (974)    | CND-CLC | 2026-02-01 | 8                                                     | en_attente_evaluation |
| F6   | E3 (974)    | CND-CLC | 2026-02-15 | 3 then withdrawn                                      | abandonne             |
| F7   | E1 (69)     | FAB-OPF | 2026-03-01 | (no history)                                          | en_cours_inscription  |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.core.clock import utcnow
from app.extensions import db
from app.files.models import CandidateFile, Evaluation, EvaluationResult, StatusChange, stay_seconds
from app.jury.models import Decision, DecisionResult, JurySession
from tests.factories import get_cqp, make_assessor, make_candidate, make_establishment

STEPS = ["en_cours_inscription", "en_attente_evaluation", "validation_evaluation", "inscription_jury"]
EVENTS = {"en_attente_evaluation": "confirm_assessor", "validation_evaluation": "submit_evaluation",
          "inscription_jury": "register_jury", "valide": "record_decision", "partiel": "record_decision",
          "non_valide": "record_decision", "abandonne": "withdraw"}


@dataclass
class Branch:
    e1: object
    e2: object
    e3: object
    s1: JurySession
    s2: JurySession
    s3: JurySession
    files: dict


def add_file(establishment, cqp_code: str, created: datetime, path: list[tuple[str, float]], *, assessor,
             session=None, rolled_over=False, evaluation=None, evaluation_submitted=True, decision=None,
             competences: int = 3) -> CandidateFile:
    """path: [(status reached, days after the previous step)]; the last status is the file's."""
    cqp = get_cqp(cqp_code)
    candidate = make_candidate(establishment)
    with db.session.no_autoflush:
        return _add_file(candidate, establishment, cqp, created, path, assessor=assessor, session=session,
                         rolled_over=rolled_over, evaluation=evaluation, evaluation_submitted=evaluation_submitted,
                         decision=decision, competences=competences)


def _add_file(candidate, establishment, cqp, created, path, *, assessor, session, rolled_over, evaluation,
              evaluation_submitted, decision, competences) -> CandidateFile:
    file = CandidateFile(candidate=candidate, establishment=establishment, cqp=cqp,
                         competences=cqp.active_competences[:competences], training_path="formation",
                         training_scheme="plan_developpement_competences", assessor=assessor,
                         planned_interview_date=created.date() + timedelta(days=5), created_at=created,
                         status="en_cours_inscription", status_changed_at=created)
    db.session.add(file)
    at, status = created, "en_cours_inscription"
    for to_status, days in path:
        began, at = at, at + timedelta(days=days)
        event = "unregister_jury" if (status, to_status) == ("inscription_jury", "validation_evaluation") \
            else EVENTS[to_status]
        file.history.append(StatusChange(from_status=status, to_status=to_status, event=event, at=at,
                                         stay_seconds=stay_seconds(began, at)))
        status = to_status
        if to_status == "en_attente_evaluation":
            file.assessor_confirmed_on = at.date()
    file.status, file.status_changed_at = status, at
    file.jury_session_id = session.id if session else None
    file.rolled_over = rolled_over
    if status in ("valide", "partiel", "non_valide"):
        file.decided_at = at
    db.session.flush()
    if evaluation is not None:
        ev = Evaluation(file=file, interview_date=created.date(), candidate_observations="RAS",
                        submitted_at=utcnow() if evaluation_submitted else None)
        for competence, acquired in zip(file.competences, evaluation, strict=True):
            ev.results.append(EvaluationResult(competence=competence, acquired=acquired, comment="Vu."))
        db.session.add(ev)
    if decision is not None:
        d = Decision(file=file, session_id=session.id, status=status, decided_at=at)
        for competence, validated in zip(file.competences, decision, strict=True):
            d.results.append(DecisionResult(competence=competence, validated=validated))
        db.session.add(d)
    db.session.flush()
    return file


def build_branch() -> Branch:
    e1 = make_establishment("Chimie Lyon", postcode="69007", city="Lyon")
    e2 = make_establishment("Chimie Ajaccio", postcode="20100", city="Ajaccio")
    e3 = make_establishment("Chimie Réunion", postcode="97411", city="Saint-Paul")
    assessor = make_assessor()
    s1 = JurySession(date=date(2025, 3, 10), capacity=10, seats_taken=2, published_at=datetime(2025, 3, 11))
    s2 = JurySession(date=date(2025, 6, 10), capacity=5, seats_taken=1)
    s3 = JurySession(date=date(2025, 9, 10), capacity=8, seats_taken=0, cancelled_at=datetime(2025, 5, 1))
    db.session.add_all([s1, s2, s3])
    db.session.flush()
    d = datetime
    files = {
        "F1": add_file(e1, "FAB-OPF", d(2025, 1, 1), [("en_attente_evaluation", 10), ("validation_evaluation", 20),
                       ("inscription_jury", 10), ("valide", 30)], assessor=assessor, session=s1,
                       evaluation=[True, True, True], decision=[True, True, True]),
        "F2": add_file(e1, "FAB-OPF", d(2025, 2, 1), [("en_attente_evaluation", 4), ("validation_evaluation", 6),
                       ("inscription_jury", 2), ("partiel", 8)], assessor=assessor, session=s1, rolled_over=True,
                       evaluation=[True, False, False], decision=[True, False, True]),
        "F3": add_file(e2, "FAB-OPF", d(2025, 3, 1), [("en_attente_evaluation", 6), ("validation_evaluation", 14),
                       ("inscription_jury", 1), ("non_valide", 29)], assessor=assessor, session=s2,
                       evaluation=[False, False, True], decision=[False, False, False]),
        "F4": add_file(e2, "CND-CLC", d(2026, 1, 10), [("en_attente_evaluation", 2), ("validation_evaluation", 3),
                       ("inscription_jury", 4), ("validation_evaluation", 2)], assessor=assessor,
                       evaluation=[False, True], competences=2),
        "F5": add_file(e3, "CND-CLC", d(2026, 2, 1), [("en_attente_evaluation", 8)], assessor=assessor,
                       evaluation=[False, False], evaluation_submitted=False, competences=2),
        "F6": add_file(e3, "CND-CLC", d(2026, 2, 15), [("abandonne", 3)], assessor=assessor),
        "F7": add_file(e1, "FAB-OPF", d(2026, 3, 1), [], assessor=assessor),
    }
    db.session.commit()
    return Branch(e1, e2, e3, s1, s2, s3, files)
