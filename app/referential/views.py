"""Secretariat: the CQP referential and the assessors with their habilitation; for every logged-in page, the
places of the official geographic code (the commune picker of templates/macros/geo.html)."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.clock import add_months, today
from app.core.errors import DomainError, NotFound
from app.core.permissions import login_required, require, roles_required
from app.referential import geography, services
from app.referential.forms import AssessorForm, CqpForm

bp = Blueprint("referential", __name__, url_prefix="/referentiel")


def by_filiere(cqps) -> list[tuple[str, list]]:
    """The CQPs grouped by filière (their domain), as the manual lists them: filières and CQPs in the order the
    referential was loaded in (Fabrication, Conditionnement, Logistique, Maintenance, Commercialisation)."""
    groups: dict[str, list] = {}
    for cqp in sorted(cqps, key=lambda c: c.id):
        groups.setdefault(cqp.domain or "Sans filière", []).append(cqp)
    return list(groups.items())


@bp.route("/cqp")
@roles_required("secretariat")
def cqp_list():
    cqps = services.list_cqps(include_inactive=True)
    return render_template("referential/cqp_list.html", cqps=cqps, filieres=by_filiere(cqps))


def _load_cqp(code: str):
    try:
        return services.get_cqp_for_edit(code)
    except NotFound:
        require(False)


@bp.route("/cqp/<code>", methods=["GET", "POST"])
@roles_required("secretariat")
def cqp_edit(code: str):
    cqp = _load_cqp(code)
    if request.method == "GET":
        form = CqpForm(obj=cqp)
        form.level.data = str(cqp.level) if cqp.level else ""
        form.repertoire.data = cqp.repertoire or ""
        form.registered_on.data = cqp.registered_on.isoformat() if cqp.registered_on else ""
        form.carry_over_years.data = str(cqp.carry_over_years)
    else:
        form = CqpForm()
    status = 200
    if form.validate_on_submit():
        rows = [{"code": row.form.code.data, "title": row.form.title.data, "active": row.form.active.data}
                for row in form.competences]
        try:
            services.update_cqp_referential(cqp, title=form.title.data, domain=form.domain.data,
                                            active=form.active.data, competences=rows,
                                            actor=current_user._get_current_object())
        except DomainError as error:
            form.add_domain_errors(error)
            status = error.status_code
        try:  # both checked, so that the page names every mistake at once
            services.update_cqp_registration(cqp, form.registration_values(),
                                             actor=current_user._get_current_object())
        except DomainError as error:
            form.add_domain_errors(error)
            status = error.status_code
        if status == 200:
            flash(f"Le CQP {cqp.code} est enregistré.", "success")
            return redirect(url_for("referential.cqp_list"))
    elif form.is_submitted():
        status = 422
    competences = {c.code: c for c in cqp.competences}
    return render_template("referential/cqp_edit.html", cqp=cqp, form=form, competences=competences), status


@bp.route("/evaluateurs")
@roles_required("secretariat")
def assessor_list():
    on = today()
    assessors = services.all_assessors()
    alerts = {a.id: services.habilitation_alert(a, on) for a in assessors}
    return render_template("referential/assessor_list.html", assessors=assessors, alerts=alerts, today=on,
                           warning_until=add_months(on, services.HABILITATION_WARNING_MONTHS))


def _assessor_form(**kwargs) -> AssessorForm:
    form = AssessorForm(**kwargs)
    form.set_cqp_choices(services.list_cqps())
    return form


@bp.route("/evaluateurs/nouveau", methods=["GET", "POST"])
@roles_required("secretariat")
def assessor_new():
    form = _assessor_form()
    del form.active
    if form.validate_on_submit():
        try:
            assessor = services.create_assessor(
                form.email.data, form.first_name.data, form.last_name.data, form.habilitation_until.data,
                form.cqp_codes.data, actor=current_user._get_current_object(), organisation=form.organisation.data,
                phone=form.phone.data, invite=True, departement=form.departement.data)
        except DomainError as error:
            form.add_domain_errors(error)
            return render_template("referential/assessor_form.html", form=form, assessor=None), error.status_code
        flash(f"L'évaluateur {assessor.name} est créé : il a reçu par email un lien pour choisir son mot de passe.",
              "success")
        return redirect(url_for("referential.assessor_list"))
    status = 422 if form.errors else 200
    return render_template("referential/assessor_form.html", form=form, assessor=None), status


@bp.route("/evaluateurs/<int:assessor_id>", methods=["GET", "POST"])
@roles_required("secretariat")
def assessor_edit(assessor_id: int):
    try:
        assessor = services.get_assessor(assessor_id)
    except NotFound:
        require(False)
    if request.method == "GET":
        form = _assessor_form(data={
            "email": assessor.user.email, "first_name": assessor.user.first_name,
            "last_name": assessor.user.last_name, "organisation": assessor.organisation, "phone": assessor.phone,
            "departement": assessor.departement,
            "habilitation_until": assessor.habilitation_until, "cqp_codes": [c.code for c in assessor.cqps],
            "active": assessor.user.active})
    else:
        form = _assessor_form()
    # The email is the login: it is shown, not edited here.
    form.email.data = assessor.user.email
    if form.validate_on_submit():
        try:
            services.update_assessor(
                assessor, habilitation_until=form.habilitation_until.data, cqp_codes=form.cqp_codes.data,
                first_name=form.first_name.data, last_name=form.last_name.data, active=form.active.data,
                organisation=form.organisation.data, phone=form.phone.data, departement=form.departement.data,
                actor=current_user._get_current_object())
        except DomainError as error:
            form.add_domain_errors(error)
            return render_template("referential/assessor_form.html", form=form, assessor=assessor), error.status_code
        flash(f"L'évaluateur {assessor.name} est enregistré.", "success")
        return redirect(url_for("referential.assessor_list"))
    status = 422 if form.errors else 200
    return render_template("referential/assessor_form.html", form=form, assessor=assessor), status


@bp.route("/lieux")
@login_required
def places():
    """The commune picker's suggestions for the pages (the session cookie; the API takes a token only):
    the same answer as GET /api/v1/geo/places, at most 10 places, nothing for an empty or odd query."""
    q = (request.args.get("q") or "")[:100].replace("\x00", "")
    found = geography.search(q, limit=10) if q.strip() else []
    response = jsonify([{"code": p.code, "label": p.label, "kind": p.kind, "postcodes": list(p.postcodes),
                         "department": p.department} for p in found])
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    return response
