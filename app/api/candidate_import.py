"""POST /candidates/import: a company's HR export (CSV or XLSX) turned into candidates, all or none; on the files
area's blueprint, next to POST /candidates."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_login import current_user
from marshmallow import fields

from app.api.files import blp
from app.api.problems import problem
from app.api.schemas import BaseSchema
from app.core.errors import ValidationFailed
from app.core.permissions import roles_required
from app.core.uploads import max_upload_bytes
from app.files import candidate_import


class CandidateImportOut(BaseSchema):
    created = fields.Integer()
    already_present = fields.Integer(metadata={"description": "lignes d'un candidat que l'établissement a déjà "
                                                              "(même nom, prénom et date de naissance, R12)"})


class RowErrorOut(BaseSchema):
    row = fields.Integer(metadata={"description": "numéro de ligne du fichier (l'en-tête est la ligne 1)"})
    field = fields.String()
    message = fields.String()


def _file_bytes() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed.for_field("file", "Le fichier est obligatoire (champ « file » du formulaire "
                                                 "multipart) : CSV ou XLSX.")
    data = upload.read(max_upload_bytes() + 1)
    if len(data) > max_upload_bytes():
        raise ValidationFailed.for_field("file", f"Le fichier dépasse {max_upload_bytes() // (1024 * 1024)} Mo.")
    return data, upload.filename


@blp.route("/candidates/import")
class CandidatesImport(MethodView):
    @roles_required("entreprise")
    @blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}})
    @blp.response(201, CandidateImportOut)
    @blp.alt_response(422, schema=RowErrorOut(many=True), description="`errors`: chaque erreur de chaque ligne "
                      "({row, field, message}) ; aucun candidat créé.")
    def post(self):
        """Crée les candidats d'un export RH (CSV séparé par ; ou , en UTF-8 ou Windows-1252, ou XLSX ; première
        ligne : les noms des champs des candidats ou leurs libellés français). Tout ou rien ; les doublons (R12)
        sont comptés comme déjà présents."""
        me = current_user._get_current_object()
        try:
            data, filename = _file_bytes()
            result = candidate_import.import_candidates(me.establishment, me, data, filename)
        except candidate_import.ImportRefused as refused:
            return problem(422, refused.message, errors=[e.as_dict() for e in refused.row_errors])
        except ValidationFailed as error:  # the file itself (empty, unreadable, too long): no row to name
            return problem(422, error.message, errors=[{"row": None, "field": name, "message": message}
                                                       for name, messages in error.errors.items()
                                                       for message in messages])
        return {"created": len(result.to_create), "already_present": len(result.already_present)}
