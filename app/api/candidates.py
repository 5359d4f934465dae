"""API resources of the candidates (the person, docs/api.md): POST /candidates, GET /candidates/{id}, on the
files area's blueprint (same tag and URL prefix in the OpenAPI description)."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from marshmallow import fields

from app.api.files import EstablishmentRef, blp
from app.api.schemas import BaseSchema
from app.core.permissions import roles_required
from app.files import access, candidates

# ---------------------------------------------------------------- schemas


class CandidateIn(BaseSchema):
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    birth_date = fields.Date(required=True)
    birth_place = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True)
    job_title = fields.String(load_default=None, allow_none=True)
    highest_diploma = fields.String(load_default=None, allow_none=True)


class IdOnly(BaseSchema):
    id = fields.Integer()


class CandidateOut(BaseSchema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.Date()
    birth_place = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    job_title = fields.String(allow_none=True)
    highest_diploma = fields.String(allow_none=True)
    establishment = fields.Nested(EstablishmentRef)
    file_ids = fields.Pluck(IdOnly, "id", many=True, attribute="files")


def _me():
    return current_user._get_current_object()


# ---------------------------------------------------------------- resources


@blp.route("/candidates")
class Candidates(MethodView):
    @roles_required("entreprise")
    @blp.arguments(CandidateIn)
    @blp.response(201, CandidateOut)
    def post(self, data):
        """Crée un candidat dans l'établissement (doublon nom + prénom + date de naissance : 409, R12)."""
        return candidates.create_candidate(_me().establishment, _me(), **data)


@blp.route("/candidates/<int:candidate_id>")
class CandidateItem(MethodView):
    @roles_required("entreprise", "secretariat", "candidat")
    @blp.response(200, CandidateOut)
    def get(self, candidate_id):
        """Un candidat (l'entreprise qui l'a créé, le candidat lui-même, le secrétariat)."""
        return access.get_candidate_for(_me(), candidate_id)
