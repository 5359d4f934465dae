"""POST/GET /webhooks, GET/DELETE /webhooks/{id}, POST /webhooks/{id}/enable, GET /webhooks/{id}/deliveries."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields

from app.api.schemas import BaseSchema
from app.core.permissions import roles_required
from app.files import webhooks
from app.files.webhook_models import WEBHOOK_EVENTS

blp = Blueprint("api_webhooks", __name__, description="Webhooks signés (HMAC-SHA256) des changements de statut")
OWNERS = ("entreprise", "secretariat")


class WebhookIn(BaseSchema):
    url = fields.Raw(required=True, metadata={"type": "string", "format": "uri", "maxLength": webhooks.MAX_URL_LENGTH,
                                              "description": "http(s) ; adresses internes refusées (422) sauf "
                                                             "WEBHOOK_ALLOW_PRIVATE"})
    events = fields.Raw(required=True, metadata={"type": "array", "items": {"type": "string",
                                                                            "enum": list(WEBHOOK_EVENTS)}})


class WebhookOut(BaseSchema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String(), attribute="event_list")
    active = fields.Boolean()
    consecutive_failures = fields.Integer()
    created_at = fields.DateTime()
    disabled_at = fields.DateTime(allow_none=True)
    disabled_reason = fields.String(allow_none=True)


class WebhookCreated(WebhookOut):
    secret = fields.String(metadata={"description": "clé HMAC-SHA256, affichée cette seule fois"})


class AttemptOut(BaseSchema):
    at = fields.DateTime()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliveryOut(BaseSchema):
    id = fields.Integer()
    event = fields.String()
    file_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.Integer()
    created_at = fields.DateTime()
    next_attempt_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    attempt_log = fields.Nested(AttemptOut, many=True, data_key="log")


def _me():
    return current_user._get_current_object()


@blp.route("/webhooks")
class Webhooks(MethodView):
    @roles_required(*OWNERS)
    @blp.response(200, WebhookOut(many=True))
    def get(self):
        """Les webhooks de l'établissement (entreprise) ou du secrétariat (tous les dossiers)."""
        return webhooks.list_webhooks(_me())

    @roles_required(*OWNERS)
    @blp.arguments(WebhookIn)
    @blp.response(201, WebhookCreated)
    def post(self, data):
        """Enregistre une URL et ses évènements ; la réponse donne le secret de signature, une seule fois."""
        webhook, _secret = webhooks.register_webhook(_me(), data["url"], data["events"])
        return webhook  # WebhookCreated dumps its secret: this answer only, no listing shows it


@blp.route("/webhooks/<int:webhook_id>")
class WebhookResource(MethodView):
    @roles_required(*OWNERS)
    @blp.response(200, WebhookOut)
    def get(self, webhook_id):
        """Un webhook (sans son secret)."""
        return webhooks.get_webhook(_me(), webhook_id)

    @roles_required(*OWNERS)
    @blp.response(204)
    def delete(self, webhook_id):
        """Supprime le webhook et son journal de livraisons."""
        webhooks.delete_webhook(_me(), webhooks.get_webhook(_me(), webhook_id))


@blp.route("/webhooks/<int:webhook_id>/enable")
class WebhookEnable(MethodView):
    @roles_required(*OWNERS)
    @blp.response(200, WebhookOut)
    def post(self, webhook_id):
        """Réactive un webhook désactivé après des échecs répétés."""
        return webhooks.enable_webhook(_me(), webhooks.get_webhook(_me(), webhook_id))


@blp.route("/webhooks/<int:webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @roles_required(*OWNERS)
    @blp.response(200, DeliveryOut(many=True))
    def get(self, webhook_id):
        """Les 100 dernières livraisons, chacune avec ses tentatives (date, code HTTP, erreur)."""
        return webhooks.deliveries(webhooks.get_webhook(_me(), webhook_id))
