"""Business errors raised by services and the workflow, mapped to HTTP by the views and the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class DomainError(Exception):
    """A refusal with a French message for the user; `errors` maps a field to its messages."""

    status_code = 422

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    @classmethod
    def for_field(cls, field: str, message: str) -> DomainError:
        return cls(message, {field: [message]})


class ValidationFailed(DomainError):
    """Invalid field values (422)."""


class RuleViolation(DomainError):
    """A rule of the branch (R1–R12) is not met (422)."""


class Conflict(DomainError):
    """The action does not fit the current state, or the object already exists (409)."""

    status_code = 409


class NotFound(DomainError):
    status_code = 404


class Gone(DomainError):
    """A one-time link already used or expired (410)."""

    status_code = 410


class TooLarge(DomainError):
    status_code = 413


class RefusedAction(Exception):
    """A refused action posted from a page that answers by going back to it: the app's error handler
    rolls the transaction back, flashes the French message and redirects (303) to `location`. Views
    raise it (through `refusal_goes_back_to`) instead of rolling back themselves."""

    def __init__(self, error: DomainError, location: str):
        super().__init__(error.message)
        self.error = error
        self.message = error.message
        self.location = location


@contextmanager
def refusal_goes_back_to(location: str) -> Iterator[None]:
    """`with refusal_goes_back_to(url): service(...)`: a DomainError becomes a RefusedAction to `url`."""
    try:
        yield
    except DomainError as error:
        raise RefusedAction(error, location) from error
