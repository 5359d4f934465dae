"""Base form: CSRF on, WTForms' built-in French messages, the input-safety ranges; the error summary of a
refused form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_wtf import FlaskForm

from app.core import input_safety


def _range_errors(field) -> list[str]:
    """What app/core/input_safety.py refuses in a value WTForms accepted: an integer beyond 32 bits (the
    column's), a date outside 1900–2100, a control character (a form built outside a request)."""
    data = field.data
    if isinstance(data, bool):
        return []
    if isinstance(data, int) and not input_safety.int32(data):
        return [input_safety.INTEGER_MESSAGE]
    if isinstance(data, list) and any(isinstance(v, int) and not input_safety.int32(v) for v in data):
        return [input_safety.INTEGER_MESSAGE]
    if isinstance(data, date) and input_safety.date_problem(data):
        return [input_safety.date_problem(data)]
    message = input_safety.control_message(data) if isinstance(data, str | list) else None
    return [message] if message else []


class BaseForm(FlaskForm):
    class Meta:
        locales = ["fr_FR", "fr"]

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs) -> None:
        """A date or integer out of range becomes, as soon as the form reads it, what an unreadable value is:
        no data and a processing error, so that a view looking at `form.date.data` before validating (to ask
        a confirmation) never adds days to the year 9999."""
        super().process(formdata, obj, data, extra_filters, **kwargs)
        for field in _leaves(self):
            value = field.data
            out_of_range = not isinstance(value, bool) and (
                (isinstance(value, int) and not input_safety.int32(value))
                or (isinstance(value, date) and input_safety.date_problem(value)))
            if out_of_range:
                field.process_errors.append(_range_errors(field)[0])
                field.data = None

    def validate(self, extra_validators=None) -> bool:
        """WTForms' validation, then the input-safety ranges on every field, so that each invalid field shows
        its message at once."""
        valid = super().validate(extra_validators)
        for field in _leaves(self):
            errors = [message for message in _range_errors(field) if message not in field.errors]
            if errors:
                field.errors = list(field.errors) + errors
                valid = False
        return valid

    def add_domain_errors(self, error) -> None:
        """Ties the messages of a DomainError to the fields they name (others go to form_errors)."""
        placed = False
        for name, messages in error.errors.items():
            field = getattr(self, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors) + [m for m in messages if m not in field.errors]
                placed = True
        if not placed and error.message not in self.form_errors:
            self.form_errors.append(error.message)


@dataclass(frozen=True)
class ErrorItem:
    """One line of a form's error summary: the id of the field to link to (None for a message of the
    whole form or of a hidden field), the field's label, its messages."""

    anchor: str | None
    label: str
    messages: tuple[str, ...]


_UNLINKED = {"CSRFTokenField", "HiddenField"}


def _field_items(field) -> list[ErrorItem]:
    if not field.errors:
        return []
    if field.type in ("FormField", "FieldList"):
        return [item for sub in field for item in _field_items(sub)]
    messages = tuple(str(m) for m in field.errors if isinstance(m, str))
    if not messages:
        return []
    if field.type in _UNLINKED:
        return [ErrorItem(None, "", messages)]
    return [ErrorItem(field.id, field.label.text.strip(), messages)]


def _leaves(form):
    for field in form:
        if field.type in ("FormField", "FieldList"):
            yield from _leaves(field)
        else:
            yield field


def error_summary(form) -> list[ErrorItem]:
    """Every error of a form at once, in the order of the page: the form's own messages first, then
    each invalid field's. For the summary at the top of a refused form (templates/macros/forms.html)."""
    if form is None:
        return []
    items = [ErrorItem(None, "", (str(message),)) for message in getattr(form, "form_errors", ()) or ()]
    for field in form:
        items.extend(_field_items(field))
    return items
