"""The secretariat's page of a jury session: its files as plain rows, how far the decisions are, what to print.

A session holds hundreds of files; the page lists them all. Reading them as ORM objects (each with its
candidate, company, CQP and parchment) was most of the page's time: the list is one statement of the
columns the page shows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.accounts.models import Establishment
from app.extensions import db
from app.files.models import DECISION_STATUSES, Candidate, CandidateFile, FileStatus
from app.jury.models import JurySession, Parchment
from app.jury.parchments import KINDS, PrintBatch, session_prints
from app.referential.models import Cqp

_LABELS = {status.value: status.label for status in FileStatus}


@dataclass(frozen=True)
class Listed:
    """One file of the session's list."""

    id: int
    name: str
    establishment: str
    cqp_code: str
    status: str
    rolled_over: bool
    parchment_id: int | None

    @property
    def status_label(self) -> str:
        return _LABELS.get(self.status, self.status)

    @property
    def printable(self) -> bool:
        """A parchment (valide) or an attestation (partiel) to print."""
        return self.status in KINDS and self.parchment_id is not None


@dataclass
class Summary:
    """How far the decisions of the session's files are (withdrawn files do not count)."""

    total: int
    decided: int
    undecided: int
    counts: dict[str, int]


@dataclass
class SessionPage:
    files: list[Listed]
    summary: Summary
    batches: list[PrintBatch]
    printable: int  # documents: parchments of the valide files, attestations of the partiel ones
    to_print: int  # never printed
    printed_count: int
    sent_count: int


def session_page(jury_session: JurySession) -> SessionPage:
    # One value of each table per file, looked up by its key: joined, PostgreSQL hashes the whole table of
    # candidates (100,000 rows at branch scale) to find a session's few hundred.
    name = select(Candidate.first_name + " " + Candidate.last_name).where(
        Candidate.id == CandidateFile.candidate_id).scalar_subquery()
    company = select(Establishment.name).where(Establishment.id == CandidateFile.establishment_id).scalar_subquery()
    cqp = select(Cqp.code).where(Cqp.id == CandidateFile.cqp_id).scalar_subquery()
    parchment = select(Parchment.id).where(Parchment.file_id == CandidateFile.id).scalar_subquery()
    rows = db.session.execute(
        select(CandidateFile.id, name, company, cqp, CandidateFile.status, CandidateFile.rolled_over, parchment)
        .where(CandidateFile.jury_session_id == jury_session.id).order_by(CandidateFile.id)).all()
    files = [Listed(*row[:5], bool(row.rolled_over), row[6]) for row in rows]
    counts = {s.value: 0 for s in DECISION_STATUSES}
    undecided = 0
    for f in files:
        if f.status in counts:
            counts[f.status] += 1
        elif f.status == FileStatus.INSCRIPTION_JURY.value:
            undecided += 1
    total = sum(1 for f in files if f.status != FileStatus.ABANDONNE.value)
    prints = session_prints(jury_session)
    documents = [f.parchment_id for f in files if f.printable]
    printed = sum(1 for p in documents if p in prints.printed)
    return SessionPage(files=files, summary=Summary(total=total, decided=total - undecided, undecided=undecided,
                                                    counts=counts),
                       batches=prints.batches, printable=len(documents), to_print=len(documents) - printed,
                       printed_count=printed, sent_count=sum(1 for p in documents if p in prints.sent))
