"""Assessor and job-assessor pages: the job assessor's invitation, the evaluation form and its transmission, the
job assessor's observations by public link. Routes of the files blueprint (app.files.web)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.core.errors import DomainError, refusal_goes_back_to
from app.core.permissions import public, roles_required
from app.core.templating import day_in_paris
from app.files import access, evaluation, evaluation_forms, forms, progress
from app.files.models import STATUS_LABELS, FileStatus
from app.files.web import _fail, _int_arg, _me, _render_evaluation, bp

# ---------------------------------------------------------------- assessor

@bp.route("/evaluateur/dossiers", endpoint="assessor_files")
@roles_required("evaluateur")
def assessor_file_list():
    """« Dossiers à évaluer »: only the files that wait for the assessor's evaluation, each group counted; the
    others under « Autres dossiers en cours » and « Dossiers clos » (paginated). A status filter shows one list."""
    me = _me()
    form = forms.FileSearchForm(request.args)
    form.status.choices = forms.choices([("", "Tous les statuts"),
                                         *((s.value, STATUS_LABELS[s]) for s in FileStatus)])
    status = form.status.data if form.status.data in {s.value for s in FileStatus} else None
    groups = []
    if status:
        page = access.search_files(me, status=status, q=form.q.data, page=_int_arg("page"),
                                   after=request.args.get("apres"), before=request.args.get("avant"),
                                   checked_steps=progress.steps_told_missing(me))
        groups.append(("filtre", f"Dossiers « {STATUS_LABELS[FileStatus(status)]} »", page))
    else:
        for key, title, condition in evaluation.assessor_list_groups():
            paged = key == "clos"  # the closed files grow without end; the others stay few
            groups.append((key, title, access.search_files(me, where=condition, q=form.q.data,
                                                           page=_int_arg("page") if paged else 1,
                                                           per_page=20 if paged else 100,
                                                           after=request.args.get("apres") if paged else None,
                                                           before=request.args.get("avant") if paged else None,
                                                           checked_steps=progress.steps_told_missing(me))))
    lines = {key: [(f, f.visible_status_for(me), progress.next_action(f, me)) for f in page.items]
             for key, _title, page in groups}
    return render_template("files/assessor_file_list.html", form=form, groups=groups, lines=lines,
                           filtered=bool(status or form.q.data))



@bp.route("/dossiers/<int:file_id>/evaluateur-metier", methods=["GET", "POST"])
@roles_required("evaluateur")
def invite_job_assessor(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = evaluation_forms.JobAssessorInvitationForm()
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
    return render_template("files/job_assessor_invite.html", f=file, form=form,
                           invitation=evaluation.invitation_state(file),
                           resend_form=evaluation_forms.ResendInvitationForm(formdata=None)), status



@bp.route("/dossiers/<int:file_id>/evaluation", methods=["GET", "POST"], endpoint="evaluation")
@roles_required("evaluateur")
def evaluation_page(file_id: int):
    file = access.get_file_for(_me(), file_id)
    if request.method == "GET":
        if file.status != FileStatus.EN_ATTENTE_EVALUATION:
            flash(f"Le dossier est au statut « {file.status_label} » : l'évaluation n'est plus modifiable.", "info")
            return redirect(url_for("files.file_show", file_id=file.id))
        return _render_evaluation(file)
    form = evaluation_forms.evaluation_form(file)
    transmit = request.form.get("action") == "transmettre"
    if not form.validate_on_submit():
        return _render_evaluation(file, form, 422)
    try:
        outcome = evaluation.save_evaluation_form(
            file, _me(), interview_date=form.interview_date.data,
            results=evaluation_forms.evaluation_results(form, file.competences),
            candidate_observations=form.candidate_observations.data, guide=form.guide.data, transmit=transmit)
    except DomainError as error:
        return _render_evaluation(file, form, _fail(form, error))
    if outcome.transmitted:
        flash("L'évaluation est transmise (ce qui était saisi est enregistré) : le dossier passe en « Validation "
              "de l'évaluation ».", "success")
        return redirect(url_for("files.file_show", file_id=file.id))
    if outcome.refusals:
        # The draft (and the guide) are saved, so the request commits (200); the page says what the
        # transmission still needs, by each field, with what was typed.
        evaluation_forms.place_transmission_refusals(form, outcome.refusals)
        return _render_evaluation(file, form, 200, transmission_refused=True)
    flash("Le document est déposé et le brouillon de l'évaluation est enregistré." if outcome.guide_stored
          else "Le brouillon de l'évaluation est enregistré.", "success")
    return redirect(url_for("files.evaluation", file_id=file.id))


@bp.route("/dossiers/<int:file_id>/evaluateur-metier/<int:invitation_id>/relancer", methods=["POST"])
@roles_required("evaluateur")
def resend_job_assessor(file_id: int, invitation_id: int):
    file = access.get_file_for(_me(), file_id)
    form = evaluation_forms.ResendInvitationForm()
    back = {"evaluation": url_for("files.evaluation", file_id=file.id), "accueil": url_for("stats.assessor_home")}.get(
        request.form.get("back"), url_for("files.invite_job_assessor", file_id=file.id))
    if not form.validate_on_submit():
        flash("Le formulaire a expiré : rechargez la page puis relancez.", "error")
        return redirect(back, 303)
    with refusal_goes_back_to(back):
        invitation, _token = evaluation.resend_job_assessor_invitation(file, _me(), invitation_id)
    flash(f"Relance envoyée à {invitation.full_name} ({invitation.email}) avec un nouveau lien, valable jusqu'au "
          f"{day_in_paris(invitation.expires_at)} ; l'ancien lien ne fonctionne plus.", "success")
    return redirect(back, 303)


@bp.route("/dossiers/<int:file_id>/transmettre", methods=["POST"])
@roles_required("evaluateur")
def submit_evaluation(file_id: int):
    """Transmits the saved draft as it is (the evaluation page's own button saves what is typed first)."""
    file = access.get_file_for(_me(), file_id)
    form = evaluation_forms.SubmitEvaluationForm()
    if not form.validate_on_submit():
        return _render_evaluation(file, status=422, submit_form=form)
    try:
        evaluation.submit_evaluation(file, _me())
    except DomainError as error:
        shown = evaluation_forms.evaluation_form(file, formdata=None)
        return _render_evaluation(file, shown, _fail(shown, error))
    flash("L'évaluation est transmise : le dossier passe en « Validation de l'évaluation ».", "success")
    return redirect(url_for("files.file_show", file_id=file.id))


# ---------------------------------------------------------------- job assessor (public link)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def job_assessor_observations(token: str):
    invitation = evaluation.job_assessor_invitation(token)  # 404 unknown; 410 spent, replaced or expired
    file = invitation.file
    form = evaluation_forms.observations_form_class(file.competences)()
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
