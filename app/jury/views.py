"""Jury calendar, registration, decisions, publication, parchments, public verification."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.routing import BuildError

from app.core.errors import DomainError, NotFound
from app.core.permissions import public, require, roles_required
from app.extensions import db, limiter
from app.files.models import CandidateFile, FileStatus
from app.jury import forms, pdf, services
from app.jury.models import JurySession

bp = Blueprint("jury", __name__)

FILE_PAGE_ENDPOINTS = ("files.file_show", "files.file_detail", "files.show_file", "files.file_page", "files.detail", "files.file")


@bp.app_template_global("file_page_url")
def file_page_url(file: CandidateFile) -> str | None:
    """The file's page (files area) when it exists: the jury pages link back to it."""
    for endpoint in FILE_PAGE_ENDPOINTS:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, file_id=file.id)
            except BuildError:
                continue
    return None


DOCUMENT_ENDPOINTS = ("files.file_document", "files.document_download", "files.download_document", "files.document")


@bp.app_template_global("document_url")
def document_url(file: CandidateFile, document) -> str | None:
    for endpoint in DOCUMENT_ENDPOINTS:
        if endpoint in current_app.view_functions:
            for kwargs in ({"file_id": file.id, "doc_id": document.id}, {"file_id": file.id, "document_id": document.id},
                           {"document_id": document.id}):
                try:
                    return url_for(endpoint, **kwargs)
                except BuildError:
                    continue
    return None


@bp.app_context_processor
def jury_helpers():
    return {"session_state": services.session_state, "session_state_label": services.session_state_label,
            "SESSION_STATES": services.SESSION_STATES}


def _user():
    return current_user._get_current_object()


def _session_or_404(session_id: int) -> JurySession:
    session = db.session.get(JurySession, session_id)
    require(session is not None)
    return session


def _file_or_404(file_id: int) -> CandidateFile:
    file = db.session.get(CandidateFile, file_id)
    require(file is not None)
    return file


def _company_file_or_404(file_id: int) -> CandidateFile:
    """A company sees only its establishment's files (another tenant's file does not exist)."""
    from app.files.access import get_file_for

    try:
        return get_file_for(_user(), file_id)
    except NotFound:
        abort(404)


def _pdf_response(data: bytes, filename: str):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# ---------------------------------------------------------------- secretariat: calendar


@bp.route("/secretariat/jurys")
@roles_required("secretariat")
def sessions_list():
    return render_template("jury/sessions_list.html", sessions=services.list_sessions(),
                           late={s.id for s in services.late_sessions()})


def _session_form(session: JurySession | None = None) -> forms.SessionForm:
    form = forms.SessionForm(obj=session)
    form.member_ids.choices = [(u.id, f"{u.full_name} ({u.email})") for u in services.jury_users()]
    if session is not None and not form.is_submitted():
        form.member_ids.data = [u.id for u in session.members]
    return form


@bp.route("/secretariat/jurys/nouvelle", methods=["GET", "POST"])
@roles_required("secretariat")
def session_new():
    form = _session_form()
    if form.validate_on_submit():
        try:
            session = services.create_session(date=form.date.data, capacity=form.capacity.data,
                                              location=form.location.data, member_ids=form.member_ids.data,
                                              actor=_user())
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            flash(f"Session du {session.date.strftime('%d/%m/%Y')} créée : inscriptions jusqu'au "
                  f"{session.registration_deadline.strftime('%d/%m/%Y')}.", "success")
            return redirect(url_for("jury.session_detail", session_id=session.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("jury/session_form.html", form=form, session=None), status


@bp.route("/secretariat/jurys/<int:session_id>/modifier", methods=["GET", "POST"])
@roles_required("secretariat")
def session_edit(session_id: int):
    session = _session_or_404(session_id)
    form = _session_form(session)
    if form.validate_on_submit():
        try:
            services.update_session(session, date=form.date.data, capacity=form.capacity.data,
                                    location=form.location.data, member_ids=form.member_ids.data, actor=_user())
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            flash("Session modifiée.", "success")
            return redirect(url_for("jury.session_detail", session_id=session.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("jury/session_form.html", form=form, session=session), status


@bp.route("/secretariat/jurys/<int:session_id>")
@roles_required("secretariat")
def session_detail(session_id: int):
    session = _session_or_404(session_id)
    return render_template("jury/session_detail.html", session=session, files=services.files_of_session(session),
                           summary=services.decision_summary(session), batches=services.print_batches(session),
                           printable=services.printable_files(session), form=forms.EmptyForm(),
                           cancel_form=forms.CancelSessionForm(),
                           late=session in services.late_sessions())


@bp.route("/secretariat/jurys/<int:session_id>/annuler", methods=["POST"])
@roles_required("secretariat")
def session_cancel(session_id: int):
    session = _session_or_404(session_id)
    form = forms.CancelSessionForm()
    if not form.validate_on_submit():
        flash("Le formulaire a expiré : recommencez.", "error")
        return redirect(url_for("jury.session_detail", session_id=session.id))
    try:
        counts = services.cancel_session(session, _user(), reason=form.reason.data)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("jury.session_detail", session_id=session.id)), 303
    flash(f"Session annulée : {counts['moved']} dossier(s) reporté(s) sur la session suivante, "
          f"{counts['unregistered']} remis en « Validation de l'évaluation » faute de place. "
          "Les entreprises ont été prévenues par email.", "success")
    return redirect(url_for("jury.session_detail", session_id=session.id))


@bp.route("/secretariat/jurys/<int:session_id>/publier", methods=["POST"])
@roles_required("secretariat")
def session_publish(session_id: int):
    session = _session_or_404(session_id)
    form = forms.EmptyForm()
    if form.validate_on_submit():
        try:
            services.publish_session(session, _user())
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for("jury.session_detail", session_id=session.id)), 303
        flash("Résultats publiés : les entreprises voient les décisions et ont reçu un email.", "success")
    return redirect(url_for("jury.session_detail", session_id=session.id))


# ---------------------------------------------------------------- secretariat: decisions (R9)


@bp.route("/secretariat/jurys/<int:session_id>/decisions")
@roles_required("secretariat")
def session_decisions(session_id: int):
    session = _session_or_404(session_id)
    return _render_decisions(session, {})


def _render_decisions(session: JurySession, row_forms: dict, status: int = 200):
    files = [f for f in services.files_of_session(session) if f.status != FileStatus.ABANDONNE.value]
    rows = []
    for file in files:
        form = row_forms.get(file.id) or forms.decision_form_for(file, file.decision, prefix=f"f{file.id}")
        rows.append({"file": file, "form": form, "decision": file.decision})
    return render_template("jury/session_decisions.html", session=session, rows=rows,
                           summary=services.decision_summary(session),
                           may_decide=services.today() >= session.date), status


@bp.route("/secretariat/jurys/<int:session_id>/decisions/<int:file_id>", methods=["POST"])
@roles_required("secretariat")
def session_decision_row(session_id: int, file_id: int):
    session = _session_or_404(session_id)
    file = _file_or_404(file_id)
    require(file.jury_session_id == session.id)
    form = forms.decision_form_for(file, file.decision, formdata=request.form, prefix=f"f{file.id}")
    if form.validate_on_submit():
        results = {c.id: bool(f.data) for c, f in form.competence_fields}
        try:
            services.record_decision(file, _user(), results, comment=form.comment.data, reason=form.reason.data)
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            flash(f"Décision enregistrée pour {file.candidate.full_name} : {file.status_label}.", "success")
            return redirect(url_for("jury.session_decisions", session_id=session.id) + f"#dossier-{file.id}")
    return _render_decisions(session, {file.id: form}, 422)


@bp.route("/secretariat/dossiers/<int:file_id>/decision", methods=["GET", "POST"])
@roles_required("secretariat")
def file_decision(file_id: int):
    file = _file_or_404(file_id)
    session = db.session.get(JurySession, file.jury_session_id) if file.jury_session_id else None
    decision = file.decision
    form = forms.decision_form_for(file, decision)
    if form.validate_on_submit():
        results = {c.id: bool(f.data) for c, f in form.competence_fields}
        try:
            services.record_decision(file, _user(), results, comment=form.comment.data, reason=form.reason.data)
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            flash(f"Décision enregistrée : {file.status_label}.", "success")
            return redirect(url_for("jury.file_decision", file_id=file.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("jury/file_decision.html", file=file, session=session, form=form, decision=decision,
                           parchment=file.parchment,
                           published=bool(session and session.published_at)), status


# ---------------------------------------------------------------- parchments (R11)


@bp.route("/dossiers/<int:file_id>/parchemin.pdf")
@roles_required("secretariat", "entreprise")
def parchment_pdf(file_id: int):
    file = _company_file_or_404(file_id)
    try:
        parchment = services.parchment_for_download(file, _user())
    except DomainError as err:
        return render_template("errors/error.html", code=err.status_code, message=err.message), err.status_code
    if _user().role == "secretariat":
        services.record_prints([parchment], _user(), db.session.get(JurySession, file.jury_session_id))
    return _pdf_response(pdf.parchment_pdf(parchment), f"{parchment.kind}-{parchment.number}.pdf")


@bp.route("/secretariat/jurys/<int:session_id>/parchemins.pdf", methods=["POST"])
@roles_required("secretariat")
def session_print(session_id: int):
    session = _session_or_404(session_id)
    form = forms.EmptyForm()
    files = services.printable_files(session)
    if not form.validate_on_submit() or not files:
        flash("Aucun parchemin ni attestation à imprimer pour cette session.", "error")
        return redirect(url_for("jury.session_detail", session_id=session.id))
    parchments = [f.parchment for f in files]
    services.record_prints(parchments, _user(), session)
    return _pdf_response(pdf.parchments_batch_pdf(parchments), f"parchemins-jury-{session.date.isoformat()}.pdf")


@bp.route("/secretariat/jurys/<int:session_id>/lots/<batch>/envoye", methods=["POST"])
@roles_required("secretariat")
def batch_sent(session_id: int, batch: str):
    session = _session_or_404(session_id)
    if forms.EmptyForm().validate_on_submit():
        try:
            count = services.mark_sent(session, batch, _user())
        except DomainError as err:
            flash(err.message, "error")
        else:
            flash(f"{count} document(s) marqué(s) comme envoyé(s).", "success")
    return redirect(url_for("jury.session_detail", session_id=session.id))


# ---------------------------------------------------------------- company: registration (R7, R8)


@bp.route("/entreprise/dossiers/<int:file_id>/jury", methods=["GET", "POST"])
@roles_required("entreprise", "secretariat")
def register_file(file_id: int):
    file = _company_file_or_404(file_id)
    form = forms.RegisterForm()
    sessions = services.open_sessions()
    form.jury_session_id.choices = [("", "La prochaine session avec des places")] + [
        (str(s.id), f"{s.date.strftime('%d/%m/%Y')} — {s.location or 'lieu à préciser'} — "
                    f"{s.seats_left} place(s) — inscriptions jusqu'au {s.registration_deadline.strftime('%d/%m/%Y')}")
        for s in sessions]
    if form.validate_on_submit():
        requested = None
        try:
            if form.jury_session_id.data:
                requested = services.get_session(form.jury_session_id.data)
            registration = services.register_to_jury(file, _user(), requested)
        except DomainError as err:
            form.add_domain_errors(err)
        else:
            session = registration.session
            if registration.rolled_over:
                flash(f"La session du {requested.date.strftime('%d/%m/%Y')} est complète ou close : le dossier est "
                      f"inscrit à la session suivante, le {session.date.strftime('%d/%m/%Y')}.", "warning")
            else:
                flash(f"Dossier inscrit au jury du {session.date.strftime('%d/%m/%Y')}.", "success")
            return redirect(url_for("jury.register_file", file_id=file.id))
    status = 422 if form.errors or form.form_errors else 200
    current = db.session.get(JurySession, file.jury_session_id) if file.jury_session_id else None
    return render_template("jury/register.html", file=file, form=form, sessions=sessions, current=current,
                           unregister_form=forms.EmptyForm()), status


@bp.route("/entreprise/dossiers/<int:file_id>/jury/desinscription", methods=["POST"])
@roles_required("entreprise", "secretariat")
def unregister_file(file_id: int):
    file = _company_file_or_404(file_id)
    if forms.EmptyForm().validate_on_submit():
        try:
            services.unregister_from_jury(file, _user())
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for("jury.register_file", file_id=file.id)), 303
        flash("Dossier désinscrit du jury : la place est libérée.", "success")
    return redirect(url_for("jury.register_file", file_id=file.id))


@bp.route("/entreprise/jurys")
@roles_required("entreprise")
def company_sessions():
    return render_template("jury/company_sessions.html", sessions=services.list_sessions(include_cancelled=False))


# ---------------------------------------------------------------- jury members


def _member_session_or_404(session_id: int) -> JurySession:
    session = _session_or_404(session_id)
    user = _user()
    require(user.role == "secretariat" or (session.cancelled_at is None and user in session.members))
    return session


@bp.route("/jury/sessions")
@roles_required("jury")
def member_sessions():
    return render_template("jury/member_sessions.html", sessions=services.sessions_of_member(_user()))


@bp.route("/jury/sessions/<int:session_id>")
@roles_required("jury", "secretariat")
def member_session(session_id: int):
    session = _member_session_or_404(session_id)
    files = [f for f in services.files_of_session(session) if f.status != FileStatus.ABANDONNE.value]
    return render_template("jury/member_session.html", session=session, files=files)


@bp.route("/jury/sessions/<int:session_id>/livret.pdf")
@roles_required("jury", "secretariat")
def member_booklet(session_id: int):
    session = _member_session_or_404(session_id)
    files = [f for f in services.files_of_session(session) if f.status != FileStatus.ABANDONNE.value]
    return _pdf_response(pdf.booklet_pdf(session, files), f"livret-jury-{session.date.isoformat()}.pdf")


# ---------------------------------------------------------------- public verification


@bp.route("/verify", defaults={"number": None})
@bp.route("/verify/<number>")
@public
@limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"])
def verify(number: str | None):
    form = forms.VerifyForm(request.args)
    if number is None and request.args.get("numero"):
        return redirect(url_for("jury.verify", number=services.normalize_number(request.args["numero"])))
    result = services.verify_number(number) if number else None
    status = 404 if number and result is None else 200
    return render_template("jury/verify.html", form=form, number=number, result=result), status
