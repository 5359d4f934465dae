"""Marshmallow base: French error messages for every field type, unknown fields refused; what the
answers' schemas share (the viewer an answer is dumped for, fields computed from the object).

Every field of a BaseSchema gets, when bound, the input-safety checks (app/core/input_safety.py): no
control character in any text, integers within their column (32-bit unless the column is a BigInteger),
dates within 1900–2100, strings no longer than their column when the schema names its model
(`class Meta(BaseSchema.Meta): model = Candidate`). They are validators, so that a 422 names every invalid
field at once and the OpenAPI description shows them (maxLength, minimum/maximum, x-minimum/x-maximum
for dates). Timestamps are dumped as RFC 3339 with the offset of Paris."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any, TypedDict

from flask_login import current_user
from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate
from marshmallow.experimental.context import Context
from sqlalchemy import BigInteger, String

from app.core import input_safety
from app.core.templating import PARIS

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


class OffsetDateTime(fields.DateTime):
    """A timestamp as RFC 3339 with the offset of Paris (`2026-12-01T10:00:00+01:00`): the database keeps naive
    UTC. BaseSchema makes every plain DateTime one of these."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(PARIS).isoformat(timespec="seconds")


def _no_control_characters(value) -> None:
    message = input_safety.control_message(value)
    if message:
        raise ValidationError(message)


class DateRange(validate.Range):
    """1900–2100 (app/core/input_safety.py), saying which end is passed; shown as x-minimum / x-maximum."""

    def __init__(self):
        super().__init__(input_safety.MIN_DATE, input_safety.MAX_DATE)

    def __call__(self, value):
        problem = input_safety.date_problem(value)
        if problem:
            raise ValidationError(problem)
        return value


def _has(field: fields.Field, kind: type) -> bool:
    return any(isinstance(v, kind) for v in field.validators)


def secure_field(field: fields.Field, column=None) -> None:
    """Adds the input-safety validators to `field` (and to a list's items), `column` giving the bounds."""
    if type(field) is fields.DateTime:
        field.__class__ = OffsetDateTime
    enum = field.metadata.get("enum")
    if field.allow_none and enum is not None and None not in enum:
        field.metadata = {**field.metadata, "enum": [*enum, None]}  # a nullable closed list lists null too
    if isinstance(field, fields.Nested):
        return  # its own BaseSchema checks its fields
    if isinstance(field, fields.List):
        secure_field(field.inner)
    if _no_control_characters not in field.validators:
        field.validators.append(_no_control_characters)
    if isinstance(field, fields.Integer) and not _has(field, validate.Range):
        wide = column is not None and isinstance(column.type, BigInteger)
        low, high = ((input_safety.INT64_MIN, input_safety.INT64_MAX) if wide
                     else (input_safety.INT32_MIN, input_safety.INT32_MAX))
        field.validators.append(validate.Range(
            low, high, error=f"Doit être un nombre entier compris entre {low} et {high}."))
    elif isinstance(field, fields.Date) and not isinstance(field, fields.DateTime) and not _has(field, validate.Range):
        field.validators.append(DateRange())
    elif (isinstance(field, fields.String) and column is not None and isinstance(column.type, String)
          and column.type.length and not _has(field, validate.Length)):
        field.validators.append(validate.Length(max=column.type.length, error="{max} caractères au plus."))


def one_of(choices, label: str) -> validate.OneOf:
    """A closed list: published as an `enum` in the OpenAPI description, its 422 names the accepted values."""
    values = list(choices)
    return validate.OneOf(values, error=f"{label} doit valoir l'une de ces valeurs : {', '.join(values)}.")


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": "Champ inconnu.",
        "type": "Le corps de la requête doit être un objet JSON.",
    }

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        model = getattr(self.Meta, "model", None)
        table = getattr(model, "__table__", None)
        column = table.columns.get(field_obj.attribute or field_name) if table is not None else None
        secure_field(field_obj, column)


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
