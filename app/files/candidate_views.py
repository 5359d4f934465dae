"""Company and candidate pages for candidates: list, creation, editing, documents, the candidate's invitation and own
civil status. Routes of the files blueprint (app.files.web)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from app.accounts import services as accounts
from app.core import audit
from app.core.errors import DomainError, ValidationFailed
from app.core.permissions import public, require, roles_required
from app.core.uploads import serve_document
from app.files import access, candidate_forms, candidates, carry_over, forms, services
from app.files.web import FILE_READERS, _fail, _int_arg, _me, bp

bp.add_app_template_global(candidates.FIELD_NAMES_FR, "CANDIDATE_FIELD_NAMES")
bp.add_app_template_global(candidates.SEXES, "SEXES")


# ---------------------------------------------------------------- the civil status form, shared by the pages


def _every_mistake(form, candidate=None) -> None:
    """A refused form also shows the service's checks of the fields the form itself accepted (plausible
    birth date, code of the official geographic code...): every mistake at once."""
    try:
        candidates.check_candidate(form.service_data(), candidate)
    except ValidationFailed as error:
        fresh = {name: messages for name, messages in error.errors.items()
                 if name in form and not form[name].errors}
        if fresh:
            form.add_domain_errors(ValidationFailed(error.message, fresh))


def _civil_status_form(candidate):
    """The form of an existing candidate; on a decided one (R15) without the identity fields, shown read-only."""
    form = candidate_forms.CandidateForm(obj=candidate)
    return form.without_identity() if candidate.has_issued_record else form


def _save_civil_status(candidate, form) -> int | None:
    """Saves a posted civil status: None when saved, else the status to render the refused form with."""
    if form.validate_on_submit():
        data = form.service_data()
        if not form.has_identity:
            # Shown read-only (R15): an identity posted anyway is refused by the service, sent to the secretariat.
            data.update({name: request.form[name] for name in candidates.IDENTITY_FIELDS if name in request.form})
        try:
            candidates.update_candidate(candidate, _me(), **data)
        except DomainError as error:
            return _fail(form, error)
        return None
    if form.is_submitted():
        _every_mistake(form, candidate)
        return 422
    return 200


def _rectification_url(candidate) -> str | None:
    """The secretariat's rectification page of a decided candidate (the jury area's), once it exists."""
    if _me().is_secretariat and candidate.has_issued_record and "jury.rectify_identity" in current_app.view_functions:
        return url_for("jury.rectify_identity", candidate_id=candidate.id)
    return None


def _render_candidate_form(candidate, form, status: int, back: str):
    return render_template("files/candidate_form.html", form=form, candidate=candidate, back=back,
                           rectify_url=_rectification_url(candidate) if candidate else None), status

# ---------------------------------------------------------------- candidates (company)


@bp.route("/entreprise/candidats")
@roles_required("entreprise")
def candidate_list():
    form = candidate_forms.CandidateSearchForm(request.args)
    page = access.search_candidates(_me(), form.q.data, _int_arg("page"), after=request.args.get("apres"),
                                    before=request.args.get("avant"))
    return render_template("files/candidate_list.html", form=form, page=page)


@bp.route("/entreprise/candidats/nouveau", methods=["GET", "POST"])
@roles_required("entreprise")
def candidate_new():
    form = candidate_forms.CandidateForm()
    status = 200
    if form.validate_on_submit():
        try:
            candidate = candidates.create_candidate(_me().establishment, _me(), **form.service_data(),
                                                    creation_token=form.creation_token.data)
        except DomainError as error:
            status = _fail(form, error)
        else:
            flash(f"Le candidat {candidate.full_name} est créé.", "success")
            return redirect(url_for("files.candidate_show", candidate_id=candidate.id))
    elif form.is_submitted():
        _every_mistake(form)
        status = 422
    return _render_candidate_form(None, form, status, url_for("files.candidate_list"))


@bp.route("/entreprise/candidats/<int:candidate_id>")
@roles_required("entreprise")
def candidate_show(candidate_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    audit.record_read("fiche du candidat", candidate.id)
    return _render_candidate(candidate)


def _render_candidate(candidate, status: int = 200, document_form=None, invite_form=None):
    return render_template(
        "files/candidate_show.html", candidate=candidate, documents=access.candidate_documents(candidate),
        document_form=document_form or forms.DocumentForm(formdata=None),
        invite_form=invite_form or candidate_forms.InviteCandidateForm(formdata=None, email=candidate.email),
        upload_kinds=services.allowed_upload_kinds(_me(), None),
        path=carry_over.candidate_path(candidate, _me()),
    ), status


@bp.route("/entreprise/candidats/<int:candidate_id>/modifier", methods=["GET", "POST"])
@roles_required("entreprise")
def candidate_edit(candidate_id: int):
    return _edit_candidate(candidate_id, "files.candidate_show")


def _edit_candidate(candidate_id: int, show_endpoint: str):
    """The company's and the secretariat's edit page: the same form and service; back to their candidate page."""
    candidate = access.get_candidate_for(_me(), candidate_id)
    audit.record_read("fiche du candidat (modification)", candidate.id)
    form = _civil_status_form(candidate)
    status = _save_civil_status(candidate, form)
    back = url_for(show_endpoint, candidate_id=candidate.id)
    if status is None:
        flash("La fiche du candidat est enregistrée.", "success")
        return redirect(back)
    return _render_candidate_form(candidate, form, status, back)


# ---------------------------------------------------------------- candidates (secretariat)


@bp.route("/secretariat/candidats/<int:candidate_id>")
@roles_required("secretariat")
def secretariat_candidate_show(candidate_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    audit.record_read("fiche du candidat", candidate.id)
    return render_template("files/candidate_show.html", candidate=candidate,
                           documents=access.candidate_documents(candidate),
                           rectify_url=_rectification_url(candidate),
                           path=carry_over.candidate_path(candidate, _me()))


@bp.route("/secretariat/candidats/<int:candidate_id>/modifier", methods=["GET", "POST"])
@roles_required("secretariat")
def secretariat_candidate_edit(candidate_id: int):
    return _edit_candidate(candidate_id, "files.secretariat_candidate_show")


@bp.route("/entreprise/candidats/<int:candidate_id>/documents", methods=["POST"])
@roles_required("entreprise")
def candidate_upload(candidate_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    form = forms.DocumentForm()
    if form.validate_on_submit():
        try:
            documents = services.upload_documents(_me(), kind=form.kind.data, uploads=request.files.getlist("file"),
                                                  candidate=candidate)
        except DomainError as error:
            return _render_candidate(candidate, _fail(form, error), document_form=form)
        flash(services.deposited_message(documents), "success")
        return redirect(url_for("files.candidate_show", candidate_id=candidate.id))
    return _render_candidate(candidate, 422, document_form=form)


@bp.route("/entreprise/candidats/<int:candidate_id>/inviter", methods=["POST"])
@roles_required("entreprise")
def candidate_invite(candidate_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    form = candidate_forms.InviteCandidateForm()
    if form.validate_on_submit():
        try:
            candidates.invite_candidate(candidate, _me(), form.email.data)
        except DomainError as error:
            return _render_candidate(candidate, _fail(form, error), invite_form=form)
        flash(f"Une invitation est envoyée à {candidate.email}.", "success")
        return redirect(url_for("files.candidate_show", candidate_id=candidate.id))
    return _render_candidate(candidate, 422, invite_form=form)


@bp.route("/candidats/<int:candidate_id>/documents/<int:document_id>")
@roles_required(*FILE_READERS)
def candidate_document(candidate_id: int, document_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    return serve_document(access.get_document_for(_me(), document_id, candidate=candidate))


# ---------------------------------------------------------------- the candidate themself


@bp.route("/invitation-candidat/<token>", methods=["GET", "POST"])
@public
def candidate_invitation(token: str):
    invitation = candidates.candidate_invitation(token)  # 404 / 410 page
    form = forms.SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = candidates.accept_candidate_invitation(token, form.password.data)
        except DomainError as error:
            status = _fail(form, error)
        else:
            accounts.start_session(user)
            flash("Votre mot de passe est enregistré. Vérifiez maintenant votre état civil et vos diplômes.",
                  "success")
            return redirect(url_for("files.own_civil_status"))
    elif form.is_submitted():
        status = 422
    return render_template("files/candidate_invitation.html", form=form, invitation=invitation), status


def _own_candidate():
    candidate = access.own_candidate(_me())
    require(candidate is not None)
    return candidate


def _render_own(candidate, form, status=200, document_form=None):
    return render_template(
        "files/own_civil_status.html", candidate=candidate, form=form,
        documents=access.candidate_documents(candidate),
        document_form=document_form or forms.DocumentForm(formdata=None),
        upload_kinds=services.allowed_upload_kinds(_me(), None),
        path=carry_over.candidate_path(candidate, _me()),
    ), status


@bp.route("/candidat/etat-civil", methods=["GET", "POST"])
@roles_required("candidat")
def own_civil_status():
    candidate = _own_candidate()
    form = _civil_status_form(candidate)
    status = _save_civil_status(candidate, form)
    if status is None:
        flash("Votre état civil est enregistré.", "success")
        return redirect(url_for("files.own_civil_status"))
    return _render_own(candidate, form, status)


@bp.route("/candidat/documents", methods=["POST"])
@roles_required("candidat")
def own_upload():
    candidate = _own_candidate()
    form = forms.DocumentForm()
    if form.validate_on_submit():
        try:
            documents = services.upload_documents(_me(), kind=form.kind.data, uploads=request.files.getlist("file"),
                                                  candidate=candidate)
        except DomainError as error:
            return _render_own(candidate, _civil_status_form(candidate), _fail(form, error), form)
        flash(services.deposited_message(documents), "success")
        return redirect(url_for("files.own_civil_status"))
    return _render_own(candidate, _civil_status_form(candidate), 422, form)
