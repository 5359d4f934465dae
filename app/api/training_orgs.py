"""GET /training-organisations/{siret}: what the public list of training organisations (or the Carif-Oref API,
when configured) says of an establishment: declaration numbers and Qualiopi certifications."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from app.api.schemas import BaseSchema, ComputedDict, ComputedString
from app.core.errors import NotFound
from app.core.permissions import AUTHENTICATED, roles_required
from app.referential import quiforme
from app.referential.training_org_models import QUALIOPI_CATEGORIES

blp = Blueprint("api_training_orgs", __name__, description="Organismes de formation : NDA et certification Qualiopi")


class NdaOut(BaseSchema):
    number = fields.String(metadata={"description": "numéro de déclaration d'activité (11 chiffres)"})
    active = fields.Boolean()


class TrainingOrgOut(BaseSchema):
    siret = fields.String()
    name = ComputedString(allow_none=True, compute=lambda org: org.name or None)
    nda = fields.Nested(NdaOut, many=True, attribute="ndas")
    qualiopi = ComputedDict(keys=fields.String(), values=fields.Boolean(), compute=lambda org: org.qualiopi,
                            metadata={"description": "certification Qualiopi par catégorie : "
                                                     + ", ".join(QUALIOPI_CATEGORIES)})
    last_declaration_on = fields.Date(allow_none=True, metadata={
        "description": "dernier bilan pédagogique et financier"})
    specialities = fields.List(fields.Dict(), allow_none=True)
    source = fields.String(metadata={"enum": ["liste_publique", "quiforme"]})
    checked_at = fields.DateTime()
    warning = fields.String(allow_none=True, metadata={
        "description": "pas de certification Qualiopi « actions de formation », ou NDA inactif"})


@blp.route("/training-organisations/<string:siret>")
class TrainingOrganisationItem(MethodView):
    @roles_required(AUTHENTICATED)
    @blp.response(200, TrainingOrgOut)
    @blp.alt_response(404, response="NOT_FOUND", description="Ni la liste publique ni l'API Carif-Oref ne connaissent "
                      "ce SIRET.")
    def get(self, siret):
        """L'organisme de formation de ce SIRET : ses NDA (actifs ou non) et ses certifications Qualiopi."""
        clean = "".join(siret.split())[:20]
        org = quiforme.lookup(clean) if clean.isdigit() and len(clean) == 14 else None
        if org is None:
            raise NotFound.for_field("siret", f"Aucun organisme de formation connu sous le SIRET « {clean} » (liste "
                                              "publique des organismes de formation).")
        return org
