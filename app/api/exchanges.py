"""API « Exchanges on a file » (docs/api.md): correction requests and the file's thread of messages. Thin handlers
over app.files.exchanges: load the file the user may see (another tenant's: 404), call one service, answer."""

from __future__ import annotations

from flask import request, url_for
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields

from app.api.schemas import BaseSchema, ComputedNested
from app.core.errors import NotFound
from app.core.permissions import roles_required
from app.core.uploads import serve_document
from app.extensions import db
from app.files import access, exchanges
from app.referential import independence
from app.referential.models import Assessor

blp = Blueprint("api_exchanges", __name__, description="Échanges sur un dossier : demandes de correction, messages")

FILE_READERS = ("entreprise", "evaluateur", "candidat", "secretariat", "jury")


def _me():
    return current_user._get_current_object()


class CorrectionRequestIn(BaseSchema):
    message = fields.String(load_default=None, allow_none=True)
    field_names = fields.List(fields.String(), data_key="fields", load_default=None, allow_none=True,
                              metadata={"description": "noms des champs à corriger : " + ", ".join(exchanges.CORRECTABLE_FIELDS)})


class ResolveIn(BaseSchema):
    message = fields.String(load_default=None, allow_none=True)


class CorrectionOut(BaseSchema):
    """A correction request: `by`/`at` who asked and when; `answer`, `answered_by`, `answered_at` once resolved."""

    id = fields.Integer()
    message = fields.String()
    field_names = fields.List(fields.String(), attribute="fields", data_key="fields", allow_none=True)
    by = fields.String(allow_none=True)
    at = fields.DateTime()
    open = fields.Boolean(attribute="is_open")
    answer = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    answered_at = fields.DateTime(attribute="resolved_at", allow_none=True)


class AttachmentOut(BaseSchema):
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


def _attachment(message):
    attachment = message.attachment
    if attachment is None:
        return None
    return {"filename": attachment.filename, "content_type": attachment.content_type, "size": attachment.size,
            "url": url_for("api_exchanges.MessageAttachment", file_id=message.file_id, message_id=message.id)}


class AttachmentLinkOut(AttachmentOut):
    url = fields.String()


class MessageOut(BaseSchema):
    id = fields.Integer()
    body = fields.String()
    by = fields.String(allow_none=True)
    at = fields.DateTime()
    attachment = ComputedNested(AttachmentLinkOut, allow_none=True, compute=_attachment)


@blp.route("/files/<int:file_id>/correction-requests")
class CorrectionRequests(MethodView):
    @roles_required(*FILE_READERS)
    @blp.response(200, CorrectionOut(many=True))
    def get(self, file_id):
        """Les demandes de correction du dossier, de la plus ancienne à la plus récente (parties du dossier)."""
        file = access.get_file_for(_me(), file_id)
        if not exchanges.takes_part(file, _me()):
            raise NotFound("Ce dossier n'existe pas, ou vous n'y avez pas accès.")
        return exchanges.correction_requests(file)

    @roles_required("secretariat", "evaluateur")
    @blp.arguments(CorrectionRequestIn)
    @blp.response(201, CorrectionOut)
    def post(self, data, file_id):
        """Demande une correction à l'entreprise (secrétariat ; évaluateur du dossier) : `message` obligatoire,
        `fields` facultatif. Jusqu'à la réponse, tout événement du dossier sauf l'abandon répond 409."""
        file = access.get_file_for(_me(), file_id)
        return exchanges.request_correction(file, _me(), message=data["message"], fields=data["field_names"])


@blp.route("/files/<int:file_id>/correction-requests/<int:request_id>/resolve")
class ResolveCorrection(MethodView):
    @roles_required("entreprise")
    @blp.arguments(ResolveIn)
    @blp.response(200, CorrectionOut)
    def post(self, data, file_id, request_id):
        """L'entreprise répond à la demande de correction (`message` obligatoire) : le dossier peut de nouveau avancer."""
        file = access.get_file_for(_me(), file_id)
        return exchanges.resolve_correction(file, _me(), request_id, message=data["message"])


@blp.route("/files/<int:file_id>/messages")
class Messages(MethodView):
    @roles_required(*FILE_READERS)
    @blp.response(200, MessageOut(many=True))
    def get(self, file_id):
        """Le fil d'échanges du dossier (entreprise, évaluateur du dossier, secrétariat ; 404 pour les autres)."""
        return exchanges.messages_of(access.get_file_for(_me(), file_id), _me())

    @roles_required(*FILE_READERS)
    @blp.doc(requestBody={"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["body"],
                                        "properties": {"body": {"type": "string"}}}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["body"], "properties": {
            "body": {"type": "string"}, "file": {"type": "string", "format": "binary"}}}}}})
    @blp.response(201, MessageOut)
    def post(self, file_id):
        """Écrit dans le fil (`body` obligatoire ; en multipart, une pièce jointe `file` PDF, PNG ou JPEG vérifiée
        comme les documents). Les autres parties sont prévenues par email."""
        file = access.get_file_for(_me(), file_id)
        if request.mimetype == "multipart/form-data":
            body, upload = request.form.get("body"), request.files.get("file")
        else:
            payload = request.get_json(silent=True)
            body, upload = (payload.get("body") if isinstance(payload, dict) else None), None
        return exchanges.post_message(file, _me(), body=body, upload=upload)


@blp.route("/files/<int:file_id>/messages/<int:message_id>/attachment")
class MessageAttachment(MethodView):
    @roles_required(*FILE_READERS)
    @blp.response(200, content_type="application/octet-stream")
    def get(self, file_id, message_id):
        """La pièce jointe d'un message du fil."""
        message = exchanges.get_message(access.get_file_for(_me(), file_id), _me(), message_id)
        if message.attachment is None:
            raise NotFound("Ce message n'a pas de pièce jointe.")
        return serve_document(message.attachment)


class OrganisationIn(BaseSchema):
    organisation_siret = fields.String(load_default=None, allow_none=True)
    organisation = fields.String(load_default=None, allow_none=True)


class OrganisationOut(BaseSchema):
    """An assessor's declared organisation (independence)."""

    id = fields.Integer()
    name = fields.String()
    organisation = fields.String(allow_none=True)
    organisation_siret = fields.String(allow_none=True)


@blp.route("/assessors/<int:assessor_id>/organisation")
class AssessorOrganisation(MethodView):
    @roles_required("secretariat", "evaluateur")
    @blp.arguments(OrganisationIn)
    @blp.response(200, OrganisationOut)
    def put(self, data, assessor_id):
        """Déclare l'organisme de l'évaluateur (SIRET ; vide : retire la déclaration) : le secrétariat pour tout
        évaluateur, l'évaluateur pour lui-même (404 pour un autre). Un évaluateur ne peut pas être confirmé sur un
        dossier de cet établissement ni de cet organisme de formation. SIRET invalide → 422."""
        assessor = db.session.get(Assessor, assessor_id)
        me = _me()
        if assessor is None or not (me.is_secretariat or assessor.user_id == me.id):
            raise NotFound("Cet évaluateur n'existe pas, ou vous n'y avez pas accès.")
        return independence.declare_organisation(assessor, me, organisation_siret=data["organisation_siret"],
                                                 organisation=data["organisation"])
