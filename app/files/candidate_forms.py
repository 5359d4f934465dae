"""Forms of the candidates' pages (company, candidate). Field names are those of the services (and API)."""

from __future__ import annotations

from wtforms import (
    EmailField,
    HiddenField,
    RadioField,
    SearchField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from app.core.forms import BaseForm
from app.files.candidates import CONTACT_FIELDS, IDENTITY_FIELDS, SEXES
from app.files.forms import FrenchDateField, new_creation_token


class FirstNamesField(StringField):
    """The other first names as one text, separated by commas (the service splits it; a list read from the
    candidate is shown joined)."""

    def process_data(self, value):
        self.data = ", ".join(value) if isinstance(value, list | tuple) else value


class CandidateForm(BaseForm):
    """A candidate's civil status (company, candidate, secretariat). On a decided candidate (R15) the view
    removes the identity fields (`without_identity`): they are shown read-only, only the secretariat rectifies
    them."""

    creation_token = HiddenField(default=new_creation_token)  # idempotency of the creating form
    last_name = StringField("Nom de naissance", validators=[DataRequired(message="Le nom est obligatoire."),
                                                            Length(max=120)])
    usage_name = StringField("Nom d'usage", validators=[Optional(), Length(max=120)])
    first_name = StringField("Prénom", validators=[DataRequired(message="Le prénom est obligatoire."),
                                                   Length(max=120)])
    other_first_names = FirstNamesField("Autres prénoms", validators=[Optional(), Length(max=250)])
    sex = RadioField("Sexe", choices=[SelectChoice(code, label) for code, label in SEXES.items()],
                     validators=[Optional()], validate_choice=False)
    birth_date = FrenchDateField("Date de naissance",
                                 validators=[InputRequired(message="La date de naissance est obligatoire.")])
    birth_place = StringField("Commune de naissance", validators=[Optional(), Length(max=120)])
    birth_place_code = StringField("Code INSEE du lieu de naissance", validators=[Optional(), Length(max=5)])
    birth_country = StringField("Pays de naissance", validators=[Optional(), Length(max=120)])
    email = EmailField("Adresse email", validators=[Optional(), Email(message="L'adresse email n'est pas valide.")])
    phone = StringField("Téléphone", validators=[Optional(), Length(max=40)])
    address = StringField("Adresse postale", validators=[Optional(), Length(max=255)])
    job_title = StringField("Emploi occupé", validators=[Optional(), Length(max=255)])
    highest_diploma = StringField("Diplôme le plus élevé", validators=[Optional(), Length(max=255)])

    def without_identity(self) -> CandidateForm:
        for name in IDENTITY_FIELDS:
            if name in self:
                del self[name]
        return self

    @property
    def has_identity(self) -> bool:
        return "last_name" in self

    def service_data(self) -> dict:
        data = {name: self[name].data for name in (*IDENTITY_FIELDS, *CONTACT_FIELDS) if name in self}
        if data.get("sex") in ("None", ""):
            data["sex"] = None
        return data


class CandidateSearchForm(BaseForm):
    class Meta:
        csrf = False

    q = SearchField("Rechercher un candidat (nom ou prénom)", validators=[Optional()])


class InviteCandidateForm(BaseForm):
    email = EmailField("Adresse email du candidat",
                       validators=[DataRequired(message="L'adresse email du candidat est obligatoire."),
                                   Email(message="L'adresse email n'est pas valide.")])
