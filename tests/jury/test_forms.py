"""The decision form: one checkbox per competence of the file, ticked as its decision says, read back
as {competence id: validated}."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from app.files.models import FileStatus
from app.jury import forms
from tests.factories import make_session
from tests.jury.helpers import decide, make_file


def test_a_file_without_decision_has_every_box_unticked(app, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY)
    with app.test_request_context():
        form = forms.decision_form_for(file, prefix=f"f{file.id}")
        assert [c for c, _ in form.competence_fields] == file.competences
        assert form.results == {c.id: False for c in file.competences}
        assert form.comment.data is None
        assert all(field.name == f"f{file.id}-c_{c.id}" for c, field in form.competence_fields)


def test_the_decision_ticks_its_competences_and_gives_its_comment(app, secretariat, today_is):
    today_is("2027-05-01")
    file = make_file(FileStatus.INSCRIPTION_JURY, session=make_session(on=date(2027, 6, 15)))
    today_is("2027-06-15")
    decide(file, secretariat, [True, False, True], comment="Bon dossier")
    first, second, third = file.competences
    with app.test_request_context():
        form = forms.decision_form_for(file)
        assert form.results == {first.id: True, second.id: False, third.id: True}
        assert form.comment.data == "Bon dossier"


def test_what_is_posted_is_read_back(app, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY)
    first, second, third = file.competences
    posted = MultiDict({f"c_{second.id}": "y", "comment": "Revu"})
    with app.test_request_context(method="POST", data=posted):
        form = forms.decision_form_for(file, formdata=posted)
        assert form.results == {first.id: False, second.id: True, third.id: False}
        assert form.comment.data == "Revu"
