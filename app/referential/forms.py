"""Secretariat forms: a CQP with its competences, an assessor with their habilitation."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.forms import BaseForm


class NestedErrorsMixin:
    def add_domain_errors(self, error) -> None:
        """Like BaseForm's, but also finds nested fields by their full name (competences-0-title)."""
        by_name = {}
        for field in self:
            by_name[field.name] = field
            if isinstance(field, FieldList):
                for entry in field:
                    for sub in entry.form:
                        by_name[sub.name] = sub
        placed = False
        for name, messages in error.errors.items():
            field = by_name.get(name)
            if field is not None:
                field.errors = list(field.errors) + list(messages)
                placed = True
        if not placed:
            self.form_errors.append(error.message)


class CompetenceRow(Form):
    """One competence of the CQP; its code is fixed (files refer to it), only title and active change."""

    code = HiddenField()
    title = StringField("Intitulé", validators=[
        DataRequired(message="L'intitulé de la compétence est obligatoire."), Length(max=500)])
    active = BooleanField("Active")


class CqpForm(NestedErrorsMixin, BaseForm):
    title = StringField("Intitulé du CQP", validators=[
        DataRequired(message="L'intitulé du CQP est obligatoire."), Length(max=255)])
    domain = StringField("Domaine", validators=[DataRequired(message="Le domaine du CQP est obligatoire."),
                                                Length(max=120)])
    active = BooleanField("CQP actif (proposé aux entreprises pour les nouvelles candidatures)")
    # The registration by France compétences: checked by services.update_cqp_registration (French messages).
    repertoire = SelectField("Répertoire national", choices=[
        SelectChoice("", "Non enregistré"),
        SelectChoice("RNCP", "RNCP (répertoire national des certifications professionnelles)"),
        SelectChoice("RS", "RS (répertoire spécifique)")], validate_choice=False)
    repertoire_code = StringField("Code d'enregistrement (fiche RNCP ou RS)", validators=[Optional(), Length(max=16)])
    level = SelectField("Niveau du cadre national des certifications professionnelles",
                        choices=[SelectChoice("", "Sans niveau (RS)")]
                        + [SelectChoice(str(n), f"Niveau {n}") for n in range(1, 9)],
                        validate_choice=False)
    nsf_code = StringField("Code NSF (nomenclature des spécialités de formation)",
                           validators=[Optional(), Length(max=8)])
    registered_on = StringField("Date de la décision d'enregistrement de France compétences")
    carry_over_years = StringField("Durée de conservation des compétences acquises (années)")
    competences = FieldList(FormField(CompetenceRow))

    def registration_values(self) -> dict:
        """The registration as posted, for the service (which checks and normalises each field)."""
        registered_on = (self.registered_on.data or "").strip()
        if len(registered_on) == 10 and registered_on[2] == "/" and registered_on[5] == "/":
            registered_on = f"{registered_on[6:]}-{registered_on[3:5]}-{registered_on[:2]}"  # JJ/MM/AAAA
        values = {"repertoire": self.repertoire.data or None, "repertoire_code": self.repertoire_code.data or None,
                  "level": self.level.data or None, "nsf_code": self.nsf_code.data or None,
                  "registered_on": registered_on or None}
        if (self.carry_over_years.data or "").strip():  # left empty: unchanged
            values["carry_over_years"] = self.carry_over_years.data.strip()
        return values


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssessorForm(BaseForm):
    email = EmailField("Adresse email", validators=[DataRequired(message="L'adresse email est obligatoire."),
                                                    Length(max=255)])
    first_name = StringField("Prénom", validators=[DataRequired(message="Le prénom est obligatoire."), Length(max=120)])
    last_name = StringField("Nom", validators=[DataRequired(message="Le nom est obligatoire."), Length(max=120)])
    organisation = StringField("Organisme", validators=[Optional(), Length(max=255)])
    phone = StringField("Téléphone", validators=[Optional(), Length(max=40)])
    departement = StringField("Département (code, publié dans la liste des évaluateurs)",
                              validators=[Optional(), Length(max=3)])
    habilitation_until = DateField("Fin de l'habilitation", validators=[
        DataRequired(message="La date de fin d'habilitation est obligatoire (format JJ/MM/AAAA ou AAAA-MM-JJ).")],
        format=["%Y-%m-%d", "%d/%m/%Y"])
    cqp_codes = CheckboxesField("CQP pour lesquels l'évaluateur est habilité (aucun coché : tous les CQP)",
                                choices=[], validate_choice=False)
    active = BooleanField("Compte actif")

    def set_cqp_choices(self, cqps) -> None:
        self.cqp_codes.choices = [SelectChoice(c.code, f"{c.code} · {c.title}") for c in cqps]
