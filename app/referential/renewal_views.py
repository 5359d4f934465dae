"""Pages of the habilitation cycle: the assessor's (their habilitation, the renewal request with its documents,
the decisions) and the secretariat's (the requests to examine, one request: its documents, grant or refuse)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import DateField, TextAreaField
from wtforms.validators import Length, Optional

from app.core.clock import today
from app.core.errors import DomainError, NotFound
from app.core.forms import BaseForm
from app.core.permissions import require, roles_required
from app.core.uploads import serve_document
from app.referential import habilitation
from app.referential.habilitation import RENEWAL_DOCUMENTS

bp = Blueprint("renewals", __name__)


class RenewalForm(BaseForm):
    message = TextAreaField("Message au secrétariat (facultatif)", validators=[Optional(), Length(max=2000)])


for _kind, _label in RENEWAL_DOCUMENTS.items():
    setattr(RenewalForm, _kind, FileField(_label, description=habilitation.RENEWAL_DOCUMENT_HINTS[_kind]
                                          + " PDF, PNG ou JPEG, 10 Mo au maximum."))


class GrantForm(BaseForm):
    habilitation_until = DateField("Nouvelle fin d'habilitation", format=["%Y-%m-%d", "%d/%m/%Y"],
                                   validators=[Optional()])


class RefuseForm(BaseForm):
    reason = TextAreaField("Motif du refus (envoyé à l'évaluateur)", validators=[Optional(), Length(max=2000)])


def _me():
    return current_user._get_current_object()


def _renewal(renewal_id: int):
    try:
        return habilitation.get_renewal(_me(), renewal_id)
    except NotFound:
        require(False)


# ---------------------------------------------------------------- the assessor


@bp.route("/evaluateur/habilitation", methods=["GET", "POST"])
@roles_required("evaluateur")
def my_habilitation():
    try:
        assessor = habilitation.assessor_of(_me())
    except NotFound:
        require(False)
    form = RenewalForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                habilitation.submit_renewal(_me(), {k: request.files.get(k) for k in RENEWAL_DOCUMENTS},
                                            form.message.data)
            except DomainError as error:
                form.add_domain_errors(error)
                status = error.status_code
            else:
                flash("Votre demande de renouvellement est déposée : le secrétariat l'examine et vous répondra "
                      "par email.", "success")
                return redirect(url_for("renewals.my_habilitation"), 303)
        else:
            status = 422
    on = today()
    return render_template("referential/my_habilitation.html", assessor=assessor, form=form, today=on,
                           opens_on=habilitation.renewal_opens_on(assessor),
                           pending=habilitation.pending_renewal(assessor),
                           renewals=habilitation.renewals_of(assessor), documents=RENEWAL_DOCUMENTS), status


# ---------------------------------------------------------------- the secretariat


@bp.route("/referentiel/renouvellements")
@roles_required("secretariat")
def renewal_list():
    return render_template("referential/renewal_list.html", renewals=habilitation.renewals_to_examine())


@bp.route("/referentiel/renouvellements/<int:renewal_id>", methods=["GET", "POST"])
@roles_required("secretariat")
def renewal_detail(renewal_id: int):
    renewal = _renewal(renewal_id)
    grant_form = GrantForm(prefix="accorder")
    refuse_form = RefuseForm(prefix="refuser")
    status = 200
    if request.method == "POST":
        decision = request.form.get("decision")
        form = grant_form if decision == "accorder" else refuse_form
        if form.validate_on_submit():
            try:
                if decision == "accorder":
                    habilitation.grant_renewal(renewal, _me(), grant_form.habilitation_until.data)
                    flash(f"Renouvellement accordé : {renewal.assessor.name} est habilité jusqu'au "
                          f"{renewal.granted_until.strftime('%d/%m/%Y')}.", "success")
                else:
                    habilitation.refuse_renewal(renewal, _me(), refuse_form.reason.data)
                    flash(f"Renouvellement refusé : {renewal.assessor.name} en est informé par email.", "success")
            except DomainError as error:
                form.add_domain_errors(error)
                status = error.status_code
            else:
                return redirect(url_for("renewals.renewal_list"), 303)
        else:
            status = 422
    if renewal.is_pending and not grant_form.habilitation_until.raw_data:  # not posted: the proposal
        grant_form.habilitation_until.data = habilitation.proposed_until(renewal)
    return render_template("referential/renewal_detail.html", renewal=renewal, grant_form=grant_form,
                           refuse_form=refuse_form, documents=RENEWAL_DOCUMENTS), status


@bp.route("/renouvellements/<int:renewal_id>/pieces/<int:document_id>")
@roles_required("secretariat", "evaluateur")
def renewal_document(renewal_id: int, document_id: int):
    """A document of a request, for the secretariat and the assessor who filed it (anyone else: 404)."""
    renewal = _renewal(renewal_id)
    try:
        document = habilitation.get_document(renewal, document_id)
    except NotFound:
        require(False)
    return serve_document(document)
