"""The frozen record (R15): once a decision is taken, the holder's identity and the competences are those of
the documents issued (app.jury.versions). The secretariat rectifies the civil status with a reason, which
reissues every parchment and attestation of the candidate under the same number as the next version, the
earlier ones kept; `reissue` does the same for one document (a rectified decision reissues through
`assign_parchment`). Every function flushes, never commits: the request commits once, and a refusal
rolls everything back (documents and candidate as they were)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.core import audit
from app.core.clock import now
from app.core.errors import Conflict, ValidationFailed
from app.extensions import db
from app.files import candidates
from app.files.models import Candidate, CandidateFile, StatusChange
from app.jury.models import Parchment, ParchmentVersion
from app.jury.parchments import KINDS
from app.jury.versions import ensure_first_version, holder_of, issue_version

RECTIFY_IDENTITY = "rectify_identity"  # the event of the file's history (label in files.workflow.EVENT_LABELS)
REASON_MAX = 2000
REASON_REQUIRED = "Le motif de la rectification est obligatoire : il est conservé avec la nouvelle version."
SECRETARIAT_ONLY = "Seul le secrétariat de la branche rectifie un document délivré."
NOTHING_CHANGED = ("Aucun champ de l'état civil n'a changé : modifiez au moins un champ avant d'enregistrer la "
                   "rectification.")


def _check_reason(reason) -> str:
    if reason is not None and not isinstance(reason, str):
        raise ValidationFailed.for_field("reason", "Le motif de la rectification doit être un texte.")
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed.for_field("reason", REASON_REQUIRED)
    if "\x00" in text:
        raise ValidationFailed.for_field("reason", "Le motif de la rectification contient un caractère invalide.")
    if len(text) > REASON_MAX:
        raise ValidationFailed.for_field("reason", f"Le motif de la rectification fait {REASON_MAX} caractères "
                                                   "au plus.")
    return text


def _check_secretariat(actor) -> None:
    if not getattr(actor, "is_secretariat", False):
        raise Conflict(SECRETARIAT_ONLY)


def issued_documents(candidate: Candidate) -> list[Parchment]:
    """The candidate's parchments and attestations in force (their file valide or partiel), by file."""
    return [f.parchment for f in sorted(candidate.files, key=lambda f: f.id)
            if f.parchment is not None and f.status in KINDS]


def rectify_identity(candidate: Candidate, changes: dict, reason: str, actor) -> list[ParchmentVersion]:
    """The secretariat rectifies the civil status of a candidate whose identity is on an issued record:
    `changes` (identity fields, checked by files.candidates.identity_changes) are written on the candidate,
    then every parchment and attestation of the candidate is reissued with the new identity as its next
    version, with `reason`; the history of each decided file says so. Every mistake is named at once
    (`reason` included); a refusal writes nothing. Answers the versions issued."""
    _check_secretariat(actor)
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    try:
        text = _check_reason(reason)
    except ValidationFailed as error:
        errors.update(error.errors)
    try:
        clean = candidates.identity_changes(candidate, changes or {})
    except ValidationFailed as error:
        for name, messages in error.errors.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        first = next(iter(errors.values()))[0]
        message = first if len(errors) == 1 else "La rectification est refusée : " + " ".join(
            m for messages in errors.values() for m in messages)
        raise ValidationFailed(message, errors)
    if not clean:
        raise ValidationFailed(NOTHING_CHANGED, {})
    documents = issued_documents(candidate)
    for parchment in documents:  # a document written without a version keeps what it said as its version 1
        ensure_first_version(parchment)
    candidates.apply_identity(candidate, clean)  # R12: a Conflict before the candidate is written
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict.for_field("last_name", candidates.DUPLICATE_MESSAGE) from None
    holder = holder_of(candidate)
    actor_id = getattr(actor, "id", None)
    versions = [issue_version(parchment, actor_id, text, holder=holder) for parchment in documents]
    at = now()
    for file in candidate.files:
        if file.is_decided:
            file.history.append(StatusChange(from_status=file.status, to_status=file.status, event=RECTIFY_IDENTITY,
                                             actor_id=actor_id, at=at, comment=text))
    db.session.flush()
    audit.record("candidate.rectify_identity", actor, candidate, reason=text, fields=sorted(clean),
                 documents=[v.parchment.number for v in versions] or None)
    return versions


def reissue(parchment: Parchment, actor, reason: str) -> ParchmentVersion:
    """Reissues one document under its number as its next version, with the decision as it is now and the
    holder as the current version has it, and the reason (mandatory)."""
    _check_secretariat(actor)
    text = _check_reason(reason)
    version = issue_version(parchment, getattr(actor, "id", None), text)
    audit.record("parchment.reissue", actor, parchment, reason=text, version=version.version)
    return version


# ---------------------------------------------------------------- what the secretariat reads


@dataclass
class DocumentVersions:
    """A document of the candidate and every version issued, the last one in force."""

    file: CandidateFile
    parchment: Parchment
    versions: list[ParchmentVersion]

    @property
    def current(self) -> ParchmentVersion | None:
        return self.versions[-1] if self.versions else None


def documents_of(candidate: Candidate) -> list[DocumentVersions]:
    """Every parchment and attestation of the candidate (even one no longer in force) with its versions,
    in a bounded number of statements."""
    files = db.session.scalars(
        select(CandidateFile).where(CandidateFile.candidate_id == candidate.id, CandidateFile.parchment.has())
        .options(joinedload(CandidateFile.cqp), joinedload(CandidateFile.parchment)
                 .selectinload(Parchment.versions).joinedload(ParchmentVersion.issued_by))
        .order_by(CandidateFile.id)).unique().all()
    return [DocumentVersions(f, f.parchment, list(f.parchment.versions)) for f in files]


def versions_of(file: CandidateFile) -> list[ParchmentVersion]:
    """The versions of the file's document (empty without one)."""
    return list(file.parchment.versions) if file.parchment is not None else []

