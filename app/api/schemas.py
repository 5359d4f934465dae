"""Marshmallow base: French error messages for every field type, unknown fields refused."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields

FRENCH_MESSAGES = {
    "required": "Ce champ est obligatoire.",
    "null": "Ce champ ne peut pas être vide (null).",
    "validator_failed": "Valeur invalide.",
}
FRENCH_BY_TYPE = {
    fields.String: {"invalid": "Doit être une chaîne de caractères."},
    fields.Integer: {"invalid": "Doit être un nombre entier.", "too_large": "Nombre trop grand."},
    fields.Boolean: {"invalid": "Doit valoir true ou false."},
    fields.Date: {"invalid": "Date invalide : format attendu AAAA-MM-JJ.", "format": "Date invalide : format attendu AAAA-MM-JJ."},
    fields.Email: {"invalid": "L'adresse email n'est pas valide."},
    fields.List: {"invalid": "Doit être une liste."},
    fields.Nested: {"type": "Doit être un objet.", "invalid": "Doit être un objet."},
    fields.Dict: {"invalid": "Doit être un objet."},
}


def _frenchify() -> None:
    fields.Field.default_error_messages = {**fields.Field.default_error_messages, **FRENCH_MESSAGES}
    for field_type, messages in FRENCH_BY_TYPE.items():
        field_type.default_error_messages = {**field_type.default_error_messages, **messages}


_frenchify()


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "Champ inconnu.",
        "type": "Le corps de la requête doit être un objet JSON.",
    }
