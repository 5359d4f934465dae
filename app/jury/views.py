"""Jury calendar, registration, decisions, publication, parchments, public verification.

Each view loads what it shows, checks access with the models' methods, calls one service and
answers. Refusals of a posted action flash and go back (`refusal_goes_back_to`); the request
commits once, or rolls back, in the app's hooks."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.errors import DomainError, refusal_goes_back_to
from app.core.permissions import public, require, roles_required
from app.extensions import db, limiter
from app.files.models import CandidateFile
from app.jury import decisions, forms, parchments, pdf, registration, sessions
from app.jury.models import JurySession

bp = Blueprint("jury", __name__)


def _user():
    return current_user._get_current_object()


def _session_or_404(session_id: int) -> JurySession:
    jury_session = db.session.get(JurySession, session_id)
    require(jury_session is not None)
    return jury_session


def _file_or_404(file_id: int) -> CandidateFile:
    """The file if the user may see it (another tenant's file does not exist)."""
    file = db.session.get(CandidateFile, file_id)
    require(file is not None and file.can_view(_user()))
    return file


# ---------------------------------------------------------------- secretariat: calendar


@bp.route("/secretariat/jurys")
@roles_required("secretariat")
def sessions_list():
    return render_template("jury/sessions_list.html", jury_sessions=sessions.list_sessions(),
                           late={s.id for s in sessions.late_sessions()})


def _session_form(jury_session: JurySession | None = None) -> forms.SessionForm:
    form = forms.SessionForm(obj=jury_session)
    form.member_ids.choices = [(u.id, f"{u.full_name} ({u.email})") for u in sessions.jury_users()]
    if jury_session is not None and not form.is_submitted():
        form.member_ids.data = [u.id for u in jury_session.members]
    return form


@bp.route("/secretariat/jurys/nouvelle", methods=["GET", "POST"])
@roles_required("secretariat")
def session_new():
    form = _session_form()
    if form.validate_on_submit():
        try:
            jury_session = sessions.create_session(date=form.date.data, capacity=form.capacity.data,
                                                   location=form.location.data, member_ids=form.member_ids.data,
                                                   actor=_user(),
                                                   confirm_past_deadline=form.confirm_past_deadline.data)
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            flash(f"Session du {jury_session.date.strftime('%d/%m/%Y')} créée : inscriptions jusqu'au "
                  f"{jury_session.registration_deadline.strftime('%d/%m/%Y')}.", "success")
            return redirect(url_for("jury.session_detail", session_id=jury_session.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("jury/session_form.html", form=form, jury_session=None,
                           ask_confirmation=form.is_submitted() and JurySession.deadline_passed_for(form.date.data)
                           ), status


@bp.route("/secretariat/jurys/<int:session_id>/modifier", methods=["GET", "POST"])
@roles_required("secretariat")
def session_edit(session_id: int):
    jury_session = _session_or_404(session_id)
    form = _session_form(jury_session)
    if form.validate_on_submit():
        try:
            sessions.update_session(jury_session, date=form.date.data, capacity=form.capacity.data,
                                    location=form.location.data, member_ids=form.member_ids.data, actor=_user())
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            flash("Session modifiée.", "success")
            return redirect(url_for("jury.session_detail", session_id=jury_session.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("jury/session_form.html", form=form, jury_session=jury_session,
                           ask_confirmation=False), status


@bp.route("/secretariat/jurys/<int:session_id>")
@roles_required("secretariat")
def session_detail(session_id: int):
    jury_session = _session_or_404(session_id)
    page = sessions.overview(jury_session)
    return render_template("jury/session_detail.html", jury_session=jury_session, files=page.files,
                           summary=page.summary, batches=page.batches, printable=page.printable, page=page,
                           publication_refusal=jury_session.publication_refusal(len(page.summary.undecided)),
                           form=forms.EmptyForm(), cancel_form=forms.CancelSessionForm(), late=jury_session.is_late)


@bp.route("/secretariat/jurys/<int:session_id>/annuler", methods=["POST"])
@roles_required("secretariat")
def session_cancel(session_id: int):
    jury_session = _session_or_404(session_id)
    back = url_for("jury.session_detail", session_id=jury_session.id)
    form = forms.CancelSessionForm()
    if not form.validate_on_submit():
        flash("Le formulaire a expiré : recommencez.", "error")
        return redirect(back)
    with refusal_goes_back_to(back):
        counts = sessions.cancel_session(jury_session, _user(), reason=form.reason.data)
    flash(f"Session annulée : {counts['moved']} dossier(s) reporté(s) sur la session suivante, "
          f"{counts['unregistered']} remis en « Validation de l'évaluation » faute de place. "
          "Les entreprises ont été prévenues par email.", "success")
    return redirect(back)


@bp.route("/secretariat/jurys/<int:session_id>/publier", methods=["POST"])
@roles_required("secretariat")
def session_publish(session_id: int):
    jury_session = _session_or_404(session_id)
    back = url_for("jury.session_detail", session_id=jury_session.id)
    if forms.EmptyForm().validate_on_submit():
        with refusal_goes_back_to(back):
            decisions.publish_session(jury_session, _user())
        flash("Résultats publiés : les entreprises voient les décisions et ont reçu un email.", "success")
    return redirect(back)


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


# ---------------------------------------------------------------- parchments (R11)


@bp.route("/dossiers/<int:file_id>/parchemin.pdf")
@roles_required("secretariat", "entreprise")
def parchment_pdf(file_id: int):
    data, filename = parchments.download_parchment(_file_or_404(file_id), _user())
    return pdf.as_response(data, filename)


@bp.route("/secretariat/jurys/<int:session_id>/parchemins.pdf", methods=["POST"])
@roles_required("secretariat")
def session_print(session_id: int):
    """The documents not printed yet; once all are, printing again records nothing (see Réimprimer)."""
    jury_session = _session_or_404(session_id)
    printed = parchments.print_session(jury_session, _user()) if forms.EmptyForm().validate_on_submit() else None
    if printed is None:
        if parchments.printable_files(jury_session):
            flash("Tous les parchemins et attestations de la session sont déjà imprimés : pour les imprimer "
                  "de nouveau, utilisez « Réimprimer ».", "info")
        else:
            flash("Aucun parchemin ni attestation à imprimer pour cette session.", "error")
        return redirect(url_for("jury.session_detail", session_id=jury_session.id))
    return pdf.as_response(*printed)


@bp.route("/secretariat/jurys/<int:session_id>/reimpression.pdf", methods=["POST"])
@roles_required("secretariat")
def session_reprint(session_id: int):
    """Every document of the session again, recorded as a reprint."""
    jury_session = _session_or_404(session_id)
    printed = parchments.reprint_session(jury_session, _user()) if forms.EmptyForm().validate_on_submit() else None
    if printed is None:
        flash("Aucun parchemin ni attestation à réimprimer pour cette session.", "error")
        return redirect(url_for("jury.session_detail", session_id=jury_session.id))
    return pdf.as_response(*printed)


@bp.route("/secretariat/jurys/<int:session_id>/lots/<batch>/envoye", methods=["POST"])
@roles_required("secretariat")
def batch_sent(session_id: int, batch: str):
    jury_session = _session_or_404(session_id)
    back = url_for("jury.session_detail", session_id=jury_session.id)
    if forms.EmptyForm().validate_on_submit():
        with refusal_goes_back_to(back):
            count = parchments.mark_sent(jury_session, batch, _user())
        flash(f"{count} document(s) marqué(s) comme envoyé(s).", "success")
    return redirect(back)


# ---------------------------------------------------------------- company: registration (R7, R8)


@bp.route("/entreprise/dossiers/<int:file_id>/jury", methods=["GET", "POST"])
@roles_required("entreprise", "secretariat")
def register_file(file_id: int):
    file = _file_or_404(file_id)
    form = forms.RegisterForm()
    open_sessions = registration.open_sessions()
    form.jury_session_id.choices = [("", "La prochaine session avec des places")] + [
        (str(s.id), f"{s.date.strftime('%d/%m/%Y')} — {s.location or 'lieu à préciser'} — "
                    f"{s.seats_left} place(s) — inscriptions jusqu'au {s.registration_deadline.strftime('%d/%m/%Y')}")
        for s in open_sessions]
    if form.validate_on_submit():
        requested = None
        try:
            if form.jury_session_id.data:
                requested = sessions.get_session(form.jury_session_id.data)
            placed = registration.register_to_jury(file, _user(), requested)
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            if placed.rolled_over:
                flash(f"La session du {requested.date.strftime('%d/%m/%Y')} est complète ou close : le dossier est "
                      f"inscrit à la session suivante, le {placed.jury_session.date.strftime('%d/%m/%Y')}.", "warning")
            else:
                flash(f"Dossier inscrit au jury du {placed.jury_session.date.strftime('%d/%m/%Y')}.", "success")
            return redirect(url_for("jury.register_file", file_id=file.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("jury/register.html", file=file, form=form, jury_sessions=open_sessions,
                           unregister_form=forms.EmptyForm()), status


@bp.route("/entreprise/dossiers/<int:file_id>/jury/desinscription", methods=["POST"])
@roles_required("entreprise", "secretariat")
def unregister_file(file_id: int):
    file = _file_or_404(file_id)
    back = url_for("jury.register_file", file_id=file.id)
    if forms.EmptyForm().validate_on_submit():
        with refusal_goes_back_to(back):
            registration.unregister_from_jury(file, _user())
        flash("Dossier désinscrit du jury : la place est libérée.", "success")
    return redirect(back)


@bp.route("/entreprise/jurys")
@roles_required("entreprise")
def company_sessions():
    return render_template("jury/company_sessions.html", jury_sessions=sessions.list_sessions(include_cancelled=False))


# ---------------------------------------------------------------- jury members


def _examined_session_or_404(session_id: int) -> JurySession:
    jury_session = _session_or_404(session_id)
    require(jury_session.can_view(_user()))
    return jury_session


@bp.route("/jury/sessions")
@roles_required("jury")
def member_sessions():
    return render_template("jury/member_sessions.html", jury_sessions=sessions.sessions_of_member(_user()))


@bp.route("/jury/sessions/<int:session_id>")
@roles_required("jury", "secretariat")
def member_session(session_id: int):
    jury_session = _examined_session_or_404(session_id)
    return render_template("jury/member_session.html", jury_session=jury_session,
                           files=sessions.files_to_examine(jury_session))


@bp.route("/jury/sessions/<int:session_id>/livret.pdf")
@roles_required("jury", "secretariat")
def member_booklet(session_id: int):
    jury_session = _examined_session_or_404(session_id)
    return pdf.as_response(pdf.booklet_pdf(jury_session, sessions.files_to_examine(jury_session)),
                           f"livret-jury-{jury_session.date.isoformat()}.pdf")


# ---------------------------------------------------------------- public verification


# /verifier is the address; /verify (printed in the QR codes of earlier documents) redirects to it
# permanently. The rules share one endpoint and url_for builds the first registered one: decorators
# register bottom up, so /verifier is the last written.
@bp.route("/verify", defaults={"number": None})
@bp.route("/verify/<number>")
@bp.route("/verifier", defaults={"number": None})
@bp.route("/verifier/<number>")
@public
@limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"])
def verify(number: str | None):
    if request.path == "/verify" or request.path.startswith("/verify/"):
        if number is None and "numero" not in request.args:
            return redirect(url_for("jury.verify"), 308)
        typed = number if number is not None else request.args["numero"]
        number = parchments.normalize_number(typed)
        return redirect(url_for("jury.verify", number=number) if number else url_for("jury.verify", numero=""), 308)
    form = forms.VerifyForm(request.args)
    if number is None:
        if "numero" not in request.args:
            return render_template("jury/verify.html", form=forms.VerifyForm(), number=None, result=None)
        if not form.validate():
            return render_template("jury/verify.html", form=form, number=None, result=None), 422
        return redirect(url_for("jury.verify", number=parchments.normalize_number(form.numero.data)))
    number = parchments.normalize_number(number)
    form.numero.data = number
    result = parchments.verify_number(number) if number else None
    return render_template("jury/verify.html", form=form, number=number, result=result), 200 if result else 404
