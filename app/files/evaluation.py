"""The evaluation step: the job assessor's one-time link and observations (R3), the assessor's draft
inside the results window (R5), the company's email once both evaluators' comments are in (R4) and
the submission (R6, guards in the workflow). Operations flush, never commit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.accounts import services as accounts
from app.core import audit
from app.core.clock import now
from app.core.errors import Conflict, Gone, RuleViolation, ValidationFailed
from app.core.links import SingleUseLinks
from app.core.validation import parse_date, required_text
from app.extensions import db
from app.files import notifications, workflow
from app.files.models import (
    CandidateFile,
    Evaluation,
    EvaluationResult,
    FileStatus,
    JobAssessorInvitation,
    JobAssessorObservation,
)

JOB_ASSESSOR_INVITATION_DAYS = 30
JOB_ASSESSOR_LINKS = SingleUseLinks(
    JobAssessorInvitation, unknown="Ce lien d'invitation n'existe pas.",
    used="Vos observations ont déjà été enregistrées : ce lien ne peut servir qu'une fois.",
    replaced="Ce lien a été remplacé par une invitation plus récente : utilisez le dernier email reçu.",
    expired=f"Ce lien a expiré (valable {JOB_ASSESSOR_INVITATION_DAYS} jours). Demandez à l'évaluateur habilité "
            "de vous inviter à nouveau.")


def _require_evaluation_step(file: CandidateFile, what: str) -> None:
    if file.status != FileStatus.EN_ATTENTE_EVALUATION:
        raise Conflict(f"{what} n'est possible que lorsque le dossier est « En attente d'évaluation » "
                       f"(statut actuel : « {file.status_label} »).", {"status": [file.status]})


def invite_job_assessor(file: CandidateFile, actor, *, email, first_name, last_name) -> tuple[JobAssessorInvitation, str]:
    """R3: a single-use link (30 days) emailed to the job assessor. A new invitation replaces the
    previous live one."""
    _require_evaluation_step(file, "L'invitation de l'évaluateur métier")
    first_name = required_text(first_name, "first_name", "Le prénom de l'évaluateur métier")
    last_name = required_text(last_name, "last_name", "Le nom de l'évaluateur métier")
    address = accounts.check_email(email, "email")
    invitation, token = JOB_ASSESSOR_LINKS.issue(
        timedelta(days=JOB_ASSESSOR_INVITATION_DAYS), [JobAssessorInvitation.file_id == file.id],
        file=file, email=address, first_name=first_name, last_name=last_name,
        invited_by_id=getattr(actor, "id", None))
    notifications.job_assessor_invited(invitation, token)
    audit.record("job_assessor.invite", actor, file, email=address)
    return invitation, token


def job_assessor_invitation(token: str) -> JobAssessorInvitation:
    """The live invitation behind a link: unknown 404; spent, replaced or expired 410; 410 too once the
    file's evaluation step is over."""
    invitation = JOB_ASSESSOR_LINKS.find(token)
    if invitation.file.status != FileStatus.EN_ATTENTE_EVALUATION:
        raise Gone("L'évaluation de ce dossier est close : les observations ne peuvent plus être saisies.")
    return invitation


def observations_window_notice(invitation: JobAssessorInvitation) -> str | None:
    """R5b: why the link does not take observations today (before or after the window), else None."""
    return next(iter(workflow.observations_window_problems(invitation.file).values()), None)


def submit_job_assessor_observations(token: str, observations: dict[str, str],
                                     general_comment: str | None = None) -> JobAssessorInvitation:
    """The job assessor's observations, one per competence of the file. The link is spent by ONE
    conditional UPDATE: of two simultaneous submissions exactly one succeeds, the other gets 410.
    Accepted only inside the R5b window (interview day … +8 days), else 422 saying when."""
    invitation = job_assessor_invitation(token)
    file = invitation.file
    window = workflow.observations_window_problems(file)
    if window:
        raise RuleViolation(window["observations"], {k: [v] for k, v in window.items()})
    by_code = {c.code.upper(): c for c in file.competences}
    cleaned = {str(code).strip().upper(): (comment or "").strip() for code, comment in (observations or {}).items()}
    unknown = [code for code in cleaned if code not in by_code]
    if unknown:
        raise ValidationFailed.for_field(
            "observations", f"Compétence(s) {', '.join(unknown)} absente(s) de ce dossier.")
    missing = {f"observation_{c.code}": f"L'observation sur la compétence {c.code} n'est pas saisie."
               for c in file.competences if not cleaned.get(c.code.upper())}
    if missing:
        raise ValidationFailed("Saisissez une observation pour chaque compétence : "
                               + " ".join(missing.values()), {k: [v] for k, v in missing.items()})
    JOB_ASSESSOR_LINKS.spend(invitation, general_comment=(general_comment or "").strip() or None)
    for code, competence in by_code.items():
        invitation.observations.append(JobAssessorObservation(competence=competence, comment=cleaned[code]))
    db.session.flush()
    db.session.refresh(file, ["invitations"])
    audit.record("job_assessor.observations", None, file, invitation_id=invitation.id)
    notify_comments_if_complete(file)
    return invitation


def assessor_comments_complete(file: CandidateFile) -> bool:
    results = {r.competence_id: r for r in file.evaluation.results} if file.evaluation else {}
    return bool(file.competences) and all(
        c.id in results and (results[c.id].comment or "").strip() for c in file.competences
    )


def notify_comments_if_complete(file: CandidateFile) -> bool:
    """R4: once both evaluators' comments are in, the company gets ONE email (conditional UPDATE)."""
    evaluation = file.evaluation
    if evaluation is None or evaluation.comments_notified_at is not None:
        return False
    if not (assessor_comments_complete(file) and file.job_assessor_observations_in):
        return False
    claimed = db.session.execute(
        update(Evaluation)
        .where(Evaluation.id == evaluation.id, Evaluation.comments_notified_at.is_(None))
        .values(comments_notified_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    db.session.refresh(evaluation)
    notifications.comments_in(file)
    return True


def _parse_acquired(value, code: str):
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "acquis", "oui"}:
        return True
    if text in {"0", "false", "non_acquis", "non acquis", "non"}:
        return False
    raise ValidationFailed.for_field(f"results.{code}", f"Résultat invalide pour la compétence {code} : "
                                                        "acquis ou non acquis.")


def save_evaluation(file: CandidateFile, actor, *, interview_date, results: list[dict],
                    candidate_observations: str | None = None) -> Evaluation:
    """A draft of the evaluation, accepted only inside the R5 window (interview day … +8 days)."""
    _require_evaluation_step(file, "La saisie de l'évaluation")
    interview = parse_date(interview_date, "interview_date", "La date de l'entretien")
    window = workflow.results_window_problems(file, interview)
    if window:
        raise RuleViolation(next(iter(window.values())), {k: [v] for k, v in window.items()})
    by_code = {c.code.upper(): c for c in file.competences}
    parsed: dict[int, tuple[bool | None, str | None]] = {}
    for entry in results or []:
        code = str(entry.get("competence_code") or "").strip().upper()
        if code not in by_code:
            raise ValidationFailed.for_field(
                "results", f"La compétence « {code or '?'} » ne fait pas partie de ce dossier.")
        parsed[by_code[code].id] = (_parse_acquired(entry.get("acquired"), code),
                                    (entry.get("comment") or "").strip() or None)
    evaluation = file.evaluation
    if evaluation is None:
        evaluation = Evaluation(file=file)
        db.session.add(evaluation)
    evaluation.interview_date = interview
    evaluation.candidate_observations = (candidate_observations or "").strip() or None
    existing = {r.competence_id: r for r in evaluation.results}
    for competence_id, (acquired, comment) in parsed.items():
        result = existing.get(competence_id)
        if result is None:
            result = EvaluationResult(competence_id=competence_id)
            evaluation.results.append(result)
        result.acquired, result.comment = acquired, comment
    db.session.flush()
    db.session.refresh(evaluation, ["results"])
    audit.record("evaluation.save", actor, file)
    notify_comments_if_complete(file)
    return evaluation


def submit_evaluation(file: CandidateFile, actor) -> CandidateFile:
    """R3, R5, R6 are the workflow's guards; the file moves to `validation_evaluation`."""
    workflow.fire(file, "submit_evaluation", actor)
    file.evaluation.submitted_at = now()
    db.session.flush()
    return file
