"""The secretariat's attendance sheet of a session (R14): each jury member's college, presence and the
president. The minutes (procès-verbal) PDF, for the secretariat and the session's members."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.core.errors import DomainError, refusal_goes_back_to
from app.core.permissions import require, roles_required
from app.jury import attendance, forms, minutes, pdf, sessions
from app.jury.models import COLLEGES
from app.jury.web import _session_or_404, _user, bp


def _sheet(jury_session, posted: dict | None = None) -> list[dict]:
    """One row per active jury user (the session's members first, by college): what the form shows."""
    recorded = {m.user_id: m for m in jury_session.memberships}
    rows = []
    for user in sessions.jury_users():
        membership = recorded.get(user.id)
        if posted is not None:
            college, present, president = posted.get(user.id, (None, False, False))
        elif membership is not None:
            college, present, president = membership.college, membership.present, membership.president
        else:
            college, present, president = None, False, False
        rows.append({"user": user, "college": college, "present": present, "president": president,
                     "member": membership is not None})
    order = {**{c: i for i, c in enumerate(COLLEGES)}, None: len(COLLEGES)}
    rows.sort(key=lambda r: (not r["member"] and r["college"] is None, order.get(r["college"], len(COLLEGES))))
    return rows


def _posted() -> dict[int, tuple[str | None, bool, bool]]:
    president = request.form.get("president", "")
    posted = {}
    for key, college in request.form.items():
        if not key.startswith("college-") or not key[8:].isdigit():
            continue
        user_id = int(key[8:])
        posted[user_id] = (college or None, request.form.get(f"present-{user_id}") == "1", president == str(user_id))
    return posted


@bp.route("/secretariat/jurys/<int:session_id>/presence", methods=["GET", "POST"])
@roles_required("secretariat")
def session_attendance(session_id: int):
    jury_session = _session_or_404(session_id)
    form = forms.EmptyForm()
    posted = None
    if form.validate_on_submit():
        posted = _posted()
        users = {row["user"].id: row["user"] for row in _sheet(jury_session)}
        lines = [attendance.Attendee(users[uid].email, college, present, president)
                 for uid, (college, present, president) in posted.items()
                 if uid in users and (college or present or president)]
        try:
            attendance.record_attendance(jury_session, lines, _user())
        except DomainError as err:
            form.form_errors.extend(err.errors.get("members") or [err.message])
        else:
            flash("Feuille de présence enregistrée.", "success")
            return redirect(url_for("jury.session_detail", session_id=jury_session.id))
    status = 422 if form.form_errors or form.errors else 200
    return render_template("jury/attendance.html", jury_session=jury_session, form=form, colleges=COLLEGES,
                           rows=_sheet(jury_session, posted), editable=jury_session.cancelled_at is None
                           and jury_session.published_at is None), status


@bp.route("/jury/sessions/<int:session_id>/proces-verbal.pdf")
@roles_required("jury", "secretariat")
def session_minutes(session_id: int):
    jury_session = _session_or_404(session_id)
    require(jury_session.can_view(_user()))
    back = url_for("jury.session_detail" if _user().is_secretariat else "jury.member_session", session_id=session_id)
    with refusal_goes_back_to(back):
        data = minutes.minutes_pdf(jury_session)
    return pdf.as_response(data, minutes.minutes_filename(jury_session))
