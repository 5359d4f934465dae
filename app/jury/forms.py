"""Forms of the jury area (French labels; rules are checked by the services)."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import BaseForm


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


class DecisionForm(BaseForm):
    """One checkbox per competence of the file is added by `decision_form_for(file)`."""

    comment = TextAreaField("Commentaire du jury", validators=[Optional(), Length(max=4000)])
    reason = TextAreaField("Motif de la rectification", validators=[Optional(), Length(max=4000)])

    @property
    def results(self) -> dict[int, bool]:
        """{competence id: validated} as ticked."""
        return {competence.id: bool(field.data) for competence, field in self.competence_fields}


def decision_form_for(file, formdata=None, prefix: str = ""):
    """A DecisionForm with a `c_<competence id>` checkbox per competence of the file, ticked as the
    file's decision (when there is one) validated them."""

    class _Form(DecisionForm):
        pass

    decision = file.decision
    validated = {r.competence_id: r.validated for r in decision.results} if decision else {}
    for competence in file.competences:
        setattr(_Form, f"c_{competence.id}", BooleanField(
            f"{competence.code} — {competence.title}", default=validated.get(competence.id, False)))
    kwargs = {"prefix": prefix}
    if formdata is not None:
        kwargs["formdata"] = formdata
    form = _Form(**kwargs)
    if decision is not None and formdata is None and not form.is_submitted():
        form.comment.data = decision.comment
    form.competence_fields = [(c, getattr(form, f"c_{c.id}")) for c in file.competences]
    return form


class VerifyForm(BaseForm):
    class Meta:
        csrf = False

    numero = StringField("Numéro du parchemin", render_kw={"autocomplete": "off", "spellcheck": "false"}, filters=[lambda value: (value or "").strip()], validators=[
        DataRequired(message="Saisissez le numéro imprimé sur le parchemin ou l'attestation (par exemple CQP-7K4M-QX2D).")])
