"""Forms of the evaluation pages (assessor, job assessor). Field names are those of the services (and API)."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from app.core.forms import BaseForm
from app.files.forms import FrenchDateField, choices


class JobAssessorInvitationForm(BaseForm):
    first_name = StringField("Prénom", validators=[DataRequired(message="Le prénom est obligatoire.")])
    last_name = StringField("Nom", validators=[DataRequired(message="Le nom est obligatoire.")])
    email = EmailField("Adresse email", validators=[DataRequired(message="L'adresse email est obligatoire."),
                                                    Email(message="L'adresse email n'est pas valide.")])


class SubmitEvaluationForm(BaseForm):
    pass


class ResendInvitationForm(BaseForm):
    """« Relancer » the job assessor (CSRF only)."""


# ------------------------------------------------- forms with one field per competence of the file


class CompetenceFieldsForm(BaseForm):
    """Routes "results.C3" / "observation_C3" errors of the services to the competence's fields."""

    def add_domain_errors(self, error) -> None:
        remapped = {}
        for name, messages in error.errors.items():
            if name.startswith("results."):
                name = f"comment_{name.split('.', 1)[1]}"
            remapped[name] = messages
        error.errors = remapped
        super().add_domain_errors(error)
        if error.message not in self.form_errors:
            self.form_errors.insert(0, error.message)


def evaluation_form_class(competences) -> type[CompetenceFieldsForm]:
    class EvaluationForm(CompetenceFieldsForm):
        interview_date = FrenchDateField("Date de l'entretien d'évaluation",
                                         validators=[InputRequired(message="La date de l'entretien est obligatoire.")])
        candidate_observations = TextAreaField("Observations du candidat", validators=[Optional(),
                                                                                      Length(max=5000)])
        guide = FileField("Fichier du guide d'évaluation scanné (outil n°4)",
                          render_kw={"accept": "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"})

    for competence in competences:
        setattr(EvaluationForm, f"acquired_{competence.code}", RadioField(
            f"Résultat – {competence.code}", choices=choices([("1", "Acquis"), ("0", "Non acquis")]),
            validators=[Optional()], validate_choice=False))
        setattr(EvaluationForm, f"comment_{competence.code}", TextAreaField(
            f"Commentaire – {competence.code}", validators=[Optional(), Length(max=5000)]))
    return EvaluationForm


def evaluation_form(file, formdata=True) -> CompetenceFieldsForm:
    """The evaluation of `file`: the posted values, or (formdata=None) what is saved of it."""
    form_class = evaluation_form_class(file.competences)
    if formdata is True:
        return form_class()
    return form_class(formdata=None, data=evaluation_defaults(file))


def evaluation_defaults(file) -> dict:
    evaluation = file.evaluation
    data = {"interview_date": file.interview_date,
            "candidate_observations": evaluation.candidate_observations if evaluation else ""}
    for competence in file.competences:
        result = evaluation.result_for(competence) if evaluation else None
        if result is not None:
            data[f"acquired_{competence.code}"] = {True: "1", False: "0"}.get(result.acquired)
            data[f"comment_{competence.code}"] = result.comment or ""
    return data


TRANSMISSION_FIELDS = {"guide_evaluation": "guide", "job_assessor": "job_assessor"}


def place_transmission_refusals(form, refusals: dict[str, str]) -> None:
    """A refused transmission's items on the form's fields (results.C1 → comment_C1, the guide on its
    input); what has no field of its own (the job assessor's observations) goes to the form's messages."""
    for name, message in refusals.items():
        if name.startswith("results."):
            code = name.split(".", 1)[1]
            name = f"acquired_{code}" if "résultat" in message else f"comment_{code}"
        name = TRANSMISSION_FIELDS.get(name, name)
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        elif message not in form.form_errors:
            form.form_errors.append(message)


def evaluation_results(form, competences) -> list[dict]:
    """The per-competence fields as the evaluation service takes them."""
    return [{"competence_code": c.code, "acquired": getattr(form, f"acquired_{c.code}").data,
             "comment": getattr(form, f"comment_{c.code}").data} for c in competences]


def observations_form_class(competences) -> type[CompetenceFieldsForm]:
    class ObservationsForm(CompetenceFieldsForm):
        general_comment = TextAreaField("Commentaire général (facultatif)", validators=[Optional(),
                                                                                       Length(max=5000)])

    for competence in competences:
        setattr(ObservationsForm, f"observation_{competence.code}", TextAreaField(
            f"{competence.code} – {competence.title}", validators=[Optional(), Length(max=5000)]))
    return ObservationsForm
