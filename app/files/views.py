"""Company, candidate, assessor and job-assessor pages for candidates and files.

Each view: load (scoped: another tenant's object is a 404) → check access (the models' can_*
methods) → call ONE service → respond. A refused form is re-rendered with what the user typed and
the service's status (422, 409, 413); the app rolls a 4xx back, so no view commits nor rolls back.
Templates read the permissions on the models too (`f.can_edit(current_user)`), never a role string."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import inspect
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.core import audit
from app.core.errors import DomainError, refusal_goes_back_to
from app.core.permissions import roles_required
from app.core.uploads import serve_document
from app.files import access, carry_over, forms, progress, services, training_org_filter
from app.files.models import (
    STATUS_LABELS,
    STEPS,
    CandidateFile,
    FileStatus,
)
from app.files.web import FILE_READERS, _fail, _int_arg, _me, _render_evaluation, bp
from app.referential import quiforme
from app.referential import services as referential

# What the file inputs accept (the content is checked anyway: app.core.uploads).
ACCEPTED_UPLOADS = "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"

# ---------------------------------------------------------------- files: lists and page


@bp.route("/dossiers")
@bp.route("/candidat/dossiers", endpoint="own_files")
@roles_required(*FILE_READERS)
def file_list():
    me = _me()
    form = forms.FileSearchForm(request.args)
    form.status.choices = forms.choices([("", "Tous les statuts"), *((s.value, STATUS_LABELS[s]) for s in FileStatus)])
    status = form.status.data if form.status.data in {s.value for s in FileStatus} else None
    organisme, organisme_error = (request.args.get("organisme") or "").strip(), None
    try:
        where = training_org_filter.condition(organisme)
    except ValueError as error:
        where, organisme_error = None, str(error)
    page = access.search_files(me, status=status, q=form.q.data, page=_int_arg("page"), where=where,
                               after=request.args.get("apres"), before=request.args.get("avant"),
                               checked_steps=progress.steps_told_missing(me))
    lines = [(f, f.visible_status_for(me), progress.next_action(f, me)) for f in page.items]
    return render_template("files/file_list.html", form=form, page=page, lines=lines, endpoint=request.endpoint,
                           organisme=organisme, organisme_error=organisme_error,
                           organisme_choices=training_org_filter.CHOICES)


def _render_file(file: CandidateFile, status: int = 200, **given_forms):
    me = _me()
    context = {
        "document_form": forms.DocumentForm(formdata=None),
        "withdraw_form": forms.WithdrawForm(formdata=None),
        "confirm_form": forms.ConfirmAssessorForm(formdata=None),
        **given_forms,
    }
    documents = services.file_documents(file)
    if "documents" in inspect(file).unloaded:
        # The file's own scans are among the page's documents: one statement for both (file_show
        # does not load them with the file), in the relationship's order (uploaded_at).
        set_committed_value(file, "documents", [d for d in documents if d.file_id == file.id])
    shown = file.visible_status_for(me)
    return render_template(
        "files/file_show.html", f=file, shown=shown, steps=STEPS, documents=documents,
        history=file.visible_history_for(me),
        missing=progress.missing_items(file, me) if shown == file.status else [],
        next_action=progress.next_action(file, me),
        upload_kinds=services.allowed_upload_kinds(me, file),
        **context,
    ), status


def _decision_loads() -> tuple:
    """The decision per competence and the parchment the page shows once published, one statement each.
    The jury's classes are reached through the relationships (this area never imports the jury)."""
    decision_class = inspect(CandidateFile).relationships["decision"].mapper.class_
    result_class = inspect(decision_class).relationships["results"].mapper.class_
    return (joinedload(CandidateFile.decision).selectinload(decision_class.results)
            .joinedload(result_class.competence), joinedload(CandidateFile.parchment))


@bp.route("/dossiers/<int:file_id>")
@bp.route("/candidat/dossiers/<int:file_id>", endpoint="own_file")
@roles_required(*FILE_READERS)
def file_show(file_id: int):
    loads = (*access.for_viewer(access.FILE_PAGE, _me()), *_decision_loads())
    file = access.get_file_for(_me(), file_id, loads=loads)
    audit.record_read("dossier", file.candidate_id)
    quiforme.refresh(file.training_org_siret)
    return _render_file(file)


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
    acquired = carry_over.acquired_for(candidate.id, cqp)  # R13: shown as acquired, not offered
    form = forms.file_form(cqp, referential.habilitated_assessors(cqp=cqp), candidate_id=str(candidate.id),
                           cqp_code=cqp.code, acquired=acquired)
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
    return render_template("files/file_form.html", form=form, candidate=candidate, cqp=cqp, file=None,
                           acquired=acquired), status


@bp.route("/dossiers/<int:file_id>/modifier", methods=["GET", "POST"])
@roles_required("entreprise")
def file_edit(file_id: int):
    file = access.get_file_for(_me(), file_id)
    acquired = carry_over.acquired_for(file.candidate_id, file.cqp)  # R13
    form = forms.file_form(file.cqp, referential.habilitated_assessors(cqp=file.cqp), file=file, acquired=acquired)
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
                           file=file, acquired=acquired), status


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
            documents = services.upload_documents(_me(), kind=form.kind.data, uploads=request.files.getlist("file"),
                                                  candidate=file.candidate, file=file)
        except DomainError as error:
            status = _fail(form, error)
        else:
            flash(services.deposited_message(documents), "success")
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
    return serve_document(services.document_of_file(file, document_id))


def _after_document_change(file: CandidateFile, document) -> str:
    if document.kind == "guide_evaluation" and _me().is_assessor:
        return url_for("files.evaluation", file_id=file.id)
    return url_for("files.file_show", file_id=file.id)


@bp.route("/dossiers/<int:file_id>/documents/<int:document_id>/supprimer", methods=["POST"])
@roles_required("entreprise", "candidat", "evaluateur")
def file_document_delete(file_id: int, document_id: int):
    file = access.get_file_for(_me(), file_id)
    document = services.document_of_file(file, document_id)
    back, name = _after_document_change(file, document), document.filename
    with refusal_goes_back_to(back):
        services.delete_document(document, _me())
    flash(f"Le document « {name} » est supprimé.", "success")
    return redirect(back, 303)


@bp.route("/dossiers/<int:file_id>/documents/<int:document_id>/remplacer", methods=["POST"])
@roles_required("entreprise", "candidat", "evaluateur")
def file_document_replace(file_id: int, document_id: int):
    file = access.get_file_for(_me(), file_id)
    document = services.document_of_file(file, document_id)
    back, name = _after_document_change(file, document), document.filename
    with refusal_goes_back_to(back):
        services.replace_document(document, _me(), request.files.get("file"))
    flash(f"Le document « {name} » est remplacé par « {document.filename} ».", "success")
    return redirect(back, 303)


def _candidate_page(candidate) -> str:
    if _me().is_candidate:
        return url_for("files.own_civil_status")
    return url_for("files.candidate_show", candidate_id=candidate.id)


@bp.route("/candidats/<int:candidate_id>/documents/<int:document_id>/supprimer", methods=["POST"])
@roles_required("entreprise", "candidat")
def candidate_document_delete(candidate_id: int, document_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    document = access.get_document_for(_me(), document_id, candidate=candidate)
    back, name = _candidate_page(candidate), document.filename
    with refusal_goes_back_to(back):
        services.delete_document(document, _me())
    flash(f"Le document « {name} » est supprimé.", "success")
    return redirect(back, 303)


@bp.route("/candidats/<int:candidate_id>/documents/<int:document_id>/remplacer", methods=["POST"])
@roles_required("entreprise", "candidat")
def candidate_document_replace(candidate_id: int, document_id: int):
    candidate = access.get_candidate_for(_me(), candidate_id)
    document = access.get_document_for(_me(), document_id, candidate=candidate)
    back, name = _candidate_page(candidate), document.filename
    with refusal_goes_back_to(back):
        services.replace_document(document, _me(), request.files.get("file"))
    flash(f"Le document « {name} » est remplacé par « {document.filename} ».", "success")
    return redirect(back, 303)


@bp.app_context_processor
def _document_helpers():
    return {"ACCEPTED_UPLOADS": ACCEPTED_UPLOADS}
