"""The assessor's declared organisation (independence): the assessor's own page (/compte/organisation) and the
secretariat's form on the assessor's page. Load → one service → back; a refusal re-renders the form (422)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app.core.errors import DomainError, NotFound, refusal_goes_back_to
from app.core.permissions import roles_required
from app.extensions import db
from app.referential import independence, services
from app.referential.independence_forms import OrganisationForm
from app.referential.models import Assessor
from app.referential.views import bp


def _own_assessor() -> Assessor:
    assessor = db.session.scalar(select(Assessor).where(Assessor.user_id == current_user.id))
    if assessor is None:
        raise NotFound("Votre fiche d'évaluateur habilité n'existe pas.")
    return assessor


@bp.app_template_global()
def organisation_form(assessor: Assessor) -> OrganisationForm:
    return OrganisationForm(formdata=None, data={"organisation": assessor.organisation,
                                                 "organisation_siret": assessor.organisation_siret})


@bp.route("/mon-organisme", methods=["GET", "POST"])
@roles_required("evaluateur")
def own_organisation():
    assessor = _own_assessor()
    return render_template("referential/own_organisation.html", assessor=assessor, form=organisation_form(assessor))


@bp.route("/mon-organisme/enregistrer", methods=["POST"])
@roles_required("evaluateur")
def own_organisation_save():
    assessor = _own_assessor()
    form = OrganisationForm()
    status = 422
    if form.validate_on_submit():
        try:
            independence.declare_organisation(assessor, current_user, organisation=form.organisation.data,
                                               organisation_siret=form.organisation_siret.data)
        except DomainError as error:
            form.add_domain_errors(error)
            status = error.status_code
        else:
            flash("Votre organisme est enregistré : vous ne pourrez pas être confirmé sur les dossiers des candidats "
                  "de cet établissement, ni sur ceux dont il est l'organisme de formation.", "success")
            return redirect(url_for("referential.own_organisation"), 303)
    return render_template("referential/own_organisation.html", assessor=assessor, form=form), status


@bp.route("/evaluateurs/<int:assessor_id>/organisme", methods=["POST"])
@roles_required("secretariat")
def assessor_organisation(assessor_id: int):
    assessor = services.get_assessor(assessor_id)
    form = OrganisationForm()
    back = url_for("referential.assessor_edit", assessor_id=assessor.id) + "#organisme"
    if form.validate_on_submit():
        with refusal_goes_back_to(back):
            independence.declare_organisation(assessor, current_user, organisation=form.organisation.data,
                                               organisation_siret=form.organisation_siret.data)
        flash(f"L'organisme de {assessor.name} est enregistré.", "success")
    return redirect(back, 303)
