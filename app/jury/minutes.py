"""The jury's minutes (procès-verbal, R14): date, place, members present by college, president, every file
examined with its candidate (the identity the documents froze, R15), CQP, decision and validated competences,
and the signature lines. Rendered by WeasyPrint like the other jury PDFs (app/jury/pdf.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.errors import Conflict
from app.extensions import db
from app.files.models import CandidateFile, FileStatus
from app.jury.models import COLLEGES, Decision, DecisionResult, JurySession, Parchment
from app.jury.pdf import _render
from app.jury.versions import record_of


@dataclass(frozen=True)
class MinutesLine:
    """One file as the minutes list it."""

    file_id: int
    holder: str
    birth_date: date | None
    cqp_code: str
    cqp_title: str
    decision: str
    competences: list[str]


def _line(file: CandidateFile) -> MinutesLine:
    validated: list[str]
    if file.parchment is not None:  # what the document froze at the decision (R15)
        record = record_of(file.parchment)
        holder, birth = record.holder_name, record.birth_date
        cqp_code, cqp_title = record.cqp_code, record.cqp_title
        validated = [f"{c.code} {c.label}" for c in record.validated_competences]
    else:
        candidate = file.candidate
        holder = f"{candidate.first_name} {(candidate.last_name or '').upper()}".strip()
        birth = candidate.birth_date
        cqp_code, cqp_title = file.cqp.code, file.cqp.title
        validated = [f"{c.code} {c.title}" for c in file.decision.validated_competences] if file.decision else []
    return MinutesLine(file.id, holder, birth, cqp_code, cqp_title, FileStatus(file.status).label, validated)


def minutes_lines(jury_session: JurySession) -> list[MinutesLine]:
    """The session's files but the withdrawn ones; 409 while one registered file has no decision."""
    files = list(db.session.scalars(
        select(CandidateFile).where(CandidateFile.jury_session_id == jury_session.id,
                                    CandidateFile.status != FileStatus.ABANDONNE.value)
        .options(joinedload(CandidateFile.candidate), joinedload(CandidateFile.cqp),
                 joinedload(CandidateFile.parchment).selectinload(Parchment.versions),
                 joinedload(CandidateFile.decision).selectinload(Decision.results)
                 .joinedload(DecisionResult.competence))
        .order_by(CandidateFile.id)))
    undecided = [f for f in files if f.status == FileStatus.INSCRIPTION_JURY.value]
    if undecided:
        count = "1 dossier inscrit n'a" if len(undecided) == 1 else f"{len(undecided)} dossiers inscrits n'ont"
        raise Conflict(f"Procès-verbal impossible : {count} pas encore de décision. Enregistrez toutes les "
                       "décisions avant de l'établir.", {"files": [str(f.id) for f in undecided]})
    return [_line(f) for f in files]


def minutes_pdf(jury_session: JurySession) -> bytes:
    lines = minutes_lines(jury_session)
    return _render("pdf/minutes.html", jury_session=jury_session, lines=lines, colleges=COLLEGES,
                   present=jury_session.present_by_college, president=jury_session.president,
                   missing=jury_session.attendance_missing)


def minutes_filename(jury_session: JurySession) -> str:
    return f"proces-verbal-jury-{jury_session.date.isoformat()}.pdf"
