"""Forms of the candidates' pages (company, candidate). Field names are those of the services (and API)."""

from __future__ import annotations

from wtforms import (
    EmailField,
    HiddenField,
    SearchField,
    StringField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from app.core.forms import BaseForm
from app.files.forms import FrenchDateField, new_creation_token


class CandidateForm(BaseForm):
    creation_token = HiddenField(default=new_creation_token)  # idempotency of the creating form
    last_name = StringField("Nom", validators=[DataRequired(message="Le nom est obligatoire."), Length(max=120)])
    first_name = StringField("Prénom", validators=[DataRequired(message="Le prénom est obligatoire."),
                                                   Length(max=120)])
    birth_date = FrenchDateField("Date de naissance",
                                 validators=[InputRequired(message="La date de naissance est obligatoire.")])
    birth_place = StringField("Lieu de naissance", validators=[Optional(), Length(max=120)])
    email = EmailField("Adresse email", validators=[Optional(), Email(message="L'adresse email n'est pas valide.")])
    phone = StringField("Téléphone", validators=[Optional(), Length(max=40)])
    address = StringField("Adresse postale", validators=[Optional(), Length(max=255)])
    job_title = StringField("Emploi occupé", validators=[Optional(), Length(max=255)])
    highest_diploma = StringField("Diplôme le plus élevé", validators=[Optional(), Length(max=255)])

    def service_data(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "first_name", "last_name", "birth_date", "birth_place", "email", "phone", "address", "job_title",
            "highest_diploma")}


class CandidateSearchForm(BaseForm):
    class Meta:
        csrf = False

    q = SearchField("Rechercher un candidat (nom ou prénom)", validators=[Optional()])


class InviteCandidateForm(BaseForm):
    email = EmailField("Adresse email du candidat",
                       validators=[DataRequired(message="L'adresse email du candidat est obligatoire."),
                                   Email(message="L'adresse email n'est pas valide.")])
