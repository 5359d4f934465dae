"""Marshmallow base: French error messages for every field type, unknown fields refused; what the
answers' schemas share (the viewer an answer is dumped for, fields computed from the object)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from flask_login import current_user
from marshmallow import RAISE, Schema, fields, missing
from marshmallow.experimental.context import Context

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


class CodeTitle(BaseSchema):
    """A CQP or a competence, named: {code, title}."""

    code = fields.String()
    title = fields.String()


# ---------------------------------------------------------------- answers: who they are for, computed fields


class AnswerContext(TypedDict):
    viewer: Any  # the User the answer is dumped for


def dump_for(viewer, schema: Schema, obj) -> dict:
    """`schema.dump(obj)` as `viewer` may see it: the fields that depend on who reads call `viewer()`."""
    with Context[AnswerContext](AnswerContext(viewer=viewer)):
        return schema.dump(obj)


def viewer():
    """Who the answer being dumped is for: the user named by `dump_for`, else the request's user (a
    handler's return value is dumped by `@blp.response` after the handler, for that user)."""
    context = Context[AnswerContext].get(None)
    if context is not None:
        return context["viewer"]
    return current_user._get_current_object()


class _Computed:
    """A field whose value is `compute(obj)` instead of an attribute of `obj`. Mixed into a field class,
    which types it in the OpenAPI description."""

    def __init__(self, *args, compute: Callable[[Any], Any], **kwargs):
        super().__init__(*args, **kwargs)
        self.compute = compute

    def get_value(self, obj, attr, accessor=None, default=missing):
        return self.compute(obj)


class ComputedString(_Computed, fields.String):
    pass


class ComputedNested(_Computed, fields.Nested):
    pass


class ComputedDate(_Computed, fields.Date):
    pass


class ComputedDict(_Computed, fields.Dict):
    pass


class ComputedList(_Computed, fields.List):
    pass
