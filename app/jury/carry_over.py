"""R13, partial results carried over, as the jury area writes them: the competences a published `partiel`
decision validated become acquired for the candidate (jury date + the CQP's carry_over_years, 0 = not
carried), kept right when the decision is rectified; what a parchment lists of the competences acquired at an
earlier jury; and the company's reminder 6 months before acquired competences expire (sent once).
Every function flushes, never commits: the request commits once."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.clock import add_months
from app.core.mail import queue_email
from app.extensions import db
from app.files import carry_over
from app.files.carry_over_models import AcquiredCompetence
from app.files.models import FINAL_STATUSES, CandidateFile, FileStatus

REMINDER_MONTHS_BEFORE_EXPIRY = 6


def valid_until(jury_date: date, years: int) -> date:
    """The last day a competence validated at that jury stays acquired (29 February → 28 February)."""
    return add_months(jury_date, 12 * years)


def sync_acquired(file: CandidateFile) -> None:
    """The acquired competences of a file whose decision is published: one row per competence its `partiel`
    decision validated; none for another decision, nor when the CQP does not carry results over. A row already
    written keeps its dates (a rectification that keeps a competence does not extend it)."""
    jury_session = file.jury_session
    decision = file.decision
    wanted: set[int] = set()
    years = file.cqp.carry_over_years or 0
    if (file.status == FileStatus.PARTIEL and decision is not None and jury_session is not None
            and jury_session.published_at is not None and years > 0):
        wanted = {r.competence_id for r in decision.results if r.validated}
    rows = db.session.scalars(select(AcquiredCompetence).where(AcquiredCompetence.file_id == file.id)).all()
    for row in rows:
        if row.competence_id not in wanted:
            db.session.delete(row)
    have = {row.competence_id for row in rows}
    for competence_id in sorted(wanted - have):
        db.session.add(AcquiredCompetence(
            candidate_id=file.candidate_id, cqp_id=file.cqp_id, competence_id=competence_id, file_id=file.id,
            jury_date=jury_session.date, valid_until=valid_until(jury_session.date, years)))
    db.session.flush()


def record_published(files: list[CandidateFile]) -> None:
    """A session is published: its partial decisions' validated competences become acquired."""
    for file in files:
        if file.status == FileStatus.PARTIEL:
            sync_acquired(file)


def carried_entries(file: CandidateFile) -> list[dict]:
    """What a document version lists of the competences the file carries: validated, and where and when."""
    entries = []
    for row in carry_over.counted(file):
        source = row.source_file
        session = source.jury_session if source is not None else None
        parchment = source.parchment if source is not None else None
        entries.append({"code": row.competence.code, "label": row.competence.title, "validated": True,
                        "position": row.competence.position,
                        "carried_from": {"jury_date": row.jury_date.isoformat(),
                                         "location": getattr(session, "location", None),
                                         "number": getattr(parchment, "number", None),
                                         "valid_until": row.valid_until.isoformat()}})
    return entries


# ---------------------------------------------------------------- reminder (6 months before expiry)


def remind_expiring(on: date, *, once, recipients) -> int:
    """The company is told, once per attempt and expiry date, that competences acquired by it expire within
    6 months, unless the candidate holds the CQP or has an open file for it (the company is on it).
    `once(kind, key)` and `recipients(establishment)` are the daily reminders' (app.jury.notifications)."""
    limit = add_months(on, REMINDER_MONTHS_BEFORE_EXPIRY)
    rows = db.session.scalars(
        select(AcquiredCompetence).where(AcquiredCompetence.valid_until >= on, AcquiredCompetence.valid_until <= limit)
        .options(joinedload(AcquiredCompetence.source_file).joinedload(CandidateFile.candidate))
        .order_by(AcquiredCompetence.file_id, AcquiredCompetence.valid_until, AcquiredCompetence.id)).all()
    groups: dict[tuple[int, date], list[AcquiredCompetence]] = {}
    for row in rows:
        if row.counts:
            groups.setdefault((row.file_id, row.valid_until), []).append(row)
    sent = 0
    base = current_app.config["BASE_URL"].rstrip("/")
    for (file_id, until), group in groups.items():
        source = group[0].source_file
        candidate = source.candidate
        others = [f for f in candidate.files if f.cqp_id == source.cqp_id and f.id != source.id]
        if any(f.status == FileStatus.VALIDE or f.status not in FINAL_STATUSES for f in others):
            continue
        if not once("carry_over_expiry", f"file:{file_id}:{until.isoformat()}"):
            continue
        competences = sorted((row.competence for row in group), key=lambda c: c.position)
        queue_email("reminder_carry_over_expiry", recipients(candidate.establishment),
                    f"Compétences acquises de {candidate.full_name} ({source.cqp.code}) : valables jusqu'au "
                    f"{until.strftime('%d/%m/%Y')}", "jury_reminder_carry_over",
                    candidate=candidate, file=source, candidate_file=source, competences=competences, until=until,
                    jury_date=group[0].jury_date,
                    link=f"{base}/entreprise/dossiers/nouveau?candidate_id={candidate.id}&cqp_code={source.cqp.code}")
        sent += 1
    return sent


def over_juries(competences: list[dict]) -> bool:
    """A document version whose competences were validated at more than one jury (R13)."""
    return any(c.get("carried_from") for c in competences if c.get("validated"))


def where_validated(competences: list[dict], jury_date: date, location: str | None) -> list[dict]:
    """Each competence of a version with the date and place of the jury that validated it: the document's
    jury, or the earlier one it was carried from."""
    out = []
    for competence in competences:
        entry = dict(competence)
        source = competence.get("carried_from")
        if source:
            entry["validated_on"] = date.fromisoformat(source["jury_date"])
            entry["validated_where"] = source.get("location")
        else:
            entry["validated_on"], entry["validated_where"] = jury_date, location
        out.append(entry)
    return out
