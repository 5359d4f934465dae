"""GET /cqps, PATCH /cqps/{code}, POST /establishments, POST and GET /assessors."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.accounts import services as accounts
from app.api.schemas import BaseSchema, CodeTitle
from app.core.permissions import AUTHENTICATED, roles_required
from app.referential import services

blp = Blueprint("api_referential", __name__, description="Référentiel CQP, établissements, évaluateurs")


class CqpOut(BaseSchema):
    code = fields.String()
    title = fields.String()
    domain = fields.String()
    repertoire = fields.String(allow_none=True, metadata={"enum": list(services.REPERTOIRES)})
    repertoire_code = fields.String(allow_none=True)
    level = fields.Integer(allow_none=True)
    nsf_code = fields.String(allow_none=True)
    registered_on = fields.Date(allow_none=True)
    carry_over_years = fields.Integer()
    competences = fields.Nested(CodeTitle, many=True, attribute="active_competences")


def _checked_by_the_service(**metadata):
    """Any JSON value: the service checks each field (type included) and a 422 names every invalid one."""
    return fields.Raw(allow_none=True, metadata=metadata)


class CqpPatch(BaseSchema):
    """What PATCH /cqps/{code} changes (fields absent stay as they are; null empties one)."""

    title = _checked_by_the_service(type="string", maxLength=255, description="intitulé exact de la certification")
    repertoire = _checked_by_the_service(type="string", enum=list(services.REPERTOIRES), nullable=True,
                                         description="répertoire national : RNCP ou RS (null : non enregistré)")
    repertoire_code = _checked_by_the_service(type="string", pattern="^(RNCP|RS)[0-9]+$", nullable=True,
                                              description="code de la fiche, RNCP35842 ou RS5614")
    level = _checked_by_the_service(type="integer", minimum=1, maximum=8, nullable=True,
                                    description="niveau du cadre national des certifications (obligatoire au RNCP)")
    nsf_code = _checked_by_the_service(type="string", pattern="^[1-4][0-9]{2}[fghjklmnpqrstuvw]?$", nullable=True,
                                       description="code NSF (nomenclature des spécialités de formation), 222 ou 222n")
    registered_on = _checked_by_the_service(type="string", format="date", nullable=True,
                                            description="date de la décision d'enregistrement de France compétences")
    carry_over_years = _checked_by_the_service(type="integer", minimum=0, description="années pendant lesquelles "
                                               "les compétences validées par une décision partielle restent acquises (R13)")


def at_most(n: int) -> validate.Length:
    """The column's size: longer would be a database error (PostgreSQL), so a 422 that says it."""
    return validate.Length(max=n, error="{max} caractères au plus.")


class EstablishmentIn(BaseSchema):
    siret = fields.String(required=True, validate=at_most(20))
    name = fields.String(required=True, validate=at_most(255))
    address = fields.String(load_default=None, allow_none=True, validate=at_most(255))
    postcode = fields.String(load_default=None, allow_none=True, validate=at_most(10))
    city = fields.String(load_default=None, allow_none=True, validate=at_most(120))
    contact_email = fields.String(load_default=None, allow_none=True, validate=at_most(255))


class EstablishmentOut(BaseSchema):
    siret = fields.String()
    name = fields.String()
    address = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)


class AssessorIn(BaseSchema):
    email = fields.String(required=True, validate=at_most(255))
    first_name = fields.String(required=True, validate=at_most(120))
    last_name = fields.String(required=True, validate=at_most(120))
    habilitation_until = fields.Date(required=True)
    cqp_codes = fields.List(fields.String(validate=at_most(32)), load_default=list)
    departement = fields.String(load_default=None, allow_none=True, validate=at_most(3),
                                metadata={"description": "code du département (69, 2A, 974), liste publique"})


class AssessorOut(BaseSchema):
    id = fields.Integer()
    email = fields.String(attribute="user.email")
    first_name = fields.String(attribute="user.first_name")
    last_name = fields.String(attribute="user.last_name")
    name = fields.String()
    habilitation_until = fields.Date()
    cqp_codes = fields.Pluck(CodeTitle, "code", many=True, attribute="cqps")
    departement = fields.String(allow_none=True)


@blp.route("/cqps")
class Cqps(MethodView):
    @roles_required(AUTHENTICATED)
    @blp.response(200, CqpOut(many=True))
    def get(self):
        """Le référentiel : CQP et leurs compétences."""
        return services.list_cqps()


@blp.route("/cqps/<code>")
class CqpResource(MethodView):
    @roles_required("secretariat")
    @blp.arguments(CqpPatch)
    @blp.response(200, CqpOut)
    def patch(self, data, code):
        """Modifie l'enregistrement du CQP (RNCP ou RS, code, niveau, NSF, date de décision), son intitulé et la
        durée de conservation des compétences acquises ; une 422 nomme chaque champ invalide, rien n'est écrit."""
        return services.update_cqp_registration(services.get_cqp_for_edit(code), data, actor=current_user)


@blp.route("/establishments")
class Establishments(MethodView):
    @roles_required("secretariat")
    @blp.arguments(EstablishmentIn)
    @blp.response(201, EstablishmentOut)
    @blp.alt_response(409, response="CONFLICT", description="Un établissement existe déjà pour ce SIRET (R12).")
    def post(self, data):
        """Crée un établissement (SIRET unique, R12)."""
        return accounts.create_establishment(actor=current_user, **data)


@blp.route("/assessors")
class Assessors(MethodView):
    @roles_required(AUTHENTICATED)
    @blp.response(200, AssessorOut(many=True))
    def get(self):
        """Les évaluateurs dont l'habilitation est valide aujourd'hui."""
        return services.habilitated_assessors()

    @roles_required("secretariat")
    @blp.arguments(AssessorIn)
    @blp.response(201, AssessorOut)
    @blp.alt_response(409, response="CONFLICT", description="Un compte existe déjà pour cette adresse email.")
    def post(self, data):
        """Crée un évaluateur habilité et son compte ; il reçoit par email un lien pour choisir son mot de passe."""
        return services.create_assessor(actor=current_user, invite=True, **data)
