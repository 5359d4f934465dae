"""Forms of the files area. Field names are those of the services (and API), so that a refusal's
`errors={field: …}` lands on the right field."""

from __future__ import annotations

import secrets

from flask import request
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.forms import BaseForm
from app.files.models import DOCUMENT_KINDS, TRAINING_PATHS, TRAINING_SCHEMES

DATE_MESSAGE = "Date invalide : format attendu AAAA-MM-JJ (ou choisissez-la dans le calendrier)."


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants them."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class FrenchDateField(DateField):
    """A date input whose parse error is French."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(DATE_MESSAGE) from None


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        # An acquired competence (R13) is not offered; asked for anyway, the service names it (422).
        known = {choice.value for choice in self.choices} | set(getattr(self, "acquired_codes", ()))
        for value in self.data or []:
            if value not in known:
                raise ValidationError(f"« {value} » n'est pas une compétence de ce CQP.")


def new_creation_token() -> str:
    return secrets.token_urlsafe(24)


class FileSearchForm(BaseForm):
    class Meta:
        csrf = False

    q = SearchField("Candidat (nom ou prénom)", validators=[Optional()])
    status = SelectField("Statut", validators=[Optional()])


class ChooseCqpForm(BaseForm):
    """First step of a new file, without JavaScript: the candidate and the CQP (sent by GET)."""

    class Meta:
        csrf = False

    candidate_id = SelectField("Candidat", validators=[DataRequired(message="Choisissez le candidat.")])
    cqp_code = SelectField("CQP visé", validators=[DataRequired(message="Choisissez le CQP.")])


def choose_cqp_form(formdata, candidates, cqps) -> ChooseCqpForm:
    form = ChooseCqpForm(formdata)
    form.candidate_id.choices = choices([("", "— Choisir —")] + [
        (str(c.id), f"{c.last_name} {c.first_name} ({c.birth_date.strftime('%d/%m/%Y')})") for c in candidates])
    form.cqp_code.choices = choices([("", "— Choisir —")] + [(c.code, f"{c.code} – {c.title}") for c in cqps])
    return form


class FileForm(BaseForm):
    creation_token = HiddenField(default=new_creation_token)  # idempotency of the creating form
    candidate_id = HiddenField()
    cqp_code = HiddenField()
    competence_codes = CheckboxListField("Compétences à évaluer",
                                         validators=[DataRequired(message="Choisissez au moins une compétence.")])
    training_path = SelectField("Parcours", choices=choices([("", "— Choisir —"), *TRAINING_PATHS.items()]),
                                validators=[Optional()], validate_choice=False)
    training_scheme = SelectField("Dispositif de formation", choices=choices([("", "— Choisir —"), *TRAINING_SCHEMES.items()]),
                                  validators=[Optional()], validate_choice=False)
    training_org_siret = StringField("SIRET de l'organisme de formation (le cas échéant)",
                                     validators=[Optional(), Length(max=20)])
    assessor_id = SelectField("Évaluateur habilité CPNE", validators=[Optional()], validate_choice=False)
    interview_date = FrenchDateField("Date d'entretien prévue", validators=[Optional()])

    def service_data(self) -> dict:
        return {
            "competence_codes": self.competence_codes.data or [],
            "training_path": self.training_path.data or None,
            "training_scheme": self.training_scheme.data or None,
            "training_org_siret": self.training_org_siret.data or None,
            "assessor_id": self.assessor_id.data or None,
            "interview_date": self.interview_date.data,
        }


class _FileDefaults:
    """The file's values under the form's field names."""

    def __init__(self, file):
        self.competence_codes = [c.code for c in file.competences]
        self.training_path = file.training_path or ""
        self.training_scheme = file.training_scheme or ""
        self.training_org_siret = file.training_org_siret or ""
        self.assessor_id = str(file.assessor_id) if file.assessor_id else ""
        self.interview_date = file.planned_interview_date


def file_form(cqp, assessors, *, file=None, acquired=(), **defaults) -> FileForm:
    """The candidature's form: the CQP's competences but those `acquired` (R13), the assessors habilitated
    for it; when `file` is edited, its values on GET (a POST shows what was typed)."""
    obj = _FileDefaults(file) if file is not None and request.method == "GET" else None
    form = FileForm(obj=obj, **defaults)
    held = {row.competence_id for row in acquired}
    form.competence_codes.choices = choices((c.code, f"{c.code} – {c.title}") for c in cqp.active_competences
                                            if c.id not in held)
    form.competence_codes.acquired_codes = [row.competence.code for row in acquired]
    if acquired:
        form.competence_codes.label.text = "Compétences restant à évaluer"
    form.assessor_id.choices = choices([("", "— À choisir plus tard —")] + [
        (str(a.id), f"{a.name}{' – ' + a.organisation if a.organisation else ''} "
                    f"(habilité jusqu'au {a.habilitation_until.strftime('%d/%m/%Y')})") for a in assessors])
    current = file.assessor if file is not None else None
    if current is not None and current not in assessors:
        # Shown so that the page says why the confirmation will be refused, not silently dropped.
        form.assessor_id.choices += choices([(current.id, f"{current.name} (habilitation non valide pour ce dossier)")])
    return form


class ConfirmAssessorForm(BaseForm):
    pass


class WithdrawForm(BaseForm):
    reason = TextAreaField("Motif de l'abandon",
                           validators=[DataRequired(message="Le motif de l'abandon est obligatoire."),
                                       Length(max=2000)])


class DocumentForm(BaseForm):
    kind = SelectField("Type de document", choices=choices(DOCUMENT_KINDS.items()),
                       validators=[DataRequired(message="Choisissez le type de document.")])
    file = FileField("Fichier (PDF, PNG ou JPEG, 10 Mo au maximum)")


class SetPasswordForm(BaseForm):
    password = PasswordField(
        "Mot de passe (12 caractères au moins)",
        validators=[DataRequired(message="Saisissez un mot de passe."),
                    Length(min=12, message="Le mot de passe doit contenir au moins 12 caractères.")],
    )
    confirm = PasswordField("Confirmez le mot de passe", validators=[DataRequired(message="Confirmez le mot de passe.")])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError("Les deux mots de passe ne sont pas identiques.")
