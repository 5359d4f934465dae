"""The secretariat's decision screens (R9): a session's files, one row at a time or all, and one file's decision.
Routes of the jury blueprint (app.jury.web)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.core.errors import DomainError
from app.core.permissions import require, roles_required
from app.jury import decisions, forms
from app.jury.models import JurySession
from app.jury.web import _file_or_404, _session_or_404, _user, bp

# ---------------------------------------------------------------- secretariat: decisions (R9)


@bp.route("/secretariat/jurys/<int:session_id>/decisions")
@roles_required("secretariat")
def session_decisions(session_id: int):
    return _render_decisions(_session_or_404(session_id), {})


def _render_decisions(jury_session: JurySession, row_forms: dict, status: int = 200):
    files = decisions.files_to_decide(jury_session)
    rows = [{"file": f, "decision": f.decision,
             "form": row_forms.get(f.id) or forms.decision_form_for(f, prefix=f"f{f.id}")} for f in files]
    return render_template("jury/session_decisions.html", jury_session=jury_session, rows=rows,
                           summary=decisions.decision_summary(files), may_decide=jury_session.is_held), status


@bp.route("/secretariat/jurys/<int:session_id>/decisions/<int:file_id>", methods=["POST"])
@roles_required("secretariat")
def session_decision_row(session_id: int, file_id: int):
    jury_session = _session_or_404(session_id)
    file = _file_or_404(file_id)
    require(file.jury_session_id == jury_session.id)
    form = forms.decision_form_for(file, formdata=request.form, prefix=f"f{file.id}")
    if form.validate_on_submit():
        try:
            decisions.record_decision(file, _user(), form.results, comment=form.comment.data, reason=form.reason.data)
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            flash(f"Décision enregistrée pour {file.candidate.full_name} : {file.status_label}.", "success")
            return redirect(url_for("jury.session_decisions", session_id=jury_session.id) + f"#dossier-{file.id}")
    return _render_decisions(jury_session, {file.id: form}, 422)


@bp.route("/secretariat/dossiers/<int:file_id>/decision", methods=["GET", "POST"])
@roles_required("secretariat")
def file_decision(file_id: int):
    file = _file_or_404(file_id)
    form = forms.decision_form_for(file)
    if form.validate_on_submit():
        try:
            decisions.record_decision(file, _user(), form.results, comment=form.comment.data, reason=form.reason.data)
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            flash(f"Décision enregistrée : {file.status_label}.", "success")
            return redirect(url_for("jury.file_decision", file_id=file.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("jury/file_decision.html", file=file, form=form), status
