"""Parchments and attestations (R11): their unique numbers, their versions (R15: what the document says,
frozen at the decision, a new version for each rectification), the one download for web and API, the
session's printing in batches and their dispatch, and the public verification of a number.
Every function flushes, never commits: the request commits once."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.core import audit
from app.core.clock import now
from app.core.errors import Conflict, NotFound
from app.core.templating import PARIS
from app.extensions import db
from app.files.models import CandidateFile, FileStatus
from app.jury import pdf
from app.jury.models import (
    Decision,
    DecisionResult,
    JurySession,
    Parchment,
    PrintRecord,
    RecordedCompetence,
)
from app.jury.versions import follow_decision, holder_of, issue_version, record_of

PARCHMENT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed by hand
NUMBER_CHARS = set(PARCHMENT_ALPHABET) | {"-"}
KINDS = {FileStatus.VALIDE.value: "parchemin", FileStatus.PARTIEL.value: "attestation"}

# What a parchment's PDF shows of its file (pdf.py): loaded with the files of a batch.
PRINTED = (
    joinedload(CandidateFile.parchment).selectinload(Parchment.versions),
    joinedload(CandidateFile.candidate),
    joinedload(CandidateFile.cqp),
    joinedload(CandidateFile.decision).selectinload(Decision.results).joinedload(DecisionResult.competence),
)


# ---------------------------------------------------------------- numbers


def new_parchment_number() -> str:
    groups = ["".join(secrets.choice(PARCHMENT_ALPHABET) for _ in range(4)) for _ in range(2)]
    return "CQP-" + "-".join(groups)


def assign_parchment(file: CandidateFile, kind: str, actor=None) -> Parchment:
    """The file's parchment (or attestation), numbered once, its version 1 frozen at the decision (R15). A
    later change of the decision changes what the document says: see `follow_decision`."""
    actor_id = getattr(actor, "id", None) or getattr(file.decision, "decided_by_id", None)
    parchment = file.parchment
    if parchment is not None:
        parchment.kind = kind
        follow_decision(parchment, actor_id)
        return parchment
    for _ in range(10):
        number = new_parchment_number()
        savepoint = db.session.begin_nested()
        try:
            parchment = Parchment(file_id=file.id, number=number, kind=kind)
            db.session.add(parchment)
            db.session.flush()
        except IntegrityError:  # an existing number (≈ 1 in 850 billion): draw again
            savepoint.rollback()
            continue
        savepoint.commit()
        file.parchment = parchment
        issue_version(parchment, actor_id, reason=None, holder=holder_of(file.candidate))
        return parchment
    raise RuntimeError("Impossible d'attribuer un numéro de parchemin unique.")


# ---------------------------------------------------------------- download and printing


def is_printable(file: CandidateFile) -> bool:
    return file.status in KINDS and file.parchment is not None


def printable_files(jury_session: JurySession) -> list[CandidateFile]:
    """The session's files with a parchment or an attestation, loaded with what their PDF shows."""
    files = db.session.scalars(
        select(CandidateFile).where(CandidateFile.jury_session_id == jury_session.id,
                                    CandidateFile.status.in_(KINDS))
        .options(*PRINTED).order_by(CandidateFile.id))
    printable = [f for f in files if is_printable(f)]
    for file in printable:  # each document's file at hand (and kept: not one SELECT per document)
        set_committed_value(file.parchment, "file", file)
    return printable


def download_parchment(file: CandidateFile, user) -> tuple[bytes, str]:
    """The one download of a file's parchment (valide) or attestation (partiel), for the web page and
    the API alike: (PDF, file name). The secretariat's download is recorded as a print."""
    if not file.can_download_parchment(user):
        raise Conflict(
            "Aucun parchemin pour ce dossier : il n'existe que pour un dossier « Validé » (parchemin) ou "
            "« Partiel » (attestation) dont les résultats sont publiés.",
            {"status": [file.status]},
        )
    parchment = file.parchment
    if user.is_secretariat:
        record_prints([parchment], user, file.jury_session)
    return pdf.parchment_pdf(parchment), f"{parchment.kind}-{parchment.number}.pdf"


def print_session(jury_session: JurySession, actor) -> tuple[bytes, str] | None:
    """The session's parchments and attestations never printed, in one PDF recorded as one batch; None
    when there is none left to print (printing again records nothing: a reprint is `reprint_session`)."""
    parchments = [f.parchment for f in printable_files(jury_session)]
    printed = printed_ids(parchments)
    parchments = [p for p in parchments if p.id not in printed]
    if not parchments:
        return None
    record_prints(parchments, actor, jury_session)
    return pdf.parchments_batch_pdf(parchments), f"parchemins-jury-{jury_session.date.isoformat()}.pdf"


def reprint_session(jury_session: JurySession, actor) -> tuple[bytes, str] | None:
    """Every parchment and attestation of the session again, in one PDF recorded as a reprint batch;
    None when the session has none."""
    parchments = [f.parchment for f in printable_files(jury_session)]
    if not parchments:
        return None
    record_prints(parchments, actor, jury_session, reprint=True)
    return pdf.parchments_batch_pdf(parchments), f"parchemins-jury-{jury_session.date.isoformat()}-reimpression.pdf"


def printed_ids(parchments: list[Parchment]) -> set[int]:
    """The ids of those parchments printed at least once (in one statement)."""
    if not parchments:
        return set()
    return set(db.session.scalars(select(PrintRecord.parchment_id).distinct()
                                  .where(PrintRecord.parchment_id.in_([p.id for p in parchments]))))


def record_prints(parchments: list[Parchment], actor, jury_session: JurySession | None = None,
                  reprint: bool = False) -> str:
    batch = secrets.token_hex(8)
    for parchment in parchments:
        db.session.add(PrintRecord(parchment_id=parchment.id, session_id=getattr(jury_session, "id", None),
                                   batch=batch, printed_at=now(), printed_by_id=getattr(actor, "id", None)))
    db.session.flush()
    audit.record("parchment.reprint" if reprint else "parchment.print", actor, jury_session, batch=batch,
                 count=len(parchments))
    return batch


@dataclass
class PrintBatch:
    batch: str | None
    printed_at: datetime
    count: int
    sent_at: datetime | None
    reprint: bool = False  # every document of it had been printed before


@dataclass
class SessionPrints:
    """What was printed for a session: its batches, and which documents were printed or sent."""

    batches: list[PrintBatch]
    printed: set[int]  # parchment ids
    sent: set[int]


def session_prints(jury_session: JurySession) -> SessionPrints:
    """One line per batch (sent once every record of it is), in one statement."""
    rows = db.session.scalars(select(PrintRecord).where(PrintRecord.session_id == jury_session.id)
                              .order_by(PrintRecord.id)).all()
    batches: dict[str, PrintBatch] = {}
    printed: set[int] = set()
    sent: set[int] = set()
    seen_before: dict[str, bool] = {}
    for row in rows:
        key = row.batch or str(row.id)
        if key not in batches:
            batches[key] = PrintBatch(row.batch, row.printed_at, 0, row.sent_at)
            seen_before[key] = True
        entry = batches[key]
        entry.count += 1
        if row.sent_at is None:
            entry.sent_at = None
        else:
            sent.add(row.parchment_id)
        if row.parchment_id not in printed:
            seen_before[key] = False
        printed.add(row.parchment_id)
    for key, entry in batches.items():
        entry.reprint = seen_before[key]
    return SessionPrints(batches=list(batches.values()), printed=printed, sent=sent)


def print_batches(jury_session: JurySession) -> list[PrintBatch]:
    return session_prints(jury_session).batches


def mark_sent(jury_session: JurySession, batch: str, actor) -> int:
    rows = db.session.scalars(select(PrintRecord).where(PrintRecord.session_id == jury_session.id,
                                                        PrintRecord.batch == batch)).all()
    if not rows:
        raise NotFound("Ce lot d'impression n'existe pas.")
    at = now()
    for row in rows:
        if row.sent_at is None:
            row.sent_at = at
    db.session.flush()
    audit.record("parchment.sent", actor, jury_session, batch=batch, count=len(rows))
    return len(rows)


# ---------------------------------------------------------------- public verification


_SEPARATORS = re.compile(r"[\s\-_.·/]+")


def normalize_number(number: str | None) -> str:
    """The canonical `CQP-XXXX-XXXX` of a number as typed: spaces, dashes and dots anywhere, lower
    case, with or without `CQP`. Anything that is not eight characters after the prefix comes back
    only trimmed and upper-cased (it matches no parchment)."""
    typed = (number or "").strip().upper()
    compact = _SEPARATORS.sub("", typed)
    if len(compact) == 11 and compact.startswith("CQP"):
        compact = compact[3:]
    if len(compact) == 8 and set(compact) <= set(PARCHMENT_ALPHABET):
        return f"CQP-{compact[:4]}-{compact[4:]}"
    return typed


@dataclass(frozen=True)
class Verification:
    """What anyone may know of a published parchment or attestation: its current version (R15)."""

    number: str
    kind: str
    cqp_code: str
    cqp_title: str
    holder: str
    decision: str
    jury_date: date
    competences_validated: list[RecordedCompetence]
    version: int
    issued_at: datetime  # naive UTC

    @property
    def issued_on(self) -> date:
        """The day of issue, in Paris."""
        return self.issued_at.replace(tzinfo=UTC).astimezone(PARIS).date()


def verify_number(number: str) -> Verification | None:
    """None when the number is unknown or its session not yet published (R10)."""
    number = normalize_number(number)
    if not number or len(number) > 32 or not set(number) <= NUMBER_CHARS | set("CQ"):
        return None
    parchment = db.session.scalar(select(Parchment).where(Parchment.number == number))
    if parchment is None:
        return None
    file = parchment.file
    if file.status not in KINDS or not file.is_published:
        return None
    record = record_of(parchment)
    return Verification(
        number=parchment.number,
        kind=record.kind,
        cqp_code=record.cqp_code,
        cqp_title=record.cqp_title,
        holder=record.public_name,
        decision=record.decision,
        jury_date=record.jury_date,
        competences_validated=record.validated_competences,
        version=record.version,
        issued_at=record.issued_at,
    )
