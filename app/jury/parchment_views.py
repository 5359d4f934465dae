"""Parchments and attestations (R11): download, printing a session, reprint, batches sent; the public verification
page. Routes of the jury blueprint (app.jury.web)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length

from app.core import audit
from app.core.errors import DomainError, refusal_goes_back_to
from app.core.forms import BaseForm
from app.core.permissions import public, roles_required
from app.extensions import limiter
from app.jury import forms, parchments, pdf, signature
from app.jury.web import _file_or_404, _session_or_404, _user, bp

# ---------------------------------------------------------------- parchments (R11)


@bp.route("/dossiers/<int:file_id>/parchemin.pdf")
@roles_required("secretariat", "entreprise")
def parchment_pdf(file_id: int):
    file = _file_or_404(file_id)
    data, filename = parchments.download_parchment(file, _user())
    audit.record_read("parchemin", file.candidate_id)
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


# ---------------------------------------------------------------- the president's signature


class SignatureForm(BaseForm):
    signatory = StringField("Nom du signataire (président du jury)", validators=[Length(max=signature.MAX_NAME)])
    file = FileField("Image de la signature (PNG ou JPEG, fond blanc ou transparent)")


@bp.route("/secretariat/signature", methods=["GET", "POST"])
@roles_required("secretariat")
def signature_settings():
    """The signature printed on every parchment and attestation, above the president's name."""
    current = signature.current_signature()
    form = SignatureForm(data={"signatory": current.signatory} if current else None)
    status = 200
    if request.method == "POST" and request.form.get("action") == "remove":
        if forms.EmptyForm().validate_on_submit():
            with refusal_goes_back_to(url_for("jury.signature_settings")):
                signature.remove_signature(actor=_user())
            flash("La signature est retirée : les documents portent une ligne pour signer à la main.", "success")
        return redirect(url_for("jury.signature_settings"))
    if form.validate_on_submit():
        try:
            signature.save_signature(request.files.get("file"), form.signatory.data, actor=_user())
        except DomainError as error:
            form.add_domain_errors(error)
            status = error.status_code
        else:
            flash("La signature est enregistrée : elle figure désormais sur les parchemins et attestations.",
                  "success")
            return redirect(url_for("jury.signature_settings"))
    elif form.is_submitted():
        status = 422
    return render_template("jury/signature.html", form=form, current=signature.current_signature(),
                           remove_form=forms.EmptyForm()), status


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
