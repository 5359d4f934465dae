"""GET /assessors/public (no token) and its CSV; the habilitation cycle: /habilitation-renewals (filed by an assessor
with its documents, granted or refused by the secretariat); GET /assessors/ended-habilitations (their open files)."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields

from app.api.schemas import BaseSchema
from app.core.permissions import public, roles_required
from app.core.uploads import serve_document
from app.files.assessor_files import open_files_of_ended_assessors
from app.referential import habilitation, public_assessors
from app.referential.habilitation import RENEWAL_DOCUMENTS

blp = Blueprint("api_assessors", __name__, description="Liste publique des évaluateurs habilités, renouvellements")


class PublicAssessorOut(BaseSchema):
    name = fields.String()
    cqp_codes = fields.List(fields.String(), metadata={"description": "tous les CQP actifs quand l'évaluateur est "
                                                                      "habilité pour tous"})
    habilitation_until = fields.Date()
    departement = fields.String(allow_none=True)


class RenewalDocumentOut(BaseSchema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(RENEWAL_DOCUMENTS)})
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class RenewalOut(BaseSchema):
    id = fields.Integer()
    assessor_id = fields.Integer()
    assessor_name = fields.String(attribute="assessor.name")
    status = fields.String(metadata={"enum": ["deposee", "accordee", "refusee"]})
    previous_until = fields.Date()
    message = fields.String(allow_none=True)
    submitted_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    granted_until = fields.Date(allow_none=True)
    refusal_reason = fields.String(allow_none=True)
    documents = fields.Nested(RenewalDocumentOut, many=True)


class GrantIn(BaseSchema):
    habilitation_until = fields.Date(required=True)


class RefuseIn(BaseSchema):
    reason = fields.Raw(required=True, metadata={"type": "string", "maxLength": habilitation.MAX_TEXT})


class EndedFileOut(BaseSchema):
    id = fields.Integer()
    status = fields.String()
    cqp_code = fields.String(attribute="cqp.code")
    establishment_siret = fields.String(attribute="establishment.siret")


class EndedAssessorOut(BaseSchema):
    assessor_id = fields.Integer(attribute="assessor.id")
    name = fields.String(attribute="assessor.name")
    email = fields.String(attribute="assessor.user.email")
    habilitation_until = fields.Date(attribute="assessor.habilitation_until")
    files = fields.Nested(EndedFileOut, many=True)


def _me():
    return current_user._get_current_object()


@blp.route("/assessors/public")
class PublicAssessors(MethodView):
    @public
    @blp.response(200, PublicAssessorOut(many=True))
    def get(self):
        """Les évaluateurs dont l'habilitation est valide aujourd'hui (sans jeton ; jamais d'email)."""
        return public_assessors.public_assessors()


@blp.route("/assessors/public.csv")
class PublicAssessorsCsv(MethodView):
    @public
    @blp.response(200, content_type="text/csv")
    def get(self):
        """La même liste en CSV (UTF-8, `;`), cellules neutralisées contre l'injection de formules."""
        return public_assessors.csv_response()


@blp.route("/assessors/ended-habilitations")
class EndedHabilitations(MethodView):
    @roles_required("secretariat")
    @blp.response(200, EndedAssessorOut(many=True))
    def get(self):
        """Les évaluateurs à l'habilitation échue qui restent nommés sur des dossiers ouverts, avec ces dossiers."""
        return open_files_of_ended_assessors()


@blp.route("/habilitation-renewals")
class Renewals(MethodView):
    @roles_required("secretariat", "evaluateur")
    @blp.response(200, RenewalOut(many=True))
    def get(self):
        """Secrétariat : toutes les demandes (à examiner d'abord) ; évaluateur : les siennes."""
        if _me().is_secretariat:
            return habilitation.renewals_to_examine()
        return habilitation.renewals_of(habilitation.assessor_of(_me()))

    @roles_required("evaluateur")
    @blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": list(RENEWAL_DOCUMENTS),
        "properties": {**{k: {"type": "string", "format": "binary", "description": v}
                          for k, v in RENEWAL_DOCUMENTS.items()}, "message": {"type": "string"}}}}}})
    @blp.response(201, RenewalOut)
    def post(self):
        """Dépose une demande de renouvellement avec chaque pièce demandée (à partir de 9 mois avant la fin)."""
        return habilitation.submit_renewal(_me(), {k: request.files.get(k) for k in RENEWAL_DOCUMENTS},
                                           request.form.get("message"))


@blp.route("/habilitation-renewals/<int:renewal_id>")
class Renewal(MethodView):
    @roles_required("secretariat", "evaluateur")
    @blp.response(200, RenewalOut)
    def get(self, renewal_id):
        """Une demande (l'évaluateur ne voit que les siennes)."""
        return habilitation.get_renewal(_me(), renewal_id)


@blp.route("/habilitation-renewals/<int:renewal_id>/grant")
class RenewalGrant(MethodView):
    @roles_required("secretariat")
    @blp.arguments(GrantIn)
    @blp.response(200, RenewalOut)
    def post(self, data, renewal_id):
        """Accorde le renouvellement : la fin d'habilitation devient `habilitation_until` ; l'évaluateur est prévenu."""
        return habilitation.grant_renewal(habilitation.get_renewal(_me(), renewal_id), _me(), data["habilitation_until"])


@blp.route("/habilitation-renewals/<int:renewal_id>/refuse")
class RenewalRefuse(MethodView):
    @roles_required("secretariat")
    @blp.arguments(RefuseIn)
    @blp.response(200, RenewalOut)
    def post(self, data, renewal_id):
        """Refuse la demande avec un motif (obligatoire), envoyé à l'évaluateur."""
        return habilitation.refuse_renewal(habilitation.get_renewal(_me(), renewal_id), _me(), data["reason"])


@blp.route("/habilitation-renewals/<int:renewal_id>/documents/<int:document_id>")
class RenewalDocument(MethodView):
    @roles_required("secretariat", "evaluateur")
    @blp.response(200, content_type="application/octet-stream")
    def get(self, renewal_id, document_id):
        """Une pièce de la demande."""
        return serve_document(habilitation.get_document(habilitation.get_renewal(_me(), renewal_id), document_id))
