"""Exports prepared in the background (app/stats/export_jobs.py): asking for one, its progress page, the
download (only for the user who asked), the list of one's recent exports. Routes of the stats blueprint."""

from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.core import audit
from app.core.permissions import login_required, roles_required
from app.jury import forms
from app.stats import export_jobs
from app.stats.views import bp


@bp.route("/statistiques/dossiers/export-excel", methods=["POST"])
@roles_required("secretariat")
def file_list_export_job():
    """The XLSX of the whole list (its filters, search and sort), prepared by the worker."""
    if not forms.EmptyForm().validate_on_submit():
        abort(400)
    job = export_jobs.start_export(current_user, "dossiers_xlsx", {"args": request.args.to_dict()})
    from app.stats import lists

    audit.record_reads_of("export Excel de la liste des dossiers",
                          lists.file_list_candidate_ids(lists.parse_file_list_args(request.args)))
    return redirect(url_for("stats.export_job", job_id=job.id), 303)


@bp.record_once
def _register_template_helpers(state) -> None:
    state.app.jinja_env.globals["BACKGROUND_PRINT_FROM"] = export_jobs.BACKGROUND_PRINT_FROM


@bp.route("/secretariat/jurys/<int:session_id>/parchemins-en-arriere-plan", methods=["POST"])
@roles_required("secretariat")
def session_parchments_job(session_id: int):
    """A large session's parchments and attestations (not printed yet, or all of them with reprint=1),
    rendered by the worker: the web process never holds the PDF."""
    if not forms.EmptyForm().validate_on_submit():
        abort(400)
    params = {"session_id": session_id, "reprint": request.args.get("reprint") == "1"}
    job = export_jobs.start_export(current_user, "parchemins", params)
    return redirect(url_for("stats.export_job", job_id=job.id), 303)


@bp.route("/exports")
@login_required
def export_list():
    return render_template("stats/export_list.html", jobs=export_jobs.recent_jobs(current_user),
                           labels=export_jobs.KIND_LABELS)


@bp.route("/exports/<int:job_id>")
@login_required
def export_job(job_id: int):
    job = export_jobs.job_for(current_user, job_id)
    response = make_response(render_template("stats/export_job.html", job=job,
                                             label=export_jobs.KIND_LABELS[job.kind]))
    if not job.finished:
        response.headers["Refresh"] = "2"  # the page follows the job until it ends
    return response


@bp.route("/exports/<int:job_id>/fichier")
@login_required
def export_download(job_id: int):
    path, name, mimetype = export_jobs.download_path(current_user, job_id)
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
