"""The secretariat's decision screens (R9): a session's files, one row at a time, all rows at once
(« Enregistrer tout ») or the ticked rows as the evaluation concluded (« Décider conforme à
l'évaluation »), and one file's decision. Routes of the jury blueprint (app.jury.web).

The session's screen shows its files by pages of 50 (app/jury/decision_rows.py: keyset in id order, the filter
« à décider / décidés / tous » with its counts); a page is one form: each row's « Enregistrer » posts it to its
row's address (formaction), « Enregistrer tout » the rows of the page, so the page works without JavaScript and
with the keyboard alone. The rows are plain data read in a few statements and a row's post is read by
`RowEntry`, not a WTForms form per row (300 of them were 2.3 s a page at 16 clients)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, redirect, render_template, request, url_for

from app.core.errors import DomainError
from app.core.permissions import require, roles_required
from app.core.validation import as_id
from app.files.models import CandidateFile
from app.jury import decision_rows, decisions, forms
from app.jury.models import JurySession
from app.jury.web import _file_or_404, _session_or_404, _user, bp

# ---------------------------------------------------------------- secretariat: decisions (R9)


@dataclass
class Report:
    """What a bulk action on the screen did, file by file (shown above the table)."""

    title: str
    saved: list[tuple[int, str, str]] = field(default_factory=list)  # (file id, name, what)
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    left: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, bucket: list, file: CandidateFile, what: str) -> None:
        bucket.append((file.id, file.candidate.full_name, what))


def _cursor(name: str) -> int | None:
    return as_id(request.args.get(name))


def _page(jury_session: JurySession) -> decision_rows.Page:
    """The page the screen shows (and its forms post back to): ?etat=, ?apres= / ?avant= of the address."""
    return decision_rows.page_of(jury_session, request.args.get("etat", decision_rows.DEFAULT_STATE),
                                 after=_cursor("apres"), before=_cursor("avant"))


def _where() -> dict:
    """The address arguments of the page shown (its state and cursor), kept by its forms and redirects."""
    args = {"etat": request.args["etat"]} if request.args.get("etat") in decision_rows.STATES else {}
    args |= {key: str(as_id(request.args.get(key))) for key in ("apres", "avant") if as_id(request.args.get(key))}
    return args


@bp.route("/secretariat/jurys/<int:session_id>/decisions")
@roles_required("secretariat")
def session_decisions(session_id: int):
    jury_session = _session_or_404(session_id)
    return _render_decisions(jury_session, _page(jury_session))


def _render_decisions(jury_session: JurySession, page: decision_rows.Page, entries: dict | None = None,
                      status: int = 200, report: Report | None = None,
                      selected: set[int] | frozenset = frozenset()):
    entries = entries or {}
    ids = sorted(set(page.ids) | set(entries))  # a refused row is shown even if no longer of the page
    rows = decision_rows.rows_of(ids, entries, selected)
    return render_template("jury/session_decisions.html", jury_session=jury_session, rows=rows, report=report,
                           page=page, states=decision_rows.STATES, where=_where(),
                           page_size=decision_rows.PAGE_SIZE,
                           published=jury_session.published_at is not None, may_decide=jury_session.is_held,
                           form=forms.EmptyForm()), status


def _posted_files(jury_session: JurySession) -> list[CandidateFile]:
    """The rows the form showed (its `lignes`), else the page of the address."""
    posted = request.form.get("lignes", "").split()[:10 * decision_rows.PAGE_SIZE]  # a page, and a few refused
    ids = [file_id for file_id in map(as_id, posted) if file_id is not None]
    return decision_rows.files_posted(jury_session, ids or _page(jury_session).ids)


def _csrf_expired(jury_session: JurySession):
    if forms.EmptyForm().validate_on_submit():
        return None
    flash("Le formulaire a expiré : recommencez.", "error")
    return redirect(url_for("jury.session_decisions", session_id=jury_session.id, **_where()))


@bp.route("/secretariat/jurys/<int:session_id>/decisions/<int:file_id>", methods=["POST"])
@roles_required("secretariat")
def session_decision_row(session_id: int, file_id: int):
    jury_session = _session_or_404(session_id)
    file = _file_or_404(file_id)
    require(file.jury_session_id == jury_session.id)
    expired = _csrf_expired(jury_session)
    if expired is not None:
        return expired
    entry = decision_rows.RowEntry.read(file, request.form)
    if entry.validate():
        try:
            decisions.record_decision(file, _user(), *entry.record_args())
        except DomainError as err:
            entry.add_domain_error(err)
        else:
            flash(f"Décision enregistrée pour {file.candidate.full_name} : {file.status_label}.", "success")
            return redirect(url_for("jury.session_decisions", session_id=jury_session.id, **_where())
                            + f"#dossier-{file.id}")
    return _render_decisions(jury_session, _page(jury_session), {file.id: entry}, 422)


@bp.route("/secretariat/jurys/<int:session_id>/decisions/tout", methods=["POST"])
@roles_required("secretariat")
def session_decisions_all(session_id: int):
    """Every row of the page: the rows changed are checked and saved, each all or nothing; the rows left
    untouched or as recorded are left alone; the report says which."""
    jury_session = _session_or_404(session_id)
    expired = _csrf_expired(jury_session)
    if expired is not None:
        return expired
    report = Report("Enregistrer tout")
    entries, to_record = {}, []
    for f in _posted_files(jury_session):
        if not f.can_decide(_user()):
            continue
        entry = decision_rows.RowEntry.read(f, request.form)
        if f.decision is None and entry.untouched:
            report.add(report.left, f, "aucune décision choisie")
            continue
        if entry.matches(f.decision):
            continue
        entries[f.id] = entry
        if not entry.validate():
            report.add(report.refused, f, entry.first_error())
            continue
        to_record.append(entry)
    outcomes = decisions.record_decisions([(e.file, *e.record_args()) for e in to_record], _user())
    for outcome in outcomes:
        if outcome.error is None:
            report.add(report.saved, outcome.file, outcome.file.status_label)
            entries.pop(outcome.file.id, None)
        else:
            entries[outcome.file.id].add_domain_error(outcome.error)
            report.add(report.refused, outcome.file, outcome.error.message)
    # Saved rows stay saved (the request commits below 400): 422 only when nothing was saved.
    status = 422 if report.refused and not report.saved else 200
    return _render_decisions(jury_session, _page(jury_session), entries, status, report)


@bp.route("/secretariat/jurys/<int:session_id>/decisions/conforme", methods=["POST"])
@roles_required("secretariat")
def session_decisions_as_evaluated(session_id: int):
    """« Décider conforme à l'évaluation » for the ticked files of the session."""
    jury_session = _session_or_404(session_id)
    bulk = forms.BulkDecisionForm()
    back = url_for("jury.session_decisions", session_id=jury_session.id, **_where())
    if not bulk.validate_on_submit():
        flash(" ".join(_first_error(bulk).split()) or "Le formulaire a expiré : recommencez.", "error")
        return redirect(back)
    chosen = decision_rows.files_posted(jury_session, list(set(bulk.file_ids.data or [])))
    if not chosen:
        flash("Dossiers sélectionnés : cochez au moins un dossier de la session avant « Décider conforme à "
              "l'évaluation ».", "error")
        return redirect(back)
    report = Report("Décider conforme à l'évaluation")
    for outcome in decisions.decide_as_evaluated(chosen, _user()):
        if outcome.error is None:
            report.add(report.saved, outcome.file, outcome.file.status_label)
        else:
            report.add(report.refused, outcome.file, outcome.error.message)
    status = 422 if report.refused and not report.saved else 200
    return _render_decisions(jury_session, _page(jury_session), None, status, report,
                             selected={file_id for file_id, _, _ in report.refused})


def _first_error(form) -> str:
    return next((str(e) for errors in form.errors.values() for e in errors), "")


def _recorded(file: CandidateFile, form) -> bool:
    """The file's decision page: records the decision of a valid form; a refusal lands on its fields."""
    if not form.validate_on_submit():
        return False
    try:
        decisions.record_decision(file, _user(), form.results, comment=form.comment.data, reason=form.reason.data)
    except DomainError as err:
        form.add_domain_errors(err)
        return False
    return True


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
