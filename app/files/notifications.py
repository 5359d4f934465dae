"""Emails of the files area, queued in the outbox in the same transaction as the change."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.accounts.models import Role, User
from app.core.mail import queue_email
from app.extensions import db
from app.files import workflow
from app.files.models import CandidateFile


def _base_url() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def company_recipients(file: CandidateFile) -> list[str]:
    """docs/api.md: every active `entreprise` user of the establishment, plus its contact email."""
    emails = list(db.session.scalars(select(User.email).where(
        User.establishment_id == file.establishment_id, User.role == Role.ENTREPRISE, User.active.is_(True))))
    if file.establishment.contact_email:
        emails.append(file.establishment.contact_email)
    return emails


@workflow.on("confirm_assessor")
def assessor_confirmed(file: CandidateFile, event: str, from_status: str, actor, data: dict) -> None:
    """R2: the assessor learns that the company confirmed them for this file."""
    assessor = file.assessor
    queue_email(
        "assessor_confirmed", assessor.user.email,
        f"Certifia : vous êtes confirmé comme évaluateur de {file.candidate.full_name} ({file.cqp.code})",
        "file_assessor_confirmed", file=file, f=file, assessor=assessor,
        link=f"{_base_url()}/dossiers/{file.id}",
    )


def job_assessor_invited(invitation, token: str) -> None:
    file = invitation.file
    queue_email(
        "job_assessor_invitation", invitation.email,
        f"Certifia : vos observations sur les compétences de {file.candidate.full_name}",
        "file_job_assessor_invitation", file=file, f=file, invitation=invitation,
        link=f"{_base_url()}/invitations/{token}",
    )


def comments_in(file: CandidateFile) -> None:
    """R4: the company learns that both evaluators have entered their comments."""
    queue_email(
        "evaluators_comments_in", company_recipients(file),
        f"Certifia : les évaluateurs ont saisi leurs commentaires ({file.candidate.full_name}, {file.cqp.code})",
        "file_comments_in", file=file, f=file, link=f"{_base_url()}/dossiers/{file.id}",
    )


def candidate_invited(candidate, user, token: str) -> None:
    queue_email(
        "candidate_invitation", user.email,
        f"Certifia : {candidate.establishment.name} vous invite à compléter votre dossier CQP",
        "file_candidate_invitation", candidate=candidate, link=f"{_base_url()}/invitation-candidat/{token}",
    )


def job_assessor_reminded(invitation, token: str) -> None:
    """« Relancer »: the job assessor gets a new link (the previous one no longer works)."""
    file = invitation.file
    interview = file.interview_date
    queue_email(
        "job_assessor_reminder", invitation.email,
        f"Certifia : relance, vos observations sur les compétences de {file.candidate.full_name}",
        "file_job_assessor_reminder", file=file, f=file, invitation=invitation,
        window=workflow.results_window(interview) if interview else None,
        link=f"{_base_url()}/invitations/{token}",
    )
