"""API resources of the candidates (the person, docs/api.md): POST /candidates, GET and PATCH
/candidates/{id}, with the holder's identity the CPF register needs; on the files area's blueprint (same tag
and URL prefix in the OpenAPI description)."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_login import current_user
from marshmallow import ValidationError, fields, validate, validates_schema

from app.api.files import EstablishmentRef, blp
from app.api.schemas import BaseSchema, ComputedList
from app.core import audit
from app.core.errors import DomainError, ValidationFailed
from app.core.permissions import roles_required
from app.files import access, candidates

# ---------------------------------------------------------------- schemas

_SEX = fields.String(
    load_default=None, allow_none=True,
    validate=validate.OneOf(list(candidates.SEXES), error="Le sexe doit valoir « M » (homme) ou « F » (femme)."),
    metadata={"description": "M (homme) ou F (femme)"})


def _text(size: int, **kwargs):
    return fields.String(validate=validate.Length(max=size, error="{max} caractères au plus."), **kwargs)


class CandidatePatch(BaseSchema):
    """What PATCH /candidates/{id} changes (fields absent stay as they are)."""

    first_name = _text(120)
    last_name = _text(120, metadata={"description": "nom de naissance"})
    birth_date = fields.Date()
    sex = fields.String(allow_none=True, validate=_SEX.validate, metadata=_SEX.metadata)
    usage_name = _text(120, allow_none=True, metadata={"description": "nom d'usage"})
    other_first_names = fields.List(
        fields.String(), allow_none=True,
        validate=validate.Length(max=candidates.MAX_OTHER_FIRST_NAMES, error="Deux autres prénoms au plus."),
        metadata={"description": "autres prénoms, dans l'ordre de l'état civil (2 au plus)"})
    birth_place_code = fields.String(allow_none=True, metadata={
        "description": "code INSEE de la commune de naissance, ou 99XXX du pays pour une naissance à l'étranger "
                       "(code officiel géographique)", "pattern": "^([0-9][0-9AB]|2[AB])[0-9]{3}$"})
    birth_place = _text(120, allow_none=True, metadata={"description": "commune de naissance (libellé)"})
    birth_country = _text(120, allow_none=True, metadata={"description": "pays de naissance (libellé)"})
    email = fields.String(allow_none=True)
    phone = _text(40, allow_none=True)
    address = _text(255, allow_none=True)
    job_title = _text(255, allow_none=True)
    highest_diploma = _text(255, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _every_mistake_at_once(self, data, **kwargs):
        """The service's checks (plausible birth date, code of the COG, ...) of the fields that passed their
        type, so that a 422 names every invalid field at once."""
        try:
            candidates.check_candidate(data)
        except ValidationFailed as error:
            raise ValidationError(error.errors) from None


class CandidatePatchIn(CandidatePatch):
    reason = fields.String(load_default=None, allow_none=True, metadata={
        "description": "motif de la rectification : obligatoire pour le secrétariat quand l'état civil figure "
                       "sur un document délivré (R15)"})

    @validates_schema(skip_on_field_errors=False)
    def _every_mistake_at_once(self, data, **kwargs):
        """As CandidatePatch, and the secretariat's missing reason for a rectification in the same 422."""
        errors: dict = {}
        try:
            candidates.check_candidate(data)
        except ValidationFailed as error:
            errors.update(error.errors)
        if _rectification_without_reason(data, errors):
            errors["reason"] = [candidates.REASON_REQUIRED]
        if errors:
            raise ValidationError(errors)


def _rectification_without_reason(data: dict, errors: dict) -> bool:
    """The secretariat changes the identity of a decided candidate (R15) and gives no reason."""
    if (data.get("reason") or "").strip() or not _me().is_secretariat:
        return False
    try:
        candidate = access.get_candidate_for(_me(), (request.view_args or {}).get("candidate_id"))
    except DomainError:
        return False  # the handler answers the 404
    if not candidate.has_issued_record:
        return False
    valid = {k: v for k, v in data.items() if k in candidates.IDENTITY_FIELDS and k not in errors}
    try:
        return bool(candidates.identity_changes(candidate, valid))
    except ValidationFailed:
        return False


class CandidateIn(CandidatePatch):
    first_name = _text(120, required=True)
    last_name = _text(120, required=True, metadata={"description": "nom de naissance"})
    birth_date = fields.Date(required=True)


class IdOnly(BaseSchema):
    id = fields.Integer()


class CandidateOut(BaseSchema):
    id = fields.Integer()
    first_name = fields.String()
    last_name = fields.String(metadata={"description": "nom de naissance"})
    birth_date = fields.Date()
    sex = fields.String(allow_none=True, metadata={"enum": list(candidates.SEXES)})
    usage_name = fields.String(allow_none=True)
    other_first_names = ComputedList(fields.String(), compute=lambda c: list(c.other_first_names or []))
    birth_place_code = fields.String(allow_none=True)
    birth_place = fields.String(allow_none=True)
    birth_country = fields.String(allow_none=True)
    cpf_missing = fields.List(fields.String(), metadata={
        "description": "ce que le registre CPF attend encore de l'identité du titulaire (vide : complète)"})
    has_issued_record = fields.Boolean(metadata={
        "description": "une décision du jury est rendue : l'état civil ne se modifie plus que par une "
                       "rectification du secrétariat (R15)"})
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
        candidate = access.get_candidate_for(_me(), candidate_id)
        audit.record_read("GET /api/v1/candidates/{id}", candidate.id)
        return candidate

    @roles_required("entreprise", "secretariat")
    @blp.arguments(CandidatePatchIn)
    @blp.response(200, CandidateOut)
    @blp.alt_response(409, response="CONFLICT", description="L'état civil figure sur un document délivré : seul "
                      "le secrétariat le rectifie (R15) ; ou un autre candidat de l'établissement a déjà cette "
                      "identité (R12).")
    def patch(self, data, candidate_id):
        """Modifie le candidat (les champs absents restent). Après une décision du jury, l'état civil (noms,
        date de naissance, sexe, lieu de naissance) ne change plus que par une rectification du secrétariat,
        avec son motif, qui délivre à nouveau les documents (R15)."""
        candidate = access.get_candidate_for(_me(), candidate_id)
        reason = data.pop("reason", None)
        rectify = None
        if _me().is_secretariat:
            def rectify(changes):
                from app.jury import record  # the secretariat's rectification reissues the documents (R15)

                record.rectify_identity(candidate, changes, reason, _me())
        return candidates.update_candidate(candidate, _me(), rectify=rectify, reason=reason, **data)
