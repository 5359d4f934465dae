"""The secretariat's page « Données personnelles » of a candidate (RGPD): who read or changed their data, the
export of everything held on them, and the erasure (with a reason and a confirmation)."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, url_for
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.core.errors import DomainError
from app.core.forms import BaseForm
from app.core.permissions import require, roles_required
from app.extensions import db
from app.files.models import Candidate
from app.jury import privacy
from app.jury.web import _user, bp


class EraseForm(BaseForm):
    reason = TextAreaField("Motif de l'effacement", validators=[
        DataRequired(message="Le motif de l'effacement est obligatoire."), Length(max=2000)])
    confirm = BooleanField("Je confirme l'effacement : il est définitif", validators=[
        DataRequired(message="Cochez la confirmation : l'effacement est définitif.")])


def _candidate_or_404(candidate_id: int) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    require(candidate is not None)
    return candidate


def _page(candidate: Candidate, form: EraseForm, status: int = 200):
    entries = privacy.audit_entries(candidate.id)
    actors = privacy.actor_emails(entries)
    return render_template("jury/personal_data.html", candidate=candidate, form=form,
                           entries=[{**privacy.audit_answer(e, actors), "at": e.at} for e in entries]), status


@bp.route("/secretariat/candidats/<int:candidate_id>/donnees-personnelles", methods=["GET", "POST"])
@roles_required("secretariat")
def candidate_personal_data(candidate_id: int):
    candidate = _candidate_or_404(candidate_id)
    form = EraseForm()
    if not form.is_submitted():
        return _page(candidate, form)
    if not form.validate():
        return _page(candidate, form, 422)
    try:
        erased = privacy.erase_candidate(candidate, _user(), form.reason.data)
    except DomainError as error:
        form.reason.errors = [*form.reason.errors, error.message]
        return _page(candidate, form, error.status_code)
    kept = erased["kept"]
    message = "Les données personnelles sont effacées"
    if erased["withdrawn_files"]:
        message += f" ; {len(erased['withdrawn_files'])} dossier(s) ouvert(s) abandonné(s)"
    if erased["documents_deleted"]:
        message += f" ; {erased['documents_deleted']} pièce(s) supprimée(s)"
    if kept:
        message += (". Conservé pour le registre de certification : " + ", ".join(
            f"le document n° {k['parchment_number']}" for k in kept) + " (identité figée du titulaire, numéro, CQP, "
            "date du jury).")
    else:
        message += "."
    flash(message, "success")
    return redirect(url_for("jury.candidate_personal_data", candidate_id=candidate.id))


@bp.route("/secretariat/candidats/<int:candidate_id>/donnees-personnelles/export.json")
@roles_required("secretariat")
def candidate_export(candidate_id: int):
    data = privacy.export_candidate(_candidate_or_404(candidate_id), _user())
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f"attachment; filename=donnees-candidat-{candidate_id}.json"
    response.headers["Cache-Control"] = "private, no-store"
    return response
