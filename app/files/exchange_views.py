"""The file page's exchanges: correction requests (asked by the secretariat or the file's assessor, answered by
the company), the thread, and the « relancer » of a stalled file. Each view: load the file the user may see
(404 otherwise) → call one service → back to the file page; a refusal re-renders the page with the form and
the service's status (the app rolls a 4xx back)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from flask import flash, g, redirect, request, url_for
from flask_login import current_user

from app.core.errors import DomainError, refusal_goes_back_to
from app.core.permissions import roles_required
from app.core.uploads import serve_document
from app.files import access, exchange_forms, exchanges, stalled
from app.files.exchange_models import CORRECTABLE_FIELDS, CorrectionRequest, FileMessage
from app.files.models import CandidateFile
from app.files.views import _render_file
from app.files.web import FILE_READERS, _fail, _me, bp


@dataclass
class FileExchanges:
    """What the file page's exchange blocks show to the viewer (one call per page)."""

    file: CandidateFile
    open_request: CorrectionRequest | None
    requests: list[CorrectionRequest]
    messages: list[FileMessage] | None  # None: the viewer does not take part in the thread
    can_request: bool
    can_resolve: bool
    offer_abandon_or_relaunch: bool
    stalled_days: int

    @cached_property
    def idle_days(self) -> int:
        """Read only by the « abandonner / relancer » banner: one statement, and only when it shows."""
        return stalled.idle_days(self.file)

    @property
    def past_requests(self) -> list[CorrectionRequest]:
        return [r for r in self.requests if not r.is_open]


@bp.app_template_global()
def file_exchanges(file: CandidateFile) -> FileExchanges:
    """Read once per request and file (the page's two exchange blocks share it)."""
    cache = g.setdefault("file_exchanges", {})
    if file.id not in cache:
        me = current_user._get_current_object()
        party = exchanges.takes_part(file, me)
        requests = exchanges.correction_requests(file) if party else []
        cache[file.id] = FileExchanges(
            file=file, requests=requests,
            open_request=next((r for r in requests if r.is_open), None) if party else file.open_correction_request,
            messages=exchanges.messages_of(file, me) if party else None,
            can_request=exchanges.can_request_correction(file, me),
            can_resolve=exchanges.can_resolve_correction(file, me),
            stalled_days=stalled.stalled_file_days(),
            offer_abandon_or_relaunch=stalled.offers_abandon_or_relaunch(file, me))
    return cache[file.id]


@bp.app_context_processor
def _exchange_forms():
    return {"CORRECTABLE_FIELDS": CORRECTABLE_FIELDS, "CorrectionRequestForm": exchange_forms.CorrectionRequestForm,
            "CorrectionAnswerForm": exchange_forms.CorrectionAnswerForm, "MessageForm": exchange_forms.MessageForm}


def _back(file: CandidateFile, anchor: str):
    return redirect(url_for("files.file_show", file_id=file.id) + anchor, 303)


@bp.route("/dossiers/<int:file_id>/corrections", methods=["POST"])
@roles_required("secretariat", "evaluateur")
def correction_request(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = exchange_forms.CorrectionRequestForm()
    if not form.validate_on_submit():
        return _render_file(file, 422, correction_form=form)
    try:
        exchanges.request_correction(file, _me(), message=form.message.data, fields=form.fields.data)
    except DomainError as error:
        return _render_file(file, _fail(form, error), correction_form=form)
    flash("La demande de correction est envoyée à l'entreprise : le dossier attend sa réponse.", "success")
    return _back(file, "#correction")


@bp.route("/dossiers/<int:file_id>/corrections/<int:request_id>/reponse", methods=["POST"])
@roles_required("entreprise")
def correction_answer(file_id: int, request_id: int):
    file = access.get_file_for(_me(), file_id)
    form = exchange_forms.CorrectionAnswerForm()
    if not form.validate_on_submit():
        return _render_file(file, 422, answer_form=form)
    try:
        exchanges.resolve_correction(file, _me(), request_id, message=form.message.data)
    except DomainError as error:
        return _render_file(file, _fail(form, error), answer_form=form)
    flash("Votre réponse est envoyée : le dossier peut de nouveau avancer.", "success")
    return _back(file, "#correction")


@bp.route("/dossiers/<int:file_id>/messages", methods=["POST"])
@roles_required(*FILE_READERS)
def file_message(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = exchange_forms.MessageForm()
    if not form.validate_on_submit():
        return _render_file(file, 422, message_form=form)
    try:
        exchanges.post_message(file, _me(), body=form.body.data, upload=request.files.get("attachment"))
    except DomainError as error:
        return _render_file(file, _fail(form, error), message_form=form)
    flash("Votre message est envoyé ; les autres participants sont prévenus par email.", "success")
    return _back(file, "#echanges")


@bp.route("/dossiers/<int:file_id>/messages/<int:message_id>/piece-jointe")
@roles_required(*FILE_READERS)
def message_attachment(file_id: int, message_id: int):
    message = exchanges.get_message(access.get_file_for(_me(), file_id), _me(), message_id)
    if message.attachment is None:
        return _back(message.file, "#echanges")
    return serve_document(message.attachment)


@bp.route("/dossiers/<int:file_id>/relancer", methods=["POST"])
@roles_required("entreprise")
def relaunch(file_id: int):
    file = access.get_file_for(_me(), file_id)
    form = exchange_forms.CorrectionAnswerForm()  # only its CSRF token is read
    if not form.validate_on_submit():
        return _render_file(file, 422)
    with refusal_goes_back_to(url_for("files.file_show", file_id=file.id)):
        waiting = stalled.relaunch(file, _me())
    if waiting is not None and waiting.who != stalled.COMPANY:
        flash(f"Le dossier est relancé : {waiting.label} est prévenu par email.", "success")
    else:
        flash("Le dossier est relancé." + (f" À vous : {waiting.action}." if waiting else ""), "success")
    return _back(file, "")
