"""Base form: CSRF on, WTForms' built-in French messages."""

from __future__ import annotations

from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    class Meta:
        locales = ["fr_FR", "fr"]

    def add_domain_errors(self, error) -> None:
        """Ties the messages of a DomainError to the fields they name (others go to form_errors)."""
        placed = False
        for name, messages in error.errors.items():
            field = getattr(self, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors) + list(messages)
                placed = True
        if not placed:
            self.form_errors.append(error.message)
