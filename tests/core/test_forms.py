"""error_summary: every error of a form, in the page's order, each with the id to link to."""

from __future__ import annotations

from wtforms import FieldList, Form, HiddenField, StringField
from wtforms.validators import DataRequired

from app.core.forms import ErrorItem, error_summary


class Sample(Form):
    token = HiddenField(validators=[DataRequired(message="Jeton manquant.")])
    name = StringField("Nom", validators=[DataRequired(message="Le nom est obligatoire.")])
    city = StringField("Ville")
    phones = FieldList(StringField("Téléphone", validators=[DataRequired(message="Le téléphone est obligatoire.")]),
                       min_entries=2)


def test_every_error_in_order_with_its_anchor():
    form = Sample()
    form.validate()
    form.form_errors.append("Le formulaire a expiré.")
    assert error_summary(form) == [
        ErrorItem(None, "", ("Le formulaire a expiré.",)),
        ErrorItem(None, "", ("Jeton manquant.",)),  # a hidden field: no link
        ErrorItem("name", "Nom", ("Le nom est obligatoire.",)),
        ErrorItem("phones-0", "Téléphone", ("Le téléphone est obligatoire.",)),
        ErrorItem("phones-1", "Téléphone", ("Le téléphone est obligatoire.",)),
    ]


def test_a_valid_form_or_none_has_no_item():
    form = Sample(data={"token": "x", "name": "Léa", "phones": ["01", "02"]})
    assert form.validate() and error_summary(form) == []
    assert error_summary(None) == []
