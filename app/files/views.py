"""Company, candidate, assessor and job-assessor pages for candidates and files.

Each view: load (scoped: another tenant's object is a 404) → check access (the models' can_*
methods) → call ONE service → respond. A refused form is re-rendered with what the user typed and
the service's status (422, 409, 413); the app rolls a 4xx back, so no view commits nor rolls back.
Templates read the permissions on the models too (`f.can_edit(current_user)`), never a role string."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts import services as accounts
from app.core.errors import DomainError
from app.core.permissions import public, require, roles_required
from app.core.uploads import serve_document
from app.files import access, candidates, evaluation, forms, progress, services, workflow
from app.files.models import (
    DOCUMENT_KINDS,
    STATUS_LABELS,
    STEPS,
    TRAINING_PATHS,
    TRAINING_SCHEMES,
    CandidateFile,
    FileStatus,
)
from app.referential import services as referential

bp = Blueprint("files", __name__)


@bp.app_template_filter("status_label")
def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(FileStatus(status), status) if status else ""


bp.add_app_template_global(FileStatus, "FileStatus")

FILE_READERS = ("entreprise", "evaluateur", "candidat", "secretariat", "jury")


def _me():
    return current_user._get_current_object()


def _int_arg(name: str, default: int = 1) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 7 else default


def _fail(form, error: DomainError) -> int:
    form.add_domain_errors(error)
    return error.status_code


# ---------------------------------------------------------------- template helpers


@bp.app_context_processor
def _helpers():
    return {
        "TRAINING_PATHS": TRAINING_PATHS, "TRAINING_SCHEMES": TRAINING_SCHEMES,
        "DOCUMENT_KINDS": DOCUMENT_KINDS, "EVENT_LABELS": workflow.EVENT_LABELS,
    }


# ---------------------------------------------------------------- candidates (company)


@bp.route("/entreprise/candidats")
@roles_required("entreprise")
def candidate_list():
    form = forms.CandidateSearchForm(request.args)
    page = access.search_candidates(_me(), form.q.data, _int_arg("page"))
    return render_template("files/candidate_list.html", form=form, page=page)


@bp.route("/entreprise/candidats/nouveau", methods=["GET", "POST"])
@roles_required("entreprise")
def candidate_new():
    form = forms.CandidateForm()
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
        invite_form=invite_form or forms.InviteCandidateForm(formdata=None, email=candidate.email),
        upload_kinds=services.allowed_upload_kinds(_me(), None),
    ), status


@bp.route("/entreprise/candidats/<int:candidate_id>/modifier", methods=["GET", "POST"])
@roles_required("entreprise")
def candidate_edit(candidate_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    form = forms.CandidateForm(obj=candidate)
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
    form = forms.InviteCandidateForm()
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
    form = forms.CandidateForm(obj=candidate)
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
            return _render_own(candidate, forms.CandidateForm(obj=candidate), _fail(form, error), form)
        flash("Le document est déposé.", "success")
        return redirect(url_for("files.own_civil_status"))
    return _render_own(candidate, forms.CandidateForm(obj=candidate), 422, form)


# ---------------------------------------------------------------- files: lists and page


@bp.route("/dossiers")
@bp.route("/candidat/dossiers", endpoint="own_files")
@bp.route("/evaluateur/dossiers", endpoint="assessor_files")
@roles_required(*FILE_READERS)
def file_list():
    me = _me()
    form = forms.FileSearchForm(request.args)
    form.status.choices = forms.choices([("", "Tous les statuts"), *((s.value, STATUS_LABELS[s]) for s in FileStatus)])
    status = form.status.data if form.status.data in {s.value for s in FileStatus} else None
    page = access.search_files(me, status=status, q=form.q.data, page=_int_arg("page"))
    lines = [(f, f.visible_status_for(me), progress.next_action(f, me)) for f in page.items]
    return render_template("files/file_list.html", form=form, page=page, lines=lines, endpoint=request.endpoint)


def _render_file(file: CandidateFile, status: int = 200, **given_forms):
    me = _me()
    context = {
        "document_form": forms.DocumentForm(formdata=None),
        "withdraw_form": forms.WithdrawForm(formdata=None),
        "confirm_form": forms.ConfirmAssessorForm(formdata=None),
        **given_forms,
    }
    shown = file.visible_status_for(me)
    return render_template(
        "files/file_show.html", f=file, shown=shown, steps=STEPS,
        history=file.visible_history_for(me),
        missing=workflow.next_step_problems(file) if shown == file.status else [],
        next_action=progress.next_action(file, me),
        upload_kinds=services.allowed_upload_kinds(me, file),
        **context,
    ), status


@bp.route("/dossiers/<int:file_id>")
@bp.route("/candidat/dossiers/<int:file_id>", endpoint="own_file")
@roles_required(*FILE_READERS)
def file_show(file_id: int):
    return _render_file(access.get_file_for(_me(), file_id, loads=access.for_viewer(access.FILE_PAGE, _me())))


@bp.route("/entreprise/dossiers/nouveau", methods=["GET", "POST"])
@roles_required("entreprise")
def file_new():
    me = _me()
    source = request.form if request.method == "POST" else request.args
    candidate_id, cqp_code = source.get("candidate_id", ""), source.get("cqp_code", "")
    candidate = cqp = None
    created = request.method == "POST" and services.file_created_with(me.establishment_id, request.form.get(
        "creation_token"))
    if created:  # the same creating form posted again (back, then resubmit): the file made the first time
        flash("La candidature est créée. Confirmez l'évaluateur quand tout est renseigné.", "success")
        return redirect(url_for("files.file_show", file_id=created.id))
    if candidate_id and cqp_code:
        candidate = access.get_candidate_for(me, candidate_id)
        try:
            cqp = referential.get_cqp_by_code(cqp_code)
        except DomainError:
            cqp = None  # said on the first step's form
    already_open = None
    if candidate is not None and cqp is not None:
        try:
            services.require_no_open_file(candidate, cqp)  # R12b, said on the CQP field of the first step
        except DomainError as error:
            already_open, cqp = error, None
    if candidate is None or cqp is None:
        # First step (GET, no JavaScript needed): the candidate and the CQP.
        choose = forms.choose_cqp_form(request.args if request.args else None,
                                       access.search_candidates(me, per_page=100).items, referential.list_cqps())
        status = 200
        if request.args.get("step") and not choose.validate():
            status = 422
        elif already_open is not None:
            choose.cqp_code.errors = [already_open.message]
            choose.form_errors.append(already_open.message)
            status = already_open.status_code
        elif cqp_code and cqp is None:
            choose.cqp_code.errors = [f"Le CQP « {cqp_code} » n'existe pas dans le référentiel."]
            status = 422
        return render_template("files/file_choose_cqp.html", form=choose), status
    form = forms.file_form(cqp, referential.habilitated_assessors(cqp=cqp), candidate_id=str(candidate.id),
                           cqp_code=cqp.code)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                file = services.create_file(candidate, me, cqp_code=cqp.code, **form.service_data(),
                                            creation_token=form.creation_token.data)
            except DomainError as error:
                status = _fail(form, error)
            else:
                flash("La candidature est créée. Confirmez l'évaluateur quand tout est renseigné.", "success")
                return redirect(url_for("files.file_show", file_id=file.id))
        else:
            status = 422
    return render_template("files/file_form.html", form=form, candidate=candidate, cqp=cqp, file=None), status


@bp.route("/dossiers/<int:file_id>/modifier", methods=["GET", "POST"])
@roles_required("entreprise")
def file_edit(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = forms.file_form(file.cqp, referential.habilitated_assessors(cqp=file.cqp), file=file)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.update_file(file, _me(), **form.service_data())
            except DomainError as error:
                status = _fail(form, error)
            else:
                flash("La candidature est enregistrée.", "success")
                return redirect(url_for("files.file_show", file_id=file.id))
        else:
            status = 422
    elif not file.can_edit(_me()):
        flash(f"Le dossier est au statut « {file.status_label} » : il ne peut plus être modifié.", "warning")
        return redirect(url_for("files.file_show", file_id=file.id))
    return render_template("files/file_form.html", form=form, candidate=file.candidate, cqp=file.cqp,
                           file=file), status


@bp.route("/dossiers/<int:file_id>/confirmer-evaluateur", methods=["POST"])
@roles_required("entreprise")
def confirm_assessor(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = forms.ConfirmAssessorForm()
    if not form.validate_on_submit():
        return _render_file(file, 422, confirm_form=form)
    try:
        services.confirm_assessor(file, _me())
    except DomainError as error:
        return _render_file(file, _fail(form, error), confirm_form=form)
    flash(f"L'évaluateur {file.assessor.name} est confirmé ; il est prévenu par email.", "success")
    return redirect(url_for("files.file_show", file_id=file.id))


@bp.route("/dossiers/<int:file_id>/abandon", methods=["POST"])
@roles_required("entreprise", "secretariat")
def withdraw(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = forms.WithdrawForm()
    if not form.validate_on_submit():
        return _render_file(file, 422, withdraw_form=form)
    try:
        services.withdraw(file, _me(), form.reason.data)
    except DomainError as error:
        return _render_file(file, _fail(form, error), withdraw_form=form)
    flash("Le dossier est abandonné.", "success")
    return redirect(url_for("files.file_show", file_id=file.id))


@bp.route("/dossiers/<int:file_id>/documents", methods=["POST"])
@roles_required("entreprise", "candidat", "evaluateur")
def file_upload(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = forms.DocumentForm()
    back_to_evaluation = request.form.get("back") == "evaluation" and _me().is_assessor
    if form.validate_on_submit():
        try:
            services.upload_document(_me(), kind=form.kind.data, upload=form.file.data, candidate=file.candidate,
                                     file=file)
        except DomainError as error:
            status = _fail(form, error)
        else:
            flash("Le document est déposé.", "success")
            target = "files.evaluation" if back_to_evaluation else "files.file_show"
            return redirect(url_for(target, file_id=file.id))
    else:
        status = 422
    if back_to_evaluation:
        return _render_evaluation(file, status=status, document_form=form)
    return _render_file(file, status, document_form=form)


@bp.route("/dossiers/<int:file_id>/documents/<int:document_id>")
@roles_required(*FILE_READERS)
def file_document(file_id: int, document_id: int):
    file = access.get_file_for(_me(), file_id)
    return serve_document(access.get_document_for(_me(), document_id, file=file))


# ---------------------------------------------------------------- assessor


@bp.route("/dossiers/<int:file_id>/evaluateur-metier", methods=["GET", "POST"])
@roles_required("evaluateur")
def invite_job_assessor(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = forms.JobAssessorInvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            invitation, _token = evaluation.invite_job_assessor(
                file, _me(), email=form.email.data, first_name=form.first_name.data, last_name=form.last_name.data)
        except DomainError as error:
            status = _fail(form, error)
        else:
            flash(f"L'invitation est envoyée à {invitation.full_name} ({invitation.email}).", "success")
            return redirect(url_for("files.file_show", file_id=file.id))
    elif form.is_submitted():
        status = 422
    return render_template("files/job_assessor_invite.html", f=file, form=form), status


def _render_evaluation(file: CandidateFile, form=None, status: int = 200, document_form=None, submit_form=None):
    return render_template(
        "files/evaluation_form.html", f=file, form=form or forms.evaluation_form(file, formdata=None),
        document_form=document_form or forms.DocumentForm(formdata=None, kind="guide_evaluation"),
        submit_form=submit_form or forms.SubmitEvaluationForm(formdata=None),
        missing=workflow.next_step_problems(file),
        window=workflow.results_window(file.evaluation.interview_date)
        if file.evaluation and file.evaluation.interview_date else None,
    ), status


@bp.route("/dossiers/<int:file_id>/evaluation", methods=["GET", "POST"], endpoint="evaluation")
@roles_required("evaluateur")
def evaluation_page(file_id: int):
    file = access.get_file_for(_me(), file_id)
    if request.method == "GET":
        if file.status != FileStatus.EN_ATTENTE_EVALUATION:
            flash(f"Le dossier est au statut « {file.status_label} » : l'évaluation n'est plus modifiable.", "info")
            return redirect(url_for("files.file_show", file_id=file.id))
        return _render_evaluation(file)
    form = forms.evaluation_form(file)
    if not form.validate_on_submit():
        return _render_evaluation(file, form, 422)
    try:
        evaluation.save_evaluation(file, _me(), interview_date=form.interview_date.data,
                                   results=forms.evaluation_results(form, file.competences),
                                   candidate_observations=form.candidate_observations.data)
    except DomainError as error:
        return _render_evaluation(file, form, _fail(form, error))
    flash("Le brouillon de l'évaluation est enregistré.", "success")
    return redirect(url_for("files.evaluation", file_id=file.id))


@bp.route("/dossiers/<int:file_id>/transmettre", methods=["POST"])
@roles_required("evaluateur")
def submit_evaluation(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = forms.SubmitEvaluationForm()
    if not form.validate_on_submit():
        return _render_evaluation(file, status=422, submit_form=form)
    try:
        evaluation.submit_evaluation(file, _me())
    except DomainError as error:
        return _render_evaluation(file, status=_fail(form, error), submit_form=form)
    flash("L'évaluation est transmise : le dossier passe en « Validation de l'évaluation ».", "success")
    return redirect(url_for("files.file_show", file_id=file.id))


# ---------------------------------------------------------------- job assessor (public link)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def job_assessor_observations(token: str):
    invitation = evaluation.job_assessor_invitation(token)  # 404 unknown; 410 spent, replaced or expired
    file = invitation.file
    form = forms.observations_form_class(file.competences)()
    status = 200
    closed = evaluation.observations_window_notice(invitation)  # R5b: before or after the window
    if closed:
        status = 422 if form.is_submitted() else 200
        return render_template("files/job_assessor_form.html", invitation=invitation, f=file, form=form,
                               closed=closed), status
    if form.validate_on_submit():
        observations = {c.code: getattr(form, f"observation_{c.code}").data for c in file.competences}
        try:
            evaluation.submit_job_assessor_observations(token, observations, form.general_comment.data)
        except DomainError as error:
            if error.status_code == 410:
                raise
            status = _fail(form, error)
        else:
            return render_template("files/job_assessor_done.html", invitation=invitation, f=file)
    elif form.is_submitted():
        status = 422
    return render_template("files/job_assessor_form.html", invitation=invitation, f=file, form=form), status
