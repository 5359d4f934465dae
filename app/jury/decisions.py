"""The jury's decisions (R9) and the publication of a session's results (R10): a decision per
competence, corrected until publication and rectified after it with a reason; the session's sheet of
decisions; publication once every file is decided, each company told by email.
Every function flushes, never commits: the request commits once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.core import audit
from app.core.clock import now
from app.core.errors import Conflict, RuleViolation
from app.extensions import db
from app.files import workflow
from app.files.models import DECISION_STATUSES, CandidateFile, FileStatus
from app.jury import notifications
from app.jury.models import Decision, DecisionRectification, DecisionResult, JurySession
from app.jury.parchments import KINDS, assign_parchment

# What the session's decision screen shows of each file, in one statement per relationship.
DECISION_SHEET = (
    joinedload(CandidateFile.candidate),
    joinedload(CandidateFile.establishment),
    joinedload(CandidateFile.cqp),
    selectinload(CandidateFile.competences),
    joinedload(CandidateFile.decision).selectinload(Decision.results),
)


def results_from_codes(file: CandidateFile, results: list[dict]) -> dict[int, bool]:
    """[{competence_code, validated}] → {competence_id: validated}; a code not of the file is refused."""
    by_code = {c.code: c for c in file.competences}
    out: dict[int, bool] = {}
    unknown = []
    for item in results:
        code = str(item.get("competence_code", ""))
        competence = by_code.get(code)
        if competence is None:
            unknown.append(code)
            continue
        out[competence.id] = bool(item.get("validated"))
    if unknown:
        message = (f"Compétence(s) {', '.join(unknown)} : elles ne font pas partie du dossier "
                   f"(compétences du dossier : {', '.join(by_code)}).")
        raise RuleViolation(message, {"results": [message]})
    return out


def record_decision(file: CandidateFile, actor, results: dict[int, bool], comment: str | None = None,
                    reason: str | None = None) -> Decision:
    """Records the jury's decision (R9), corrects it before publication, or rectifies it after
    publication with a reason (the old decision kept). The status is derived, never typed."""
    jury_session = file.jury_session
    published = jury_session is not None and jury_session.published_at is not None
    if file.status == FileStatus.INSCRIPTION_JURY.value:
        event = "record_decision"
    elif published:
        event = "rectify_decision"
    else:
        event = "correct_decision"
    decision = file.decision
    previous = None
    if decision is not None:
        previous = (decision.status, [{"competence_code": r.competence.code, "validated": r.validated}
                                      for r in sorted(decision.results, key=lambda r: r.competence.position)])
    workflow.fire(file, event, actor, session=jury_session, results=results, published=published,
                  reason=reason, comment=(reason if event == "rectify_decision" else comment))
    status = file.status
    if decision is None:
        decision = Decision(file=file, session_id=jury_session.id, status=status)
        db.session.add(decision)
    if event == "rectify_decision" and previous is not None:
        decision.rectifications.append(DecisionRectification(
            previous_status=previous[0], previous_results=previous[1], new_status=status,
            reason=reason.strip(), by_id=getattr(actor, "id", None), at=now()))
    decision.status = status
    decision.session_id = jury_session.id
    decision.comment = (comment or "").strip() or None
    decision.decided_at = now()
    decision.decided_by_id = getattr(actor, "id", None)
    existing = {r.competence_id: r for r in decision.results}
    for competence_id, validated in results.items():
        if competence_id in existing:
            existing[competence_id].validated = validated
        else:
            decision.results.append(DecisionResult(competence_id=competence_id, validated=validated))
    for competence_id, row in existing.items():
        if competence_id not in results:
            decision.results.remove(row)
    db.session.flush()
    if status in KINDS:
        assign_parchment(file, KINDS[status])
    audit.record(f"jury.{event}", actor, file, status=status, reason=reason)
    return decision


# ---------------------------------------------------------------- the session's decisions


@dataclass
class DecisionSummary:
    total: int
    decided: int
    undecided: list[CandidateFile]
    counts: dict[str, int]


def decision_summary(files: list[CandidateFile]) -> DecisionSummary:
    """How far the decisions of a session's files are (withdrawn files do not count)."""
    files = [f for f in files if f.status != FileStatus.ABANDONNE.value]
    undecided = [f for f in files if f.status == FileStatus.INSCRIPTION_JURY.value]
    counts = {s.value: sum(1 for f in files if f.status == s.value) for s in DECISION_STATUSES}
    return DecisionSummary(total=len(files), decided=len(files) - len(undecided), undecided=undecided, counts=counts)


def files_to_decide(jury_session: JurySession) -> list[CandidateFile]:
    """The session's files but the withdrawn ones, loaded with what the decision screen shows."""
    return list(db.session.scalars(
        select(CandidateFile).where(CandidateFile.jury_session_id == jury_session.id,
                                    CandidateFile.status != FileStatus.ABANDONNE.value)
        .options(*DECISION_SHEET).order_by(CandidateFile.id)))


# ---------------------------------------------------------------- publication (R10)


def publish_session(jury_session: JurySession, actor) -> JurySession:
    """Publishes the session's results: companies see their decisions and get them by email."""
    if jury_session.cancelled_at is not None:
        raise Conflict("Cette session est annulée : elle ne peut pas être publiée.")
    if jury_session.published_at is not None:
        raise Conflict(f"Cette session est déjà publiée (le {jury_session.published_at.strftime('%d/%m/%Y')}).")
    if not jury_session.is_held:
        raise RuleViolation.for_field(
            "date", f"La session ne peut être publiée qu'à partir de sa date ({jury_session.date.strftime('%d/%m/%Y')}).")
    files = list(db.session.scalars(
        select(CandidateFile).where(CandidateFile.jury_session_id == jury_session.id)
        .options(joinedload(CandidateFile.candidate), joinedload(CandidateFile.cqp),
                 joinedload(CandidateFile.establishment))
        .order_by(CandidateFile.id)))
    undecided = decision_summary(files).undecided
    if undecided:
        raise Conflict(
            f"{len(undecided)} dossier(s) de la session n'ont pas encore de décision : "
            "enregistrez toutes les décisions avant de publier.",
            {"files": [str(f.id) for f in undecided]},
        )
    jury_session.published_at = now()
    db.session.flush()
    decided = [f for f in files if f.is_decided]
    by_establishment: dict[int, list[CandidateFile]] = {}
    for file in decided:
        by_establishment.setdefault(file.establishment_id, []).append(file)
    for establishment_files in by_establishment.values():
        notifications.results_published(jury_session, establishment_files)
    audit.record("jury_session.publish", actor, jury_session, files=len(decided))
    return jury_session
