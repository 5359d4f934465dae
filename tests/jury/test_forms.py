"""The decision form: one radio pair (Validée / Non validée) per competence of the file, chosen as its
decision says and else none chosen, read back as {competence id: validated}; an unchosen competence is
refused by name, a whole-file « Non validé » is confirmed."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict

from app.files.models import FileStatus
from app.jury import forms
from tests.factories import make_session
from tests.jury.helpers import decide, make_file


def test_a_file_without_decision_has_nothing_chosen_and_the_assessors_results_beside(app, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY)
    with app.test_request_context():
        form = forms.decision_form_for(file, prefix=f"f{file.id}")
        assert [c for c, _ in form.competence_fields] == file.competences
        assert form.results == {} and form.missing == file.competences and form.untouched
        assert form.comment.data is None
        assert all(field.name == f"f{file.id}-c_{c.id}" for c, field in form.competence_fields)
        assert set(form.suggestions) == {c.id for c in file.competences}


def test_the_decision_chooses_its_competences_and_gives_its_comment(app, secretariat, today_is):
    today_is("2027-05-01")
    file = make_file(FileStatus.INSCRIPTION_JURY, session=make_session(on=date(2027, 6, 15)))
    today_is("2027-06-15")
    decide(file, secretariat, [True, False, True], comment="Bon dossier")
    first, second, third = file.competences
    with app.test_request_context():
        form = forms.decision_form_for(file)
        assert form.results == {first.id: True, second.id: False, third.id: True}
        assert form.comment.data == "Bon dossier"
        assert form.matches(file.decision)


def test_what_is_posted_is_read_back(app, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY)
    first, second, third = file.competences
    posted = MultiDict({f"c_{first.id}": "non_validee", f"c_{second.id}": "validee",
                        f"c_{third.id}": "non_validee", "comment": "Revu"})
    with app.test_request_context(method="POST", data=posted):
        form = forms.decision_form_for(file, formdata=posted, meta={"csrf": False})
        assert form.results == {first.id: False, second.id: True, third.id: False}
        assert form.comment.data == "Revu"
        assert form.validate()


def test_a_competence_without_choice_is_refused_by_name(app, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY)
    first, second, third = file.competences
    posted = MultiDict({f"c_{second.id}": "validee", f"c_{third.id}": "n'importe quoi"})
    with app.test_request_context(method="POST", data=posted):
        form = forms.decision_form_for(file, formdata=posted, meta={"csrf": False})
        assert not form.validate()
        message = " ".join(form.form_errors)
        assert first.code in message and third.code in message and second.code not in message
        assert f"compétences {first.code} et {third.code} :" in message
        assert form.competence_field(first).errors and not form.competence_field(second).errors


def test_a_whole_file_not_validated_asks_for_confirmation(app, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY)
    posted = MultiDict({f"c_{c.id}": "non_validee" for c in file.competences})
    with app.test_request_context(method="POST", data=posted):
        form = forms.decision_form_for(file, formdata=posted, meta={"csrf": False})
        assert not form.validate() and "Je confirme" in " ".join(form.confirm_non_valide.errors)
    posted["confirm_non_valide"] = "y"
    with app.test_request_context(method="POST", data=posted):
        form = forms.decision_form_for(file, formdata=posted, meta={"csrf": False})
        assert form.validate() and form.results == {c.id: False for c in file.competences}


def test_bad_file_ids_are_refused_in_french(app):
    with app.test_request_context(method="POST", data=MultiDict({"file_ids": ["12", "douze"]})):
        form = forms.BulkDecisionForm(meta={"csrf": False})
        assert not form.validate()
        assert "identifiant de dossier n'est pas valide" in form.file_ids.errors[0]
