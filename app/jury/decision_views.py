"""The secretariat's decision screens (R9): a session's files, one row at a time, all rows at once
(« Enregistrer tout ») or the ticked rows as the evaluation concluded (« Décider conforme à
l'évaluation »), and one file's decision. Routes of the jury blueprint (app.jury.web).

The session's screen is one form: each row's « Enregistrer » posts it to its row's address (formaction),
so the page works without JavaScript and with the keyboard alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, redirect, render_template, request, url_for

from app.core.errors import DomainError
from app.core.permissions import require, roles_required
from app.files.models import CandidateFile
from app.jury import decisions, forms
from app.jury.models import JurySession
from app.jury.web import _file_or_404, _session_or_404, _user, bp

# ---------------------------------------------------------------- secretariat: decisions (R9)


@dataclass
class Report:
    """What a bulk action on the screen did, file by file (shown above the table)."""

    title: str
    saved: list[tuple[CandidateFile, str]] = field(default_factory=list)
    refused: list[tuple[CandidateFile, str]] = field(default_factory=list)
    left: list[tuple[CandidateFile, str]] = field(default_factory=list)


@bp.route("/secretariat/jurys/<int:session_id>/decisions")
@roles_required("secretariat")
def session_decisions(session_id: int):
    jury_session = _session_or_404(session_id)
    return _render_decisions(jury_session, decisions.files_to_decide(jury_session), {})


def _render_decisions(jury_session: JurySession, files: list[CandidateFile], row_forms: dict, status: int = 200,
                      report: Report | None = None, selected: set[int] | frozenset = frozenset()):
    rows = [{"file": f, "decision": f.decision, "selected": f.id in selected,
             "form": row_forms.get(f.id) or forms.decision_form_for(f, prefix=f"f{f.id}")} for f in files]
    return render_template("jury/session_decisions.html", jury_session=jury_session, rows=rows, report=report,
                           summary=decisions.decision_summary(files), may_decide=jury_session.is_held,
                           form=forms.EmptyForm()), status


def _session_files(jury_session: JurySession) -> list[CandidateFile]:
    return decisions.files_to_decide(jury_session)


def _recorded(file: CandidateFile, form) -> bool:
    """Records the decision of a valid form; a refusal lands on the form's fields (False)."""
    if not form.validate_on_submit():
        return False
    try:
        decisions.record_decision(file, _user(), form.results, comment=form.comment.data, reason=form.reason.data)
    except DomainError as err:
        form.add_domain_errors(err)
        return False
    return True


@bp.route("/secretariat/jurys/<int:session_id>/decisions/<int:file_id>", methods=["POST"])
@roles_required("secretariat")
def session_decision_row(session_id: int, file_id: int):
    jury_session = _session_or_404(session_id)
    file = _file_or_404(file_id)
    require(file.jury_session_id == jury_session.id)
    form = forms.decision_form_for(file, formdata=request.form, prefix=f"f{file.id}")
    if _recorded(file, form):
        flash(f"Décision enregistrée pour {file.candidate.full_name} : {file.status_label}.", "success")
        return redirect(url_for("jury.session_decisions", session_id=jury_session.id) + f"#dossier-{file.id}")
    return _render_decisions(jury_session, _session_files(jury_session), {file.id: form}, 422)


@bp.route("/secretariat/jurys/<int:session_id>/decisions/tout", methods=["POST"])
@roles_required("secretariat")
def session_decisions_all(session_id: int):
    """Every row of the screen: the rows changed are validated and saved, each all or nothing; the
    rows left untouched or as recorded are left alone; the report says which."""
    jury_session = _session_or_404(session_id)
    if not forms.EmptyForm().validate_on_submit():
        flash("Le formulaire a expiré : recommencez.", "error")
        return redirect(url_for("jury.session_decisions", session_id=jury_session.id))
    files = _session_files(jury_session)
    report = Report("Enregistrer tout")
    row_forms, entries = {}, []
    for f in files:
        if not f.can_decide(_user()):
            continue
        form = forms.decision_form_for(f, formdata=request.form, prefix=f"f{f.id}")
        if f.decision is None and form.untouched:
            report.left.append((f, "aucune décision choisie"))
            continue
        if form.matches(f.decision):
            continue
        row_forms[f.id] = form
        if not form.validate():
            report.refused.append((f, " ".join(form.form_errors) or _first_error(form)))
            continue
        entries.append((f, form.results, form.comment.data, form.reason.data))
    for outcome in decisions.record_decisions(entries, _user()):
        if outcome.error is None:
            report.saved.append((outcome.file, outcome.file.status_label))
            row_forms.pop(outcome.file.id, None)
        else:
            row_forms[outcome.file.id].add_domain_errors(outcome.error)
            report.refused.append((outcome.file, outcome.error.message))
    # Saved rows stay saved (the request commits below 400): 422 only when nothing was saved.
    status = 422 if report.refused and not report.saved else 200
    return _render_decisions(jury_session, _session_files(jury_session) if report.saved else files,
                             row_forms, status, report)


def _first_error(form) -> str:
    return next((str(e) for errors in form.errors.values() for e in errors), "")


@bp.route("/secretariat/jurys/<int:session_id>/decisions/conforme", methods=["POST"])
@roles_required("secretariat")
def session_decisions_as_evaluated(session_id: int):
    """« Décider conforme à l'évaluation » for the ticked files of the session."""
    jury_session = _session_or_404(session_id)
    bulk = forms.BulkDecisionForm()
    back = url_for("jury.session_decisions", session_id=jury_session.id)
    if not bulk.validate_on_submit():
        flash(" ".join(_first_error(bulk).split()) or "Le formulaire a expiré : recommencez.", "error")
        return redirect(back)
    files = _session_files(jury_session)
    wanted = set(bulk.file_ids.data or [])
    chosen = [f for f in files if f.id in wanted]
    if not chosen:
        flash("Dossiers sélectionnés : cochez au moins un dossier de la session avant « Décider conforme à "
              "l'évaluation ».", "error")
        return redirect(back)
    report = Report("Décider conforme à l'évaluation")
    for outcome in decisions.decide_as_evaluated(chosen, _user()):
        if outcome.error is None:
            report.saved.append((outcome.file, outcome.file.status_label))
        else:
            report.refused.append((outcome.file, outcome.error.message))
    status = 422 if report.refused and not report.saved else 200
    refused = {f.id for f, _ in report.refused}
    return _render_decisions(jury_session, _session_files(jury_session) if report.saved else files, {}, status,
                             report, selected=refused)


@bp.route("/secretariat/dossiers/<int:file_id>/decision", methods=["GET", "POST"])
@roles_required("secretariat")
def file_decision(file_id: int):
    file = _file_or_404(file_id)
    form = forms.decision_form_for(file)
    if _recorded(file, form):
        flash(f"Décision enregistrée : {file.status_label}.", "success")
        return redirect(url_for("jury.file_decision", file_id=file.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("jury/file_decision.html", file=file, form=form), status
