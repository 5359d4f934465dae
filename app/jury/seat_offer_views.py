"""« Prendre la place » on the file page: a file rolled over from a session where a seat was freed moves there
(app.jury.seat_moves). Load → one service → back to the file page (a refusal goes back with its message)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user

from app.core.errors import refusal_goes_back_to
from app.core.forms import BaseForm
from app.core.permissions import roles_required
from app.files import access
from app.jury import seat_moves, seat_offers
from app.jury.web import bp


@bp.app_template_global()
def freed_seat_offer(file):
    """The session where a seat waits for this rolled-over file, for the file page's banner (None otherwise)."""
    return seat_offers.offered_session(file) if file.can_unregister(current_user) else None


@bp.route("/entreprise/dossiers/<int:file_id>/prendre-la-place", methods=["POST"])
@roles_required("entreprise", "secretariat")
def take_freed_seat(file_id: int):
    file = access.get_file_for(current_user, file_id)
    back = url_for("files.file_show", file_id=file.id)
    if not BaseForm().validate_on_submit():
        flash("Le formulaire a expiré : rechargez la page et recommencez.", "error")
        return redirect(back, 303)
    with refusal_goes_back_to(back):
        jury_session = seat_moves.take_freed_seat(file, current_user._get_current_object())
    flash(f"Le dossier est inscrit à la session du {jury_session.date.strftime('%d/%m/%Y')} qu'il avait demandée.",
          "success")
    return redirect(back, 303)
