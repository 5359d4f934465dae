"""Company and candidate pages for candidates: list, creation, editing, documents, the candidate's invitation and own
civil status. Routes of the files blueprint (app.files.web)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.accounts import services as accounts
from app.core.errors import DomainError
from app.core.permissions import public, require, roles_required
from app.core.uploads import serve_document
from app.files import access, candidate_forms, candidates, forms, services
from app.files.web import FILE_READERS, _fail, _int_arg, _me, bp

# ---------------------------------------------------------------- candidates (company)


@bp.route("/entreprise/candidats")
@roles_required("entreprise")
def candidate_list():
    form = candidate_forms.CandidateSearchForm(request.args)
    page = access.search_candidates(_me(), form.q.data, _int_arg("page"))
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
        status = 422
    return render_template("files/candidate_form.html", form=form, candidate=None), status


@bp.route("/entreprise/candidats/<int:candidate_id>")
@roles_required("entreprise")
def candidate_show(candidate_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    return _render_candidate(candidate)


def _render_candidate(candidate, status: int = 200, document_form=None, invite_form=None):
    return render_template(
        "files/candidate_show.html", candidate=candidate, documents=access.candidate_documents(candidate),
        document_form=document_form or forms.DocumentForm(formdata=None),
        invite_form=invite_form or candidate_forms.InviteCandidateForm(formdata=None, email=candidate.email),
        upload_kinds=services.allowed_upload_kinds(_me(), None),
    ), status


@bp.route("/entreprise/candidats/<int:candidate_id>/modifier", methods=["GET", "POST"])
@roles_required("entreprise")
def candidate_edit(candidate_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    form = candidate_forms.CandidateForm(obj=candidate)
    status = 200
    if form.validate_on_submit():
        try:
            candidates.update_candidate(candidate, _me(), **form.service_data())
        except DomainError as error:
            status = _fail(form, error)
        else:
            flash("La fiche du candidat est enregistrée.", "success")
            return redirect(url_for("files.candidate_show", candidate_id=candidate.id))
    elif form.is_submitted():
        status = 422
    return render_template("files/candidate_form.html", form=form, candidate=candidate), status


@bp.route("/entreprise/candidats/<int:candidate_id>/documents", methods=["POST"])
@roles_required("entreprise")
def candidate_upload(candidate_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    form = forms.DocumentForm()
    if form.validate_on_submit():
        try:
            services.upload_document(_me(), kind=form.kind.data, upload=form.file.data, candidate=candidate)
        except DomainError as error:
            return _render_candidate(candidate, _fail(form, error), document_form=form)
        flash("Le document est déposé.", "success")
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
    ), status


@bp.route("/candidat/etat-civil", methods=["GET", "POST"])
@roles_required("candidat")
def own_civil_status():
    candidate = _own_candidate()
    form = candidate_forms.CandidateForm(obj=candidate)
    status = 200
    if form.validate_on_submit():
        try:
            candidates.update_candidate(candidate, _me(), **form.service_data())
        except DomainError as error:
            status = _fail(form, error)
        else:
            flash("Votre état civil est enregistré.", "success")
            return redirect(url_for("files.own_civil_status"))
    elif form.is_submitted():
        status = 422
    return _render_own(candidate, form, status)


@bp.route("/candidat/documents", methods=["POST"])
@roles_required("candidat")
def own_upload():
    candidate = _own_candidate()
    form = forms.DocumentForm()
    if form.validate_on_submit():
        try:
            services.upload_document(_me(), kind=form.kind.data, upload=form.file.data, candidate=candidate)
        except DomainError as error:
            return _render_own(candidate, candidate_forms.CandidateForm(obj=candidate), _fail(form, error), form)
        flash("Le document est déposé.", "success")
        return redirect(url_for("files.own_civil_status"))
    return _render_own(candidate, candidate_forms.CandidateForm(obj=candidate), 422, form)
