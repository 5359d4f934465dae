"""The file's state machine (app/files/workflow.py): events in order only (R1), and every branch of
the R2 guard, run on its own through `confirm_assessor_problems` and through `fire`.

Each refusal is asserted by the guard's own French message (and the status left unchanged), so a
test fails if its guard is removed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core.clock import today
from app.core.errors import Conflict, RuleViolation
from app.extensions import db
from app.files import workflow
from app.files.models import FileStatus
from app.referential.models import Competence
from tests import factories

# ---------------------------------------------------------------- R1: steps in order


@pytest.mark.parametrize("status,event", [
    (FileStatus.EN_COURS_INSCRIPTION, "submit_evaluation"),
    (FileStatus.EN_COURS_INSCRIPTION, "register_jury"),
    (FileStatus.EN_ATTENTE_EVALUATION, "confirm_assessor"),
    (FileStatus.EN_ATTENTE_EVALUATION, "register_jury"),
    (FileStatus.VALIDATION_EVALUATION, "submit_evaluation"),
    (FileStatus.ABANDONNE, "confirm_assessor"),
    (FileStatus.VALIDE, "withdraw"),
])
def test_r1_an_event_out_of_order_is_refused_naming_the_status(app_ctx, status, event):
    file = factories.make_file(status, assessor=factories.make_assessor())
    with pytest.raises(Conflict, match=f"« {status.label} »"):
        workflow.fire(file, event, None, reason="x")
    assert file.status == status


# ---------------------------------------------------------------- R2: every branch of the guard


def _no_civil_status(file):
    file.candidate.first_name = ""


def _no_cqp(file):
    file.cqp = None


def _no_competence(file):
    file.competences = []


def _a_competence_of_another_cqp(file):
    other = db.session.scalar(db.select(Competence).where(Competence.cqp_id != file.cqp_id).limit(1))
    file.competences = [*file.competences, other]


def _no_establishment(file):
    file.establishment_id = None


def _planned_date_past(file):
    file.planned_interview_date = today() - timedelta(days=1)


R2_BRANCHES = [
    (_no_civil_status, "candidate", "L'état civil du candidat (nom, prénom, date de naissance) est incomplet."),
    (_no_cqp, "cqp_code", "Le CQP n'est pas choisi."),
    (_no_competence, "competence_codes", "Aucune compétence du CQP n'est choisie."),
    (_a_competence_of_another_cqp, "competence_codes", "Une compétence choisie n'appartient pas au CQP du dossier."),
    (_no_establishment, "establishment", "L'établissement n'est pas renseigné."),
    (_planned_date_past, "interview_date", "La date d'entretien prévue est passée."),
]


@pytest.mark.parametrize("spoil,field,message", R2_BRANCHES, ids=[b[0].__name__.lstrip("_") for b in R2_BRANCHES])
def test_r2_each_missing_element_is_named_and_refuses_the_confirmation(app_ctx, spoil, field, message):
    """A complete file lacking one element (changed in memory only: the database would refuse some
    of them): the problems name exactly that element, and the event is refused with its message."""
    file = factories.make_file(FileStatus.EN_COURS_INSCRIPTION, interview_date=today() + timedelta(days=7))
    company = factories.make_user(establishment=file.establishment)
    assert workflow.confirm_assessor_problems(file) == {}
    with db.session.no_autoflush:
        spoil(file)
        assert workflow.confirm_assessor_problems(file) == {field: message}
        with pytest.raises(RuleViolation) as refused:
            workflow.fire(file, "confirm_assessor", company)
        assert refused.value.message == f"Impossible de confirmer l'évaluateur : {message}"
        assert refused.value.errors == {field: [message]}
        assert file.status == FileStatus.EN_COURS_INSCRIPTION and file.history == []
    db.session.rollback()


def test_r2_the_planned_date_may_be_today(app_ctx):
    file = factories.make_file(FileStatus.EN_COURS_INSCRIPTION, interview_date=today())
    assert workflow.confirm_assessor_problems(file) == {}
    assert "interview_date" in workflow.confirm_assessor_problems(file, on=today() + timedelta(days=1))


def test_r2_every_problem_is_told_at_once(app_ctx):
    file = factories.make_file(FileStatus.EN_COURS_INSCRIPTION)
    with db.session.no_autoflush:
        file.training_path = None
        file.assessor = None
        file.planned_interview_date = None
        assert set(workflow.confirm_assessor_problems(file)) == {"training_path", "assessor_id", "interview_date"}
    db.session.rollback()


# ---------------------------------------------------------------- R5: the window, and what the file page lists


def test_r5_the_results_window_is_the_interview_day_and_the_8_days_after():
    assert workflow.results_window(date(2027, 3, 10)) == (date(2027, 3, 10), date(2027, 3, 18))


def test_next_step_problems_name_the_current_steps_needs_only(app_ctx):
    registering = factories.make_file(FileStatus.EN_COURS_INSCRIPTION)
    registering.training_scheme = None
    assert workflow.next_step_problems(registering) == ["Le dispositif de formation n'est pas renseigné."]
    evaluating = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION)
    assert "L'évaluateur métier n'a pas été invité." in workflow.next_step_problems(evaluating)
    assert workflow.next_step_problems(factories.make_file(FileStatus.VALIDATION_EVALUATION)) == []
    db.session.rollback()


def test_an_event_of_no_status_is_a_programming_error(app_ctx):
    with pytest.raises(ValueError, match="Unknown workflow event"):
        workflow.fire(factories.make_file(), "teleport", None)
    with pytest.raises(Conflict):
        workflow.fire(factories.make_file(FileStatus.ABANDONNE), "withdraw", None, reason="x")
