"""Forms of the jury area (French labels; rules are checked by the services)."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import BaseForm
from app.files import carry_over


class SessionForm(BaseForm):
    date = DateField("Date du jury", validators=[InputRequired(message="La date du jury est obligatoire.")])
    capacity = IntegerField("Nombre de places", validators=[
        InputRequired(message="Le nombre de places est obligatoire."),
        NumberRange(min=1, max=10000, message="Le nombre de places doit être compris entre 1 et 10 000.")])
    location = StringField("Lieu", validators=[Optional(), Length(max=255)])
    member_ids = SelectMultipleField("Membres du jury", coerce=int, validate_choice=False)
    confirm_past_deadline = BooleanField(
        "Je confirme : créer la session bien que sa date limite d'inscription soit passée")


class CancelSessionForm(BaseForm):
    reason = TextAreaField("Motif de l'annulation", validators=[Optional(), Length(max=2000)])


class RegisterForm(BaseForm):
    jury_session_id = SelectField("Session de jury souhaitée", validate_choice=False, validators=[Optional()])


class EmptyForm(BaseForm):
    """CSRF only: buttons that post an action."""


VALIDATED, NOT_VALIDATED = "validee", "non_validee"
DECISION_CHOICES = [SelectChoice(VALIDATED, "Validée"), SelectChoice(NOT_VALIDATED, "Non validée")]


def chosen_results(choices: dict) -> dict[int, bool]:
    """{competence id: validated} for each competence chosen in `choices` ({competence id: posted value});
    an unchosen one (None, or anything but the two values) is left out."""
    return {cid: value == VALIDATED for cid, value in choices.items() if value in (VALIDATED, NOT_VALIDATED)}


def missing_competences(competences, choices: dict) -> list:
    """The competences without a choice."""
    return [c for c in competences if choices.get(c.id) not in (VALIDATED, NOT_VALIDATED)]


def untouched(choices: dict, comment: str | None, reason: str | None) -> bool:
    """Nothing chosen nor typed: a row of the session screen left as it was shown."""
    return not chosen_results(choices) and not (comment or "").strip() and not (reason or "").strip()


def wants_confirmation(results: dict[int, bool], missing: list, carried) -> bool:
    """Every competence chosen « Non validée »: the whole file would be « Non validé » (not when it carries
    acquired competences: it is then « Partiel », R13)."""
    return bool(results) and not missing and not any(results.values()) and not carried


def matches(decision, results: dict[int, bool], comment: str | None, reason: str | None) -> bool:
    """The choices and comment are those of the recorded decision (nothing to save)."""
    if decision is None:
        return False
    recorded = {r.competence_id: r.validated for r in decision.results}
    return recorded == results and (decision.comment or "") == (comment or "").strip() \
        and not (reason or "").strip()


def no_choice_message(competence) -> str:
    """The refusal on a competence left without a choice."""
    return f"{competence.code} : aucune décision choisie."


def missing_message(missing: list) -> str:
    """The refusal of a decision whose competences `missing` have no choice, naming them."""
    codes = [c.code for c in missing]
    names = codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " et " + codes[-1]
    return (("Choisissez « Validée » ou « Non validée » pour la compétence " if len(missing) == 1
             else "Choisissez « Validée » ou « Non validée » pour les compétences ") + f"{names} : rien n'est enregistré.")


CONFIRM_MESSAGE = ("Toutes les compétences sont « Non validée » : le dossier sera « Non validé ». "
                   "Cochez « Je confirme » pour l'enregistrer.")


class DecisionForm(BaseForm):
    """One radio pair (Validée / Non validée) per competence of the file is added by `decision_form_for(file)`:
    nothing is checked until someone chooses (or the file's decision chose), so an untouched competence is
    never recorded as « Non validée »; a decision « Non validé » for the whole file is confirmed. The rules are
    the functions above, shared with the session screen's rows (decision_rows.RowEntry)."""

    comment = TextAreaField("Commentaire du jury", validators=[Optional(), Length(max=4000)])
    reason = TextAreaField("Motif de la rectification", validators=[Optional(), Length(max=4000)])
    confirm_non_valide = BooleanField("Je confirme la décision « Non validé » : aucune compétence n'est validée")

    @property
    def choices(self) -> dict:
        return {competence.id: field.data for competence, field in self.competence_fields}

    @property
    def results(self) -> dict[int, bool]:
        return chosen_results(self.choices)

    @property
    def missing(self) -> list:
        return missing_competences([c for c, _ in self.competence_fields], self.choices)

    @property
    def untouched(self) -> bool:
        return untouched(self.choices, self.comment.data, self.reason.data)

    @property
    def wants_confirmation(self) -> bool:
        return wants_confirmation(self.results, self.missing, getattr(self, "carried", None))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        missing = self.missing
        if missing:
            for competence in missing:
                field = self.competence_field(competence)
                field.errors = list(field.errors) + [no_choice_message(competence)]
            self.form_errors.append(missing_message(missing))
            return False
        if self.wants_confirmation and not self.confirm_non_valide.data:
            self.confirm_non_valide.errors = list(self.confirm_non_valide.errors) + [CONFIRM_MESSAGE]
            return False
        return valid

    def competence_field(self, competence):
        return getattr(self, f"c_{competence.id}")

    def matches(self, decision) -> bool:
        return matches(decision, self.results, self.comment.data, self.reason.data)


def decision_form_for(file, formdata=None, prefix: str = "", **options):
    """A DecisionForm with a `c_<competence id>` radio pair per competence of the file, chosen as the
    file's decision (when there is one) decided them; else none chosen. `form.suggestions` holds the
    assessor's result per competence id (True acquired, False not, None not given), shown beside."""

    class _Form(DecisionForm):
        pass

    decision = file.decision
    validated = {r.competence_id: r.validated for r in decision.results} if decision else {}
    for competence in file.competences:
        default = None if competence.id not in validated else (VALIDATED if validated[competence.id] else NOT_VALIDATED)
        setattr(_Form, f"c_{competence.id}", RadioField(
            f"{competence.code} — {competence.title}", choices=DECISION_CHOICES, default=default,
            validate_choice=False))
    kwargs = {"prefix": prefix, **options}
    if formdata is not None:
        kwargs["formdata"] = formdata
    form = _Form(**kwargs)
    if decision is not None and formdata is None and not form.is_submitted():
        form.comment.data = decision.comment
    form.competence_fields = [(c, getattr(form, f"c_{c.id}")) for c in file.competences]
    form.carried = carry_over.counted(file)  # R13: shown as acquired, counted by the decision
    evaluation = file.evaluation
    by_competence = {r.competence_id: r for r in evaluation.results} if evaluation is not None else {}
    form.suggestions = {c.id: by_competence[c.id].acquired if c.id in by_competence else None
                        for c in file.competences}
    form.assessor_comments = {c.id: by_competence[c.id].comment if c.id in by_competence else None
                              for c in file.competences}
    return form


class FileIdsField(SelectMultipleField):
    """The ids of the ticked files; anything but a number is refused with a French message."""

    def process_formdata(self, valuelist):
        try:
            self.data = [int(value) for value in valuelist]
        except ValueError as exc:
            self.data = []
            raise ValueError(f"{self.label.text} : un identifiant de dossier n'est pas valide.") from exc


class BulkDecisionForm(BaseForm):
    """The files ticked on the session's screen for « Décider conforme à l'évaluation »."""

    file_ids = FileIdsField("Dossiers sélectionnés", validate_choice=False)


class BulkRegisterForm(BaseForm):
    """Several files of the company's list registered to a jury at once (R7–R8 for each)."""

    file_ids = FileIdsField("Dossiers à inscrire", validate_choice=False)
    jury_session_id = SelectField("Session de jury souhaitée", validate_choice=False, validators=[Optional()])
    confirm = BooleanField("Confirmer")


class VerifyForm(BaseForm):
    class Meta:
        csrf = False

    numero = StringField("Numéro du parchemin", render_kw={"autocomplete": "off", "spellcheck": "false"}, filters=[lambda value: (value or "").strip()], validators=[
        DataRequired(message="Saisissez le numéro imprimé sur le parchemin ou l'attestation (par exemple CQP-7K4M-QX2D).")])
