"""The assessors' habilitation cycle (the OPQTECC process the branch reuses): reminders 9 months and 3 months before
the end and on the last day, a renewal request filed by the assessor with the documents the branch asks for,
examined by the secretariat, granted with a new end date or refused with a reason; emails both ways."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from app.accounts.models import Role, User
from app.core import audit
from app.core.clock import add_months, now, today
from app.core.errors import Conflict, DomainError, NotFound, RuleViolation, ValidationFailed
from app.core.mail import queue_email
from app.core.models import SentReminder
from app.core.uploads import discard, store_upload
from app.extensions import db
from app.referential.habilitation_models import HabilitationRenewal, RenewalDocument, RenewalStatus
from app.referential.models import Assessor

# What the branch asks for a renewal (OPQTECC's file: administrative file, certificates, training attestations).
RENEWAL_DOCUMENTS = {
    "dossier_administratif": "Dossier administratif",
    "attestations_formation": "Attestations de formation",
    "bilan_activite": "Bilan d'activité d'évaluateur",
}
RENEWAL_DOCUMENT_HINTS = {
    "dossier_administratif": "CV à jour, employeur, coordonnées.",
    "attestations_formation": "Formation d'évaluateur, actualisation des compétences.",
    "bilan_activite": "Les évaluations réalisées pendant l'habilitation.",
}
RENEWAL_OPENS_MONTHS = 9  # the request may be filed from 9 months before the end (the first reminder)
RENEWAL_YEARS = 4  # OPQTECC: « renouvellement tous les 4 ans », the new end date proposed to the secretariat
MAX_YEARS_AHEAD = 10
MAX_TEXT = 2000
REMINDER_KIND = "habilitation_end"
END_REMINDER_GRACE_DAYS = 30  # a missed daily run still sends the last-day reminder, never years later
STAGE_SUBJECTS = {
    "9m": "Votre habilitation d'évaluateur prend fin le {until} : pensez à la renouveler",
    "3m": "Rappel : votre habilitation d'évaluateur prend fin le {until}",
    "end": "Votre habilitation d'évaluateur arrive à échéance le {until}",
}


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def assessor_of(user) -> Assessor:
    assessor = db.session.scalar(select(Assessor).where(Assessor.user_id == user.id))
    if assessor is None:
        raise NotFound("Aucune habilitation d'évaluateur n'est liée à ce compte.")
    return assessor


def renewal_opens_on(assessor: Assessor) -> date:
    return add_months(assessor.habilitation_until, -RENEWAL_OPENS_MONTHS)


def pending_renewal(assessor: Assessor) -> HabilitationRenewal | None:
    return db.session.scalar(select(HabilitationRenewal).where(
        HabilitationRenewal.assessor_id == assessor.id, HabilitationRenewal.status == RenewalStatus.DEPOSEE.value))


def renewals_of(assessor: Assessor) -> list[HabilitationRenewal]:
    return list(db.session.scalars(select(HabilitationRenewal).where(HabilitationRenewal.assessor_id == assessor.id)
                                   .options(selectinload(HabilitationRenewal.documents))
                                   .order_by(HabilitationRenewal.id.desc())))


def proposed_until(renewal: HabilitationRenewal, on: date | None = None) -> date:
    start = max(renewal.assessor.habilitation_until, on or today())
    return add_months(start, 12 * RENEWAL_YEARS)


def _secretariat_emails() -> list[str]:
    return list(db.session.scalars(select(User.email).where(User.role == Role.SECRETARIAT.value,
                                                            User.active.is_(True))))


def _link(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def submit_renewal(user, documents: dict[str, FileStorage | None], message: str | None = None) -> HabilitationRenewal:
    """The assessor's request, with every document of RENEWAL_DOCUMENTS; the secretariat is emailed."""
    assessor = assessor_of(user)
    on = today()
    opens = renewal_opens_on(assessor)
    if on < opens:
        raise RuleViolation.for_field("habilitation_until", (
            f"Le renouvellement s'ouvre {RENEWAL_OPENS_MONTHS} mois avant la fin de votre habilitation "
            f"({_fr(assessor.habilitation_until)}), soit à partir du {_fr(opens)}."))
    current = pending_renewal(assessor)
    if current is not None:
        raise Conflict(f"Une demande de renouvellement est déjà en cours d'examen (déposée le "
                       f"{_fr(current.submitted_at.date())}).")
    message = (message or "").strip() or None
    errors: dict[str, list[str]] = {}
    if message and len(message) > MAX_TEXT:
        errors["message"] = [f"Le message dépasse {MAX_TEXT} caractères."]
    stored, summary = [], []
    for kind, label in RENEWAL_DOCUMENTS.items():
        upload = documents.get(kind)
        if upload is None or not getattr(upload, "filename", None):
            errors[kind] = ["Pièce manquante."]
            summary.append(f"{label} : pièce manquante.")
            continue
        try:
            stored.append((kind, store_upload(upload, field=kind)))
        except DomainError as error:
            errors[kind] = list(error.errors.get(kind, [error.message]))
            summary.append(f"{label} : {' '.join(errors[kind])}")
    if errors:
        for _kind, upload in stored:
            discard(upload.stored_name)
        summary += errors.get("message", [])
        raise ValidationFailed("Demande de renouvellement incomplète. " + " ".join(summary), errors)
    renewal = HabilitationRenewal(assessor=assessor, previous_until=assessor.habilitation_until, message=message,
                                  submitted_at=now())
    for kind, upload in stored:
        renewal.documents.append(RenewalDocument(kind=kind, filename=upload.filename, stored_name=upload.stored_name,
                                                 content_type=upload.content_type, size=upload.size))
    try:
        with db.session.begin_nested():  # a request filed at the same moment wins the partial unique index
            db.session.add(renewal)
    except IntegrityError:
        for _kind, upload in stored:
            discard(upload.stored_name)
        raise Conflict("Une demande de renouvellement est déjà en cours d'examen.") from None
    audit.record("habilitation.renewal_submitted", user, renewal, assessor_id=assessor.id)
    queue_email("habilitation_renewal_submitted", _secretariat_emails(),
                f"Demande de renouvellement d'habilitation : {assessor.name}", "habilitation_renewal_submitted",
                renewal=renewal, assessor=assessor, link=_link(f"/referentiel/renouvellements/{renewal.id}"))
    return renewal


def renewals_to_examine() -> list[HabilitationRenewal]:
    return list(db.session.scalars(
        select(HabilitationRenewal).options(selectinload(HabilitationRenewal.assessor).joinedload(Assessor.user),
                                            selectinload(HabilitationRenewal.documents))
        .order_by((HabilitationRenewal.status == RenewalStatus.DEPOSEE.value).desc(),
                  HabilitationRenewal.submitted_at.desc()).limit(500)))


def get_renewal(user, renewal_id) -> HabilitationRenewal:
    """The secretariat sees every request, an assessor their own; anything else does not exist (404)."""
    renewal = db.session.get(HabilitationRenewal, renewal_id) if isinstance(renewal_id, int) else None
    if renewal is None or not (user.role == Role.SECRETARIAT or renewal.assessor.user_id == user.id):
        raise NotFound("Cette demande de renouvellement n'existe pas.")
    return renewal


def get_document(renewal: HabilitationRenewal, document_id: int) -> RenewalDocument:
    for document in renewal.documents:
        if document.id == document_id:
            return document
    raise NotFound("Ce document est introuvable.")


def _decide(renewal: HabilitationRenewal, actor, status: RenewalStatus, **values) -> None:
    """One conditional UPDATE: two secretaries deciding at once, one wins, the other gets a 409."""
    done = db.session.execute(
        update(HabilitationRenewal)
        .where(HabilitationRenewal.id == renewal.id, HabilitationRenewal.status == RenewalStatus.DEPOSEE.value)
        .values(status=status.value, decided_at=now(), decided_by_id=getattr(actor, "id", None), **values)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.refresh(renewal)
        raise Conflict(f"Cette demande a déjà été examinée ({renewal.status_label.lower()} le "
                       f"{_fr(renewal.decided_at.date())}).")
    db.session.refresh(renewal)


def _check_pending(renewal: HabilitationRenewal) -> None:
    if not renewal.is_pending:
        raise Conflict(f"Cette demande a déjà été examinée ({renewal.status_label.lower()} le "
                       f"{_fr(renewal.decided_at.date())}).")


def grant_renewal(renewal: HabilitationRenewal, actor, habilitation_until: date | None) -> HabilitationRenewal:
    _check_pending(renewal)
    on = today()
    field = "habilitation_until"
    if not isinstance(habilitation_until, date):
        raise ValidationFailed.for_field(field, "La nouvelle date de fin d'habilitation est obligatoire.")
    floor = max(renewal.assessor.habilitation_until, on)
    if habilitation_until <= floor:
        raise ValidationFailed.for_field(field, (
            f"La nouvelle date de fin d'habilitation doit être postérieure au {_fr(floor)} "
            f"({'fin actuelle' if floor == renewal.assessor.habilitation_until else 'aujourd’hui'})."))
    if habilitation_until > add_months(on, 12 * MAX_YEARS_AHEAD):
        raise ValidationFailed.for_field(field, f"La nouvelle date de fin d'habilitation est à plus de "
                                                f"{MAX_YEARS_AHEAD} ans.")
    _decide(renewal, actor, RenewalStatus.ACCORDEE, granted_until=habilitation_until)
    assessor = renewal.assessor
    previous = assessor.habilitation_until
    assessor.habilitation_until = habilitation_until
    audit.record("habilitation.renewal_granted", actor, renewal, assessor_id=assessor.id,
                 previous_until=previous.isoformat(), habilitation_until=habilitation_until.isoformat())
    queue_email("habilitation_renewal_granted", assessor.user.email,
                f"Votre habilitation d'évaluateur est renouvelée jusqu'au {_fr(habilitation_until)}",
                "habilitation_renewal_decided", renewal=renewal, assessor=assessor, granted=True,
                link=_link("/evaluateur/habilitation"))
    return renewal


def refuse_renewal(renewal: HabilitationRenewal, actor, reason: str | None) -> HabilitationRenewal:
    _check_pending(renewal)
    reason = (reason or "").strip() if isinstance(reason, str) or reason is None else None
    if reason is None:
        raise ValidationFailed.for_field("reason", "Le motif du refus doit être un texte.")
    if not reason:
        raise ValidationFailed.for_field("reason", "Le motif du refus est obligatoire.")
    if len(reason) > MAX_TEXT:
        raise ValidationFailed.for_field("reason", f"Le motif du refus dépasse {MAX_TEXT} caractères.")
    _decide(renewal, actor, RenewalStatus.REFUSEE, refusal_reason=reason)
    assessor = renewal.assessor
    audit.record("habilitation.renewal_refused", actor, renewal, assessor_id=assessor.id)
    queue_email("habilitation_renewal_refused", assessor.user.email,
                "Votre demande de renouvellement d'habilitation est refusée", "habilitation_renewal_decided",
                renewal=renewal, assessor=assessor, granted=False, link=_link("/evaluateur/habilitation"))
    return renewal


# ---------------------------------------------------------------- reminders (`flask reminders send`)


def reminder_stage(assessor: Assessor, on: date) -> str | None:
    """'9m' from 9 months before the end, '3m' from 3 months before, 'end' on the last day (and a few days after
    when a daily run was missed); the latest stage reached is the one due."""
    until = assessor.habilitation_until
    if until <= on <= until + timedelta(days=END_REMINDER_GRACE_DAYS):
        return "end"
    if add_months(until, -3) <= on < until:
        return "3m"
    if add_months(until, -9) <= on < add_months(until, -3):
        return "9m"
    return None


def remind_habilitations(on: date) -> int:
    """Each stage once per end date (a renewal moves the end date: the cycle starts again). The 9- and 3-month
    reminders wait while a request is under examination; the last-day one is always sent."""
    sent = 0
    assessors = db.session.scalars(select(Assessor).join(Assessor.user).where(
        User.active.is_(True),
        Assessor.habilitation_until >= on - timedelta(days=END_REMINDER_GRACE_DAYS),
        Assessor.habilitation_until <= add_months(on, 9) + timedelta(days=3)).order_by(Assessor.id))
    for assessor in assessors:
        stage = reminder_stage(assessor, on)
        if stage is None:
            continue
        pending = pending_renewal(assessor)
        if pending is not None and stage != "end":
            continue
        key = f"assessor:{assessor.id}:{assessor.habilitation_until.isoformat()}:{stage}"
        if not SentReminder.first_time(REMINDER_KIND, key):
            continue
        queue_email("reminder_habilitation", assessor.user.email,
                    STAGE_SUBJECTS[stage].format(until=_fr(assessor.habilitation_until)),
                    "jury_reminder_habilitation", assessor=assessor, stage=stage, pending=pending,
                    link=_link("/evaluateur/habilitation"))
        sent += 1
    return sent
