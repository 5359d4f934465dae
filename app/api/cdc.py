"""The CPF register (R16): fluxes to the Caisse des Dépôts and their processing reports (docs/api.md)."""

from __future__ import annotations

from flask import request, send_file
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields

from app.api.schemas import BaseSchema
from app.core.errors import NotFound, ValidationFailed
from app.core.permissions import roles_required
from app.jury import cdc

blp = Blueprint("api_cdc", __name__, description="Registre CPF : flux vers la Caisse des Dépôts et rapports")

MAX_REPORT_BYTES = 20 * 1024 * 1024


class ExcludedOut(BaseSchema):
    file_id = fields.Integer()
    missing = fields.List(fields.String(), metadata={"description": "champs de l'identité à compléter"})


class CreatedExportOut(BaseSchema):
    id = fields.Integer()
    flux_id = fields.String()
    created_at = fields.DateTime()
    passages = fields.Integer()
    excluded = fields.List(fields.Nested(ExcludedOut))


class ExportOut(BaseSchema):
    id = fields.Integer()
    flux_id = fields.String()
    created_at = fields.DateTime()
    passages = fields.Integer()
    accepted = fields.Integer()
    rejected = fields.Integer()
    report_received_at = fields.DateTime(allow_none=True)


class ReportOut(BaseSchema):
    accepted = fields.Integer()
    rejected = fields.Integer()


@blp.route("/cdc-exports")
class CdcExports(MethodView):
    @roles_required("secretariat")
    @blp.response(200, ExportOut(many=True))
    def get(self):
        """Les flux déposés, le plus récent d'abord."""
        return [cdc.export_json(e) for e in cdc.exports()]

    @roles_required("secretariat")
    @blp.response(201, CreatedExportOut)
    def post(self):
        """Construit le flux suivant : chaque titulaire prêt, une fois ; 409 sans CDC_ID_CLIENT / CDC_ID_CONTRAT
        ou sans rien de nouveau."""
        export, incomplete = cdc.create_export(current_user._get_current_object())
        return {**cdc.export_json(export),
                "excluded": [{"file_id": i.file_id, "missing": i.missing} for i in incomplete]}


@blp.route("/cdc-exports/<int:export_id>/flux.xml")
class CdcFlux(MethodView):
    @roles_required("secretariat")
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/xml",
                  description="Le flux XML, valide selon le XSD de la Caisse des Dépôts.")
    def get(self, export_id):
        """Le flux XML tel qu'il a été construit."""
        export = cdc.get_export(export_id)
        path = cdc.flux_path(export)
        if not path.exists():
            raise NotFound(f"Le fichier du flux {export.flux_id} est introuvable sur le stockage.")
        return send_file(path, mimetype="application/xml", as_attachment=True,
                         download_name=f"flux-cpf-{export.flux_id}.xml")


@blp.route("/cdc-exports/<int:export_id>/report")
class CdcReport(MethodView):
    @roles_required("secretariat")
    @blp.response(200, ReportOut)
    def post(self, export_id):
        """Importe le rapport de traitement de la Caisse des Dépôts (multipart `file`)."""
        export = cdc.get_export(export_id)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationFailed.for_field("file", "Joignez le rapport de traitement (champ « file »).")
        content = upload.read(MAX_REPORT_BYTES + 1)
        if len(content) > MAX_REPORT_BYTES:
            raise ValidationFailed.for_field("file", "Le rapport dépasse 20 Mo.")
        return cdc.import_report(export, content)
