"""The form of an assessor's declared organisation (independence)."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import Length

from app.core.forms import BaseForm


class OrganisationForm(BaseForm):
    organisation = StringField("Nom de l'organisme (employeur)", validators=[Length(max=255)])
    organisation_siret = StringField("SIRET de l'organisme (14 chiffres)", validators=[Length(max=20)])
