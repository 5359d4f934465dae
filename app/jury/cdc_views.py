"""The secretariat's page « Registre CPF » (R16): holders to send with their deadline and status, identities to
complete, the fluxes built and their reports. Routes of the jury blueprint (app.jury.web)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from app.core.errors import DomainError, NotFound
from app.core.permissions import require, roles_required
from app.core.templating import pluriel
from app.jury import cdc
from app.jury.web import _user, bp


class ExportForm(FlaskForm):
    """The « Construire le flux » button (CSRF only)."""


class ReportForm(FlaskForm):
    file = FileField("Rapport de traitement de la Caisse des Dépôts (XML)")


def _page(status: int = 200, error: str | None = None, report_errors: dict | None = None):
    data = cdc.load_entries_for_page()
    return render_template("cpf/register.html", **data, export_form=ExportForm(), report_form=ReportForm(),
                           error=error, report_errors=report_errors or {}, labels=cdc.STATUS_LABELS,
                           describe_missing=cdc.describe_missing), status


@bp.route("/secretariat/registre-cpf")
@roles_required("secretariat")
def cpf_register():
    return _page()


@bp.route("/secretariat/registre-cpf/flux", methods=["POST"])
@roles_required("secretariat")
def cpf_export():
    form = ExportForm()
    if not form.validate_on_submit():
        return _page(400, "La demande a expiré : rechargez la page et recommencez.")
    try:
        export, incomplete = cdc.create_export(_user())
    except DomainError as err:
        return _page(err.status_code, err.message)
    message = f"Flux construit : {pluriel(export.passages_count, 'titulaire')} à déposer auprès de la Caisse des Dépôts."
    if incomplete:
        message += f" {pluriel(len(incomplete), 'identité')} à compléter ne {'sont' if len(incomplete) > 1 else 'est'} pas transmise{'s' if len(incomplete) > 1 else ''}."
    flash(message, "success")
    return redirect(url_for("jury.cpf_register") + "#flux")


@bp.route("/secretariat/registre-cpf/flux/<int:export_id>.xml")
@roles_required("secretariat")
def cpf_flux(export_id: int):
    try:
        export = cdc.get_export(export_id)
    except NotFound:
        require(False)
    path = cdc.flux_path(export)
    require(path.exists())
    return send_file(path, mimetype="application/xml", as_attachment=True,
                     download_name=f"flux-cpf-{export.flux_id}.xml")


@bp.route("/secretariat/registre-cpf/flux/<int:export_id>/rapport", methods=["POST"])
@roles_required("secretariat")
def cpf_report(export_id: int):
    try:
        export = cdc.get_export(export_id)
    except NotFound:
        require(False)
    form = ReportForm()
    if not form.validate_on_submit():
        return _page(400, "La demande a expiré : rechargez la page et recommencez.")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(422, report_errors={export.id: "Choisissez le fichier du rapport de traitement (XML)."})
    try:
        counts = cdc.import_report(export, upload.read())
    except DomainError as err:
        messages = [m for ms in err.errors.values() for m in ms] or [err.message]
        return _page(err.status_code, report_errors={export.id: " ".join(messages)})
    flash(f"Rapport importé : {pluriel(counts['accepted'], 'passage accepté', 'passages acceptés')}, "
          f"{pluriel(counts['rejected'], 'passage rejeté', 'passages rejetés')}.", "success")
    return redirect(url_for("jury.cpf_register"))


@bp.app_template_global()
def cpf_overdue_count() -> int:
    """The holders past their CPF deadline (R16), for the secretariat's home."""
    return cdc.overdue_count()
