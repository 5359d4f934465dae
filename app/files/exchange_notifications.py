"""Emails of the exchanges on a file (correction requests, the thread), queued in the outbox in the same
transaction as the change."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.accounts.models import Role, User
from app.core.mail import queue_email
from app.extensions import db
from app.files.exchange_models import CORRECTABLE_FIELDS, CorrectionRequest, FileMessage
from app.files.models import CandidateFile
from app.files.notifications import company_recipients

__all__ = ["company_recipients", "correction_requested", "correction_resolved", "file_relaunched", "message_posted",
           "secretariat_recipients"]


def _link(file: CandidateFile, anchor: str = "") -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/dossiers/{file.id}{anchor}"


def secretariat_recipients() -> list[str]:
    return list(db.session.scalars(select(User.email).where(User.role == Role.SECRETARIAT.value,
                                                            User.active.is_(True))))


def correction_requested(file: CandidateFile, correction: CorrectionRequest) -> None:
    """The company learns what to correct; the workflow waits for its answer."""
    queue_email("correction_requested", company_recipients(file),
                f"Certifia : correction demandée sur le dossier de {file.candidate.full_name} ({file.cqp.code})",
                "file_correction_requested", file=file, f=file, correction=correction,
                fields=[CORRECTABLE_FIELDS.get(name, name) for name in correction.fields or []],
                link=_link(file, "#correction"))


def correction_resolved(file: CandidateFile, correction: CorrectionRequest) -> None:
    """The requester (the secretariat's user or the assessor) reads the company's answer."""
    requester = correction.requested_by
    recipients = [requester.email] if requester is not None and requester.active else secretariat_recipients()
    queue_email("correction_resolved", recipients,
                f"Certifia : réponse à votre demande de correction ({file.candidate.full_name}, {file.cqp.code})",
                "file_correction_resolved", file=file, f=file, correction=correction, link=_link(file, "#correction"))


def message_posted(file: CandidateFile, message: FileMessage, recipients: list[str]) -> None:
    queue_email("file_message", recipients,
                f"Certifia : nouveau message sur le dossier de {file.candidate.full_name} ({file.cqp.code})",
                "file_message", file=file, f=file, message=message, link=_link(file, "#echanges"))


def file_relaunched(file: CandidateFile, actor, waiting, days: int) -> None:
    """« Relancer »: whoever the file waits for learns that the company wants it to go on."""
    queue_email("file_relaunched", waiting.emails,
                f"Certifia : relance du dossier de {file.candidate.full_name} ({file.cqp.code})",
                "file_relaunched", file=file, f=file, actor=actor, waiting=waiting, days=days, link=_link(file))
