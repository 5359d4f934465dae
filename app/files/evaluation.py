"""The evaluation step: the job assessor's one-time link and observations (R3), the assessor's draft
inside the results window (R5), the company's email once both evaluators' comments are in (R4) and
the submission (R6, guards in the workflow). Operations flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update

from app.accounts import services as accounts
from app.core import audit
from app.core.clock import now
from app.core.errors import Conflict, DomainError, Gone, NotFound, RuleViolation, ValidationFailed
from app.core.links import SingleUseLinks
from app.core.templating import day_in_paris
from app.core.validation import parse_date, required_text
from app.extensions import db
from app.files import notifications, services, workflow
from app.files.models import (
    DECISION_STATUSES,
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


def assessor_list_groups() -> list[tuple[str, str, object]]:
    """The assessor's list, by heading (key, title, SQL condition): what waits for their evaluation; the other
    open files (not yet confirmed, evaluation transmitted, registered to a jury, and a decision not yet
    published, which the assessor still sees as « Inscription au jury »); the closed ones."""
    f = CandidateFile
    decided = f.status.in_([s.value for s in DECISION_STATUSES])
    return [
        ("a-evaluer", "Dossiers à évaluer", f.status == FileStatus.EN_ATTENTE_EVALUATION.value),
        ("autres", "Autres dossiers en cours", or_(
            f.status.in_([FileStatus.EN_COURS_INSCRIPTION.value, FileStatus.VALIDATION_EVALUATION.value,
                          FileStatus.INSCRIPTION_JURY.value]),
            and_(decided, ~f.is_published))),
        ("clos", "Dossiers clos", or_(f.status == FileStatus.ABANDONNE.value, and_(decided, f.is_published))),
    ]


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


def resend_job_assessor_invitation(file: CandidateFile, actor, invitation_id) -> tuple[JobAssessorInvitation, str]:
    """« Relancer »: the pending invitation goes again to the same person with a new link (30 days from now);
    the old link dies (replaced). Only the file's current invitation, while its observations are not in."""
    _require_evaluation_step(file, "La relance de l'évaluateur métier")
    invitation = next((i for i in file.invitations if str(i.id) == str(invitation_id).strip()), None)
    if invitation is None:
        raise NotFound("Cette invitation de l'évaluateur métier n'existe pas pour ce dossier.")
    if invitation.used_at is not None:
        raise Conflict(f"{invitation.full_name} a déjà transmis ses observations "
                       f"(le {day_in_paris(invitation.used_at)}) : il n'y a rien à relancer.",
                       {"invitation": ["Observations déjà reçues."]})
    if invitation.replaced_at is not None:
        raise Conflict("Cette invitation a été remplacée par une plus récente : relancez la dernière.",
                       {"invitation": ["Invitation remplacée."]})
    renewed, token = JOB_ASSESSOR_LINKS.issue(
        timedelta(days=JOB_ASSESSOR_INVITATION_DAYS), [JobAssessorInvitation.file_id == file.id],
        file=file, email=invitation.email, first_name=invitation.first_name, last_name=invitation.last_name,
        invited_by_id=getattr(actor, "id", None))
    db.session.refresh(file, ["invitations"])
    notifications.job_assessor_reminded(renewed, token)
    audit.record("job_assessor.resend", actor, file, email=invitation.email, replaced_invitation_id=invitation.id)
    return renewed, token


@dataclass(frozen=True)
class InvitationState:
    """What the assessor sees of the job assessor's invitation: to whom, sent when, reminded when (the
    resends to the same address), observations received when, or expired."""

    invitation: JobAssessorInvitation
    sent_at: datetime
    resent_at: list[datetime]
    received_at: datetime | None
    expired: bool

    @property
    def pending(self) -> bool:
        return self.received_at is None

    @property
    def state(self) -> str:
        """`observations_recues`, `expiree`, `relancee` or `envoyee` (the API's and the page's word)."""
        if self.received_at is not None:
            return "observations_recues"
        if self.expired:
            return "expiree"
        return "relancee" if self.resent_at else "envoyee"


def invitation_state(file: CandidateFile) -> InvitationState | None:
    """The state of the file's current invitation (None before any): the first email to this address is
    « envoyée le », each later one a « relance »."""
    current = file.current_invitation
    if current is None:
        return None
    chain: list[JobAssessorInvitation] = []
    for invitation in reversed(file.invitations):
        if invitation.email != current.email or (invitation is not current and invitation.used_at is not None):
            break
        chain.append(invitation)
    chain.reverse()
    return InvitationState(
        invitation=current, sent_at=chain[0].created_at, resent_at=[i.created_at for i in chain[1:]],
        received_at=current.used_at, expired=current.used_at is None and current.expires_at <= now())


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


def save_submitted_evaluation(file: CandidateFile, actor, *, interview_date=None, results=None,
                              candidate_observations=None) -> Evaluation:
    """The API's « transmettre » with the evaluation in its body: what is given is saved over the draft (what
    is not given is kept: the interview date of the draft, else the planned one), before the transmission."""
    current = file.evaluation
    if candidate_observations is None and current is not None:
        candidate_observations = current.candidate_observations
    return save_evaluation(file, actor, interview_date=interview_date or file.interview_date, results=results or [],
                           candidate_observations=candidate_observations)


def submit_evaluation(file: CandidateFile, actor) -> CandidateFile:
    """R3, R5, R6 are the workflow's guards; the file moves to `validation_evaluation`."""
    workflow.fire(file, "submit_evaluation", actor)
    file.evaluation.submitted_at = now()
    db.session.flush()
    return file


@dataclass(frozen=True)
class EvaluationFormOutcome:
    """What the assessor's one form did: the draft is saved (and the guide stored); `transmitted`, or the
    transmission's refusals by field (the draft stays saved)."""

    evaluation: Evaluation
    transmitted: bool
    refusals: dict[str, str]
    guide_stored: bool = False


def save_evaluation_form(file: CandidateFile, actor, *, interview_date, results: list[dict],
                         candidate_observations: str | None = None, guide=None,
                         transmit: bool = False) -> EvaluationFormOutcome:
    """The assessor's evaluation form in one step, so that nothing typed is lost: the draft is saved (R5),
    then the evaluation guide attached to the form is stored, then, if asked, the evaluation is transmitted
    (R3, R6). A refused draft or guide raises (nothing written); a refused transmission does not: the draft
    and the guide stay saved and `refusals` names every missing item."""
    saved = save_evaluation(file, actor, interview_date=interview_date, results=results,
                            candidate_observations=candidate_observations)
    guide_stored = guide is not None and bool(getattr(guide, "filename", None))
    if guide_stored:
        try:
            services.upload_document(actor, kind="guide_evaluation", upload=guide, candidate=file.candidate,
                                     file=file)
        except DomainError as error:
            error.errors = {("guide" if name == "file" else name): messages for name, messages in error.errors.items()}
            raise
    if not transmit:
        return EvaluationFormOutcome(saved, False, {}, guide_stored)
    refusals = workflow.submit_evaluation_problems(file)
    if refusals:
        return EvaluationFormOutcome(saved, False, refusals, guide_stored)
    submit_evaluation(file, actor)
    return EvaluationFormOutcome(saved, True, {}, guide_stored)
