"""The company's import of candidates from an HR export: the upload page and its templates (CSV, XLSX), the
preview listing every row's mistakes (nothing written), and the confirmation that creates them all. The
uploaded file waits for the confirmation under UPLOAD_DIR/candidate_imports, named for its establishment."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import Response, flash, redirect, render_template, request, url_for

from app.core.errors import NotFound, ValidationFailed
from app.core.permissions import roles_required
from app.core.uploads import max_upload_bytes, upload_dir
from app.files import candidate_import
from app.files.identity import FIELD_NAMES_FR
from app.files.web import _me, bp
from app.referential.training_org_models import describe as describe_training_org

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_context_processor
def _import_helpers():
    return {"describe_training_org": describe_training_org}


def _waiting(establishment_id: int, token: str) -> Path:
    if not TOKEN.fullmatch(token or ""):
        raise NotFound("Ce dépôt n'existe pas, ou il a déjà été importé.")
    return upload_dir() / "candidate_imports" / f"{establishment_id}-{token}"


def _render(status: int = 200, **context):
    context.setdefault("field_names", FIELD_NAMES_FR)
    context.setdefault("columns", candidate_import.template_header())
    return render_template("files/candidate_import.html", **context), status


@bp.route("/entreprise/candidats/import")
@roles_required("entreprise")
def candidate_import_page():
    return _render()


@bp.route("/entreprise/candidats/import/modele.<fmt>")
@roles_required("entreprise")
def candidate_import_template(fmt: str):
    if fmt == "csv":
        body, mimetype = candidate_import.template_csv(), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body, mimetype = candidate_import.template_xlsx(), XLSX_TYPE
    else:
        raise NotFound("Ce modèle n'existe pas : CSV ou XLSX.")
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=modele-candidats.{fmt}"})


@bp.route("/entreprise/candidats/import", methods=["POST"])
@roles_required("entreprise")
def candidate_import_preview():
    """Checks every row of the uploaded file and shows what it would do; writes no candidate."""
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed.for_field("file", "Choisissez le fichier à importer (CSV ou XLSX).")
        data = upload.read(max_upload_bytes() + 1)
        if len(data) > max_upload_bytes():
            raise ValidationFailed.for_field("file", f"Le fichier dépasse {max_upload_bytes() // (1024 * 1024)} Mo.")
        preview = candidate_import.preview(_me().establishment, data, upload.filename)
    except ValidationFailed as error:
        return _render(422, file_error=error.message)
    token = None
    if not preview.errors and preview.to_create:
        token = secrets.token_urlsafe(24)
        path = _waiting(_me().establishment_id, token)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return _render(422 if preview.errors else 200, preview=preview, token=token, filename=upload.filename)


@bp.route("/entreprise/candidats/import/<token>/confirmer", methods=["POST"])
@roles_required("entreprise")
def candidate_import_confirm(token: str):
    """Creates every candidate of the previewed file, or none."""
    path = _waiting(_me().establishment_id, token)
    if not path.exists():
        raise NotFound("Ce dépôt n'existe pas, ou il a déjà été importé.")
    try:
        result = candidate_import.import_candidates(_me().establishment, _me(), path.read_bytes())
    except candidate_import.ImportRefused as refused:  # the establishment changed since the preview
        return _render(422, preview=candidate_import.Preview(errors=refused.row_errors))
    path.unlink(missing_ok=True)
    created, present = len(result.to_create), len(result.already_present)
    flash(f"{created} candidat{'s' if created > 1 else ''} créé{'s' if created > 1 else ''}"
          + (f", {present} déjà présent{'s' if present > 1 else ''}" if present else "") + ".", "success")
    return redirect(url_for("files.candidate_list"), 303)
