"""The frozen record (R15): the secretariat's rectification of a civil status on issued documents, and the
versions of each document. Routes of the jury blueprint (app.jury.web)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.core.errors import DomainError
from app.core.permissions import roles_required
from app.files import access
from app.files.candidate_forms import CandidateForm
from app.files.candidates import IDENTITY_FIELDS
from app.jury import record
from app.jury.web import _user, bp


class RectificationForm(CandidateForm):
    """The identity fields of the candidate's form, prefilled, with the reason and a confirmation."""

    reason = TextAreaField("Motif de la rectification", validators=[
        DataRequired(message=record.REASON_REQUIRED), Length(max=record.REASON_MAX)])
    confirm = BooleanField("Je confirme la rectification et la nouvelle délivrance des documents",
                           validators=[DataRequired(message="Cochez la confirmation pour délivrer les documents "
                                                            "à nouveau.")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self._fields):
            if name not in (*IDENTITY_FIELDS, "reason", "confirm", "csrf_token"):
                del self[name]

    def identity_data(self) -> dict:
        return {name: value for name, value in self.service_data().items() if name in IDENTITY_FIELDS}


@bp.route("/secretariat/candidats/<int:candidate_id>/rectification", methods=["GET", "POST"])
@roles_required("secretariat")
def rectify_identity(candidate_id: int):
    candidate = access.get_candidate_for(_user(), candidate_id)
    form = RectificationForm(obj=candidate)
    status = 200
    if form.validate_on_submit():
        try:
            versions = record.rectify_identity(candidate, form.identity_data(), form.reason.data, _user())
        except DomainError as err:
            form.add_domain_errors(err)
            status = err.status_code
        else:
            documents = "aucun document n'était délivré" if not versions else (
                "1 document délivré à nouveau" if len(versions) == 1
                else f"{len(versions)} documents délivrés à nouveau")
            flash(f"État civil rectifié : {documents}.", "success")
            return redirect(url_for("jury.rectify_identity", candidate_id=candidate.id) + "#versions")
    elif form.is_submitted():
        status = 422
    return render_template("jury/rectify_identity.html", candidate=candidate, form=form,
                           documents=record.documents_of(candidate),
                           in_force=len(record.issued_documents(candidate))), status
