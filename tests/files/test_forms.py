"""The files area's forms (app/files/forms.py): built from the file and the referential, showing the
file's values on GET, and placing the services' refusals on the fields they name."""

from __future__ import annotations

from datetime import date, timedelta

from app.core.clock import today
from app.core.errors import RuleViolation
from app.extensions import db
from app.files import evaluation_forms, forms
from app.files.models import FileStatus
from tests import factories


def test_the_file_form_offers_the_cqps_competences_and_the_habilitated_assessors(app, app_ctx):
    file = factories.make_file(competences=2)
    expired = factories.make_assessor(until=today() + timedelta(days=1))
    file.assessor = expired
    db.session.commit()
    expired.habilitation_until = today() - timedelta(days=1)
    habilitated = [factories.make_assessor()]
    with app.test_request_context("/dossiers/1/modifier"):
        form = forms.file_form(file.cqp, habilitated, file=file)
    assert [c.value for c in form.competence_codes.choices] == [c.code for c in file.cqp.active_competences]
    assert form.competence_codes.data == [c.code for c in file.competences]
    assert form.interview_date.data == file.planned_interview_date
    labels = [c.label for c in form.assessor_id.choices]
    assert labels[0] == "— À choisir plus tard —" and "habilité jusqu'au" in labels[1]
    assert labels[-1] == f"{expired.name} (habilitation non valide pour ce dossier)"
    with app.test_request_context("/dossiers/1/modifier", method="POST", data={"training_path": "vae"}):
        posted = forms.file_form(file.cqp, habilitated, file=file)
    assert posted.competence_codes.data == [] and posted.training_path.data == "vae"  # what was typed, not the file
    db.session.rollback()


def test_the_evaluation_form_shows_what_is_saved_and_gives_the_services_results(app, app_ctx):
    file = factories.make_file(FileStatus.VALIDATION_EVALUATION, competences=2, interview_date=date(2027, 5, 3))
    first, second = file.competences
    file.evaluation.results[1].acquired = False
    with app.test_request_context("/dossiers/1/evaluation"):
        form = evaluation_forms.evaluation_form(file, formdata=None)
    assert form.interview_date.data == file.evaluation.interview_date
    assert getattr(form, f"acquired_{first.code}").data == "1"
    assert getattr(form, f"acquired_{second.code}").data == "0"
    assert evaluation_forms.evaluation_results(form, file.competences) == [
        {"competence_code": first.code, "acquired": "1", "comment": "Acquis."},
        {"competence_code": second.code, "acquired": "0", "comment": "Acquis."}]
    file.evaluation = None
    assert evaluation_forms.evaluation_defaults(file) == {"interview_date": date(2027, 5, 3), "candidate_observations": ""}
    db.session.rollback()


def test_a_refusal_on_a_competence_lands_on_its_comment_and_is_said_above_the_form(app, app_ctx):
    file = factories.make_file(competences=1)
    code = file.competences[0].code
    with app.test_request_context("/dossiers/1/evaluation"):
        form = evaluation_forms.evaluation_form(file, formdata=None)
        form.add_domain_errors(RuleViolation("Impossible de transmettre l'évaluation : manque.",
                                             {f"results.{code}": ["Le commentaire manque."]}))
    assert getattr(form, f"comment_{code}").errors == ["Le commentaire manque."]
    assert form.form_errors[0] == "Impossible de transmettre l'évaluation : manque."
