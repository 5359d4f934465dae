"""Personal data (RGPD): the audit of who read or changed a person's data, the export of everything held on
them, and their erasure (docs/api.md, « Données personnelles »)."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields

from app.api.schemas import BaseSchema
from app.core.errors import ValidationFailed
from app.core.permissions import roles_required
from app.core.validation import as_id
from app.files import access
from app.jury import privacy

blp = Blueprint("api_privacy", __name__, description="Données personnelles (RGPD) : journal des accès, export, effacement")


class AuditQuery(BaseSchema):
    candidate_id = fields.String(load_default=None, metadata={"description": "identifiant du candidat (obligatoire)"})


class AuditEntryOut(BaseSchema):
    id = fields.Integer()
    at = fields.String(metadata={"description": "RFC 3339, avec décalage"})
    user_email = fields.String(allow_none=True)
    action = fields.String(metadata={"description": "personal_data.read pour une lecture, sinon l'opération"})
    what = fields.String(allow_none=True, metadata={"description": "ce qui a été lu"})
    page = fields.String(allow_none=True, metadata={"description": "méthode et chemin de la page ou de l'API"})
    details = fields.Dict(allow_none=True)
    ip = fields.String(allow_none=True)


class EraseIn(BaseSchema):
    reason = fields.String(load_default=None, metadata={"description": "motif de l'effacement (obligatoire)"})


class KeptOut(BaseSchema):
    file_id = fields.Integer()
    parchment_number = fields.String()
    kind = fields.String()
    kept = fields.String()


class EraseOut(BaseSchema):
    id = fields.Integer()
    erased_at = fields.String()
    withdrawn_files = fields.List(fields.Integer())
    documents_deleted = fields.Integer()
    kept = fields.List(fields.Nested(KeptOut))


class CandidateExportOut(BaseSchema):
    id = fields.Integer()
    exported_at = fields.String()
    identity = fields.Dict()
    establishment = fields.Dict()
    account = fields.Dict(allow_none=True)
    created_at = fields.String()
    erased_at = fields.String(allow_none=True)
    files = fields.List(fields.Dict())
    documents = fields.List(fields.Dict())
    emails = fields.List(fields.Dict())
    messages = fields.List(fields.Dict())
    correction_requests = fields.List(fields.Dict())
    audit = fields.List(fields.Nested(AuditEntryOut))


def _me():
    return current_user._get_current_object()


@blp.route("/audit")
class Audit(MethodView):
    @roles_required("secretariat")
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditEntryOut(many=True))
    def get(self, args):
        """Les lectures et modifications des données d'un candidat, les plus récentes d'abord (500 au plus)."""
        candidate_id = as_id(args.get("candidate_id"))
        if candidate_id is None:
            raise ValidationFailed.for_field("candidate_id", "Indiquez le candidat : ?candidate_id=<identifiant>.")
        entries = privacy.audit_entries(candidate_id)
        actors = privacy.actor_emails(entries)
        return [privacy.audit_answer(e, actors) for e in entries]


@blp.route("/candidates/<int:candidate_id>/export")
class CandidateExport(MethodView):
    @roles_required("secretariat")
    @blp.response(200, CandidateExportOut)
    def get(self, candidate_id):
        """Tout ce que la plateforme détient sur la personne (identité, dossiers, évaluations, décisions, noms des
        pièces, emails, journal des accès)."""
        return privacy.export_candidate(access.get_candidate_for(_me(), candidate_id), _me())


@blp.route("/candidates/<int:candidate_id>/erase")
class CandidateErase(MethodView):
    @roles_required("secretariat")
    @blp.arguments(EraseIn)
    @blp.response(200, EraseOut)
    def post(self, data, candidate_id):
        """Efface les données personnelles (motif obligatoire, 422 sinon) : dossiers ouverts abandonnés, pièces
        supprimées ; ce qu'exige un parchemin délivré est conservé et listé dans `kept`."""
        return privacy.erase_candidate(access.get_candidate_for(_me(), candidate_id), _me(), data.get("reason"))
