"""Jury calendar, registration, decisions, publication, parchments, public verification.

Each view loads what it shows, checks access with the models' methods, calls one service and
answers. Refusals of a posted action flash and go back (`refusal_goes_back_to`); the request
commits once, or rolls back, in the app's hooks."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from app.core import audit
from app.core.errors import DomainError, refusal_goes_back_to
from app.core.permissions import require, roles_required
from app.core.templating import pluriel
from app.jury import decisions, forms, pdf, registration, sessions
from app.jury.models import JurySession
from app.jury.session_page import session_page
from app.jury.web import _file_or_404, _session_or_404, _user, bp

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
    page = session_page(jury_session)
    return render_template("jury/session_detail.html", jury_session=jury_session, files=page.files,
                           summary=page.summary, batches=page.batches, page=page,
                           publication_refusal=jury_session.publication_refusal(page.summary.undecided),
                           form=forms.EmptyForm(), cancel_form=forms.CancelSessionForm(), late=jury_session.is_late,
                           # one url_for for the whole list: each row's address is the pattern with its id
                           file_url=_url_pattern("files.file_show"), decision_url=_url_pattern("jury.file_decision"))


def _url_pattern(endpoint: str) -> str:
    """The address of `endpoint` for a file, with `{}` in place of its id (str.format it)."""
    marker = 2**31 - 1
    return url_for(endpoint, file_id=marker).replace(str(marker), "{}")


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
    flash(f"Session annulée : {pluriel(counts['moved'], 'dossier reporté', 'dossiers reportés')} sur la session "
          f"suivante, {pluriel(counts['unregistered'], 'dossier remis', 'dossiers remis')} en « Validation de "
          "l'évaluation » faute de place. "
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


# ---------------------------------------------------------------- company: registration (R7, R8)


@bp.route("/entreprise/dossiers/<int:file_id>/jury", methods=["GET", "POST"])
@roles_required("entreprise", "secretariat")
def register_file(file_id: int):
    file = _file_or_404(file_id)
    form = forms.RegisterForm()
    open_sessions = registration.open_sessions()
    form.jury_session_id.choices = _session_choices(open_sessions)
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


def _session_choices(open_sessions) -> list[tuple[str, str]]:
    return [("", "La prochaine session avec des places")] + [
        (str(s.id), f"{s.date.strftime('%d/%m/%Y')} — {s.location or 'lieu à préciser'} — "
                    f"{pluriel(s.seats_left, 'place')} — inscriptions jusqu'au {s.registration_deadline.strftime('%d/%m/%Y')}")
        for s in open_sessions]


@bp.route("/entreprise/dossiers/inscription-jury", methods=["POST"])
@roles_required("entreprise", "secretariat")
def register_files():
    """Several files of the list registered at once: a first post (from the list's checkboxes) shows them
    with the session to ask for; the confirmed post registers each (R7–R8) and says who went where."""
    form = forms.BulkRegisterForm()
    open_sessions = registration.open_sessions()
    form.jury_session_id.choices = _session_choices(open_sessions)
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors)
              or "Le formulaire a expiré : recommencez.", "error")
        return redirect(url_for("files.file_list"))
    files = registration.files_to_register(_user(), form.file_ids.data or [])
    if not files:
        flash("Dossiers à inscrire : cochez au moins un dossier au statut « Validation de l'évaluation ».", "error")
        return redirect(url_for("files.file_list"))
    placements, status = None, 200
    if form.confirm.data:
        try:
            requested = sessions.get_session(form.jury_session_id.data) if form.jury_session_id.data else None
        except DomainError as err:
            form.add_domain_errors(err)
            status = 422
        else:
            placements = registration.register_many(files, _user(), requested)
            status = 200 if any(p.error is None for p in placements) else 422
    return render_template("jury/register_many.html", form=form, files=files, placements=placements,
                           jury_sessions=open_sessions), status


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
    files = sessions.files_to_examine(jury_session)
    audit.record_read("dossiers de la session de jury", *(f.candidate_id for f in files))
    return render_template("jury/member_session.html", jury_session=jury_session, files=files)


@bp.route("/jury/sessions/<int:session_id>/livret.pdf")
@roles_required("jury", "secretariat")
def member_booklet(session_id: int):
    jury_session = _examined_session_or_404(session_id)
    files = sessions.files_to_examine(jury_session)
    audit.record_read("livret du jury", *(f.candidate_id for f in files))
    return pdf.as_response(pdf.booklet_pdf(jury_session, files), f"livret-jury-{jury_session.date.isoformat()}.pdf")
