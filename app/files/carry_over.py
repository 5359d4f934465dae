"""R13, partial results carried over, as the files area reads them: what a candidate holds of a CQP today,
what a new file may still cover (and the refusal of acquired competences), what a file carries into its
decision, and the candidate's path over several juries (each attempt, what it validated, what remains).

The rows are written by the jury area (app.jury.carry_over) when it publishes a partial decision; this area
only reads them. A competence removed from the referential since is neither offered nor counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.core.clock import today
from app.core.errors import ValidationFailed
from app.extensions import db
from app.files.carry_over_models import AcquiredCompetence
from app.files.models import STATUS_LABELS, FileStatus
from app.referential.models import Competence, Cqp


def acquired_for(candidate_id: int | None, cqp: Cqp, on: date | None = None) -> list[AcquiredCompetence]:
    """The candidate's competences of that CQP acquired on `on` (today): validated by a published partial
    decision whose jury date + carry_over_years is not past, still in the referential. One row per
    competence (the latest jury's when validated twice), in the CQP's order."""
    if candidate_id is None:
        return []
    on = on or today()
    rows = db.session.scalars(
        select(AcquiredCompetence).where(AcquiredCompetence.candidate_id == candidate_id,
                                         AcquiredCompetence.cqp_id == cqp.id,
                                         AcquiredCompetence.jury_date <= on, AcquiredCompetence.valid_until >= on)
        .order_by(AcquiredCompetence.jury_date, AcquiredCompetence.id))
    by_competence: dict[int, AcquiredCompetence] = {}
    for row in rows:
        if row.counts and row.competence.cqp_id == cqp.id:
            by_competence[row.competence_id] = row  # the latest jury wins: it lasts longest
    return sorted(by_competence.values(), key=lambda row: row.competence.position)


def _date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def describe(row: AcquiredCompetence) -> str:
    return (f"{row.competence.code} (acquise au jury du {_date(row.jury_date)}, jusqu'au "
            f"{_date(row.valid_until)})")


def refuse_acquired(cqp: Cqp, codes, acquired: list[AcquiredCompetence]) -> None:
    """422 naming each acquired competence asked for again, and when nothing of the CQP remains to pass."""
    if not acquired:
        return
    if isinstance(codes, str):
        codes = [codes]
    asked = {str(c).strip().upper() for c in codes or [] if str(c).strip()}
    again = [row for row in acquired if row.competence.code.upper() in asked]
    if again:
        message = (("La compétence " + describe(again[0]) + " est déjà acquise" if len(again) == 1 else
                    "Les compétences " + ", ".join(describe(r) for r in again) + " sont déjà acquises")
                   + " : le nouveau dossier ne porte que sur les autres compétences du CQP.")
        raise ValidationFailed(message, {"competence_codes": [message]})
    held = {row.competence_id for row in acquired}
    if all(c.id in held for c in cqp.active_competences):
        message = (f"Toutes les compétences du CQP {cqp.code} sont déjà acquises : il n'y a plus rien à "
                   "évaluer dans un nouveau dossier.")
        raise ValidationFailed(message, {"competence_codes": [message]})


def remaining_competences(cqp: Cqp, acquired: list[AcquiredCompetence]) -> list[Competence]:
    """The CQP's competences a new file may cover: those of the referential not acquired."""
    held = {row.competence_id for row in acquired}
    return [c for c in cqp.active_competences if c.id not in held]


def counted(file) -> list[AcquiredCompetence]:
    """What the file carries into its decision: its carried competences still in the CQP's referential."""
    return [row for row in file.carried_competences if row.counts and row.competence.cqp_id == file.cqp_id]


def completes_cqp(file) -> bool:
    """The file's competences and those it carries make every competence of the CQP's referential (a file
    carrying acquired ones is `valide` only then: R13)."""
    held = {row.competence_id for row in counted(file)} | {c.id for c in file.competences}
    return all(c.id in held for c in file.cqp.active_competences)


# ---------------------------------------------------------------- the candidate's path


@dataclass
class Attempt:
    """One file of the path: its status as the viewer may see it, and what its jury validated."""

    file: object
    status_label: str
    jury_date: date | None
    validated: list[Competence] = field(default_factory=list)  # by this file's jury (once visible)
    carried: list[AcquiredCompetence] = field(default_factory=list)
    decision_shown: bool = False


@dataclass
class CqpPath:
    cqp: Cqp
    attempts: list[Attempt]
    acquired: list[AcquiredCompetence]  # held today
    remaining: list[Competence]
    complete: bool  # a `valide` decision the viewer may see

    @property
    def expires_on(self) -> date | None:
        return min((row.valid_until for row in self.acquired), default=None)


def candidate_path(candidate, viewer) -> list[CqpPath]:
    """Per CQP the candidate tried: each attempt (oldest first), what it validated, what is acquired today
    (until when), what remains. A decision is shown only to those who may see it (R10)."""
    by_cqp: dict[int, list] = {}
    for file in sorted(candidate.files, key=lambda f: (f.created_at, f.id)):
        by_cqp.setdefault(file.cqp_id, []).append(file)
    paths = []
    for files in by_cqp.values():
        cqp = files[0].cqp
        attempts, complete = [], False
        for file in files:
            shown = file.visible_status_for(viewer)
            visible = file.is_decided and shown == file.status
            session = file.jury_session
            validated = []
            if visible and file.decision is not None:
                validated = [r.competence for r in sorted(file.decision.results, key=lambda r: r.competence.position)
                             if r.validated]
            complete = complete or (visible and file.status == FileStatus.VALIDE)
            attempts.append(Attempt(file=file, status_label=STATUS_LABELS[FileStatus(shown)], jury_date=session.date if session else None,
                                    validated=validated, carried=counted(file), decision_shown=visible))
        acquired = [] if complete else acquired_for(candidate.id, cqp)
        remaining = [] if complete else remaining_competences(cqp, acquired)
        paths.append(CqpPath(cqp=cqp, attempts=attempts, acquired=acquired, remaining=remaining, complete=complete))
    return paths
