"""GET /geo/places (the commune or country picker) and GET /geo/places/{code}: the official geographic code."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate

from app.api.schemas import BaseSchema
from app.core.errors import NotFound
from app.core.permissions import AUTHENTICATED, roles_required
from app.referential import geography

blp = Blueprint("api_geography", __name__, description="Code officiel géographique : communes et pays (INSEE)")

MAX_LIMIT = 20


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Le texte contient un caractère nul.")


class PlaceQuery(BaseSchema):
    q = fields.String(required=True, validate=[validate.Length(
        min=1, max=100, error="Entre {min} et {max} caractères : le début d'un nom de commune ou de pays, "
                              "un code postal ou un code INSEE."), _no_nul])
    limit = fields.Integer(load_default=10, validate=validate.Range(
        min=1, max=MAX_LIMIT, error="Doit être compris entre {min} et {max}."))


class PlaceOut(BaseSchema):
    code = fields.String(metadata={"description": "Code INSEE : commune (arrondissement municipal compris) ou "
                                                  "pays (99XXX)"})
    label = fields.String()
    kind = fields.String(metadata={"enum": [geography.COMMUNE, geography.PAYS]})
    postcodes = fields.List(fields.String())
    department = fields.String(allow_none=True)


@blp.route("/geo/places")
class Places(MethodView):
    @roles_required(AUTHENTICATED)
    @blp.arguments(PlaceQuery, location="query")
    @blp.response(200, PlaceOut(many=True))
    def get(self, args):
        """Communes puis pays dont le nom commence par `q` (sans accents ni casse), ou d'un code postal ou INSEE."""
        return geography.search(args["q"], limit=args["limit"])


@blp.route("/geo/places/<string:code>")
class PlaceByCode(MethodView):
    @roles_required(AUTHENTICATED)
    @blp.response(200, PlaceOut)
    @blp.alt_response(404, response="NOT_FOUND", description="Aucune commune ni aucun pays n'a ce code.")
    def get(self, code):
        """La commune ou le pays de ce code INSEE (5 caractères ; 99XXX pour un pays)."""
        place = geography.lookup(code)
        if place is None:
            raise NotFound.for_field("code", f"Aucune commune ni aucun pays n'a le code « {code[:10]} » dans le "
                                             "code officiel géographique.")
        return place
