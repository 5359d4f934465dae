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
from app.core.errors import Conflict, DomainError, RuleViolation
from app.extensions import db
from app.files import carry_over as acquired
from app.files import workflow
from app.files.models import DECISION_STATUSES, CandidateFile, Evaluation, FileStatus
from app.jury import carry_over, notifications
from app.jury.models import Decision, DecisionRectification, DecisionResult, JurySession
from app.jury.parchments import KINDS, assign_parchment

# What the session's decision screen shows of each file, in one statement per relationship.
DECISION_SHEET = (
    joinedload(CandidateFile.candidate),
    joinedload(CandidateFile.establishment),
    joinedload(CandidateFile.cqp),
    selectinload(CandidateFile.competences),
    joinedload(CandidateFile.decision).selectinload(Decision.results),
    # The assessor's result beside each competence: the suggestion, and « Décider conforme à l'évaluation ».
    joinedload(CandidateFile.evaluation).selectinload(Evaluation.results),
    selectinload(CandidateFile.carried_competences),  # R13: shown as acquired
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
    carried = {row.competence.code: row for row in acquired.counted(file)}
    if any(code in carried for code in unknown):  # R13: acquired at an earlier jury, not decided again
        message = " ".join(f"Compétence {acquired.describe(carried[code])} : déjà acquise, elle n'est pas décidée "
                           "à nouveau." for code in unknown if code in carried)
        raise RuleViolation(message, {"results": [message]})
    if unknown:
        message = ((f"Compétence {unknown[0]} : elle ne fait pas partie du dossier " if len(unknown) == 1 else
                    f"Compétences {', '.join(unknown)} : elles ne font pas partie du dossier ")
                   + f"(compétences du dossier : {', '.join(by_code)}).")
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
    if event == "rectify_decision":  # R13: what a published partial decision validated stays acquired
        carry_over.sync_acquired(file)
    audit.record(f"jury.{event}", actor, file, status=status, reason=reason)
    return decision


# ---------------------------------------------------------------- the session's decisions


@dataclass
class Outcome:
    """What became of one file of a bulk action: its decision, or the refusal (nothing written for it)."""

    file: CandidateFile
    decision: Decision | None = None
    error: DomainError | None = None


def record_decisions(entries: list[tuple[CandidateFile, dict[int, bool], str | None, str | None]],
                     actor) -> list[Outcome]:
    """« Enregistrer tout »: each (file, results, comment, reason) recorded as `record_decision` does, each in
    its own savepoint: a refused file leaves nothing half written, the others are saved."""
    outcomes = []
    for file, results, comment, reason in entries:
        outcomes.append(_in_savepoint(file, lambda f=file, r=results, c=comment, why=reason:
                                      record_decision(f, actor, r, comment=c, reason=why)))
    return outcomes


def evaluation_results(file: CandidateFile) -> dict[int, bool]:
    """The assessor's result per competence of the file ({competence id: acquired}), those given only."""
    evaluation = file.evaluation
    by_competence = {r.competence_id: r.acquired for r in evaluation.results} if evaluation is not None else {}
    return {c.id: by_competence[c.id] for c in file.competences if by_competence.get(c.id) is not None}


def decide_as_evaluated(files: list[CandidateFile], actor) -> list[Outcome]:
    """« Décider conforme à l'évaluation »: each undecided file gets the assessor's result as the jury's
    decision for every competence. Refused, with the reason: a file already decided (correct it on its
    line), one whose evaluation lacks a result, and one whose evaluation concludes « Non validé » for
    every competence (that decision is confirmed on its line, never taken in bulk)."""
    outcomes = []
    for file in files:
        if file.status != FileStatus.INSCRIPTION_JURY.value:
            outcomes.append(Outcome(file, error=Conflict(
                f"le dossier est déjà décidé (« {file.status_label} ») ; "
                "corrigez-le sur sa ligne si besoin.")))
            continue
        results = evaluation_results(file)
        missing = [c.code for c in file.competences if c.id not in results]
        if missing:
            outcomes.append(Outcome(file, error=RuleViolation(
                "l'évaluation n'a pas de résultat pour "
                + ("la compétence " if len(missing) == 1 else "les compétences ") + ", ".join(missing)
                + " ; décidez-le sur sa ligne.")))
            continue
        if not any(results.values()) and not acquired.counted(file):  # R13: with acquired ones, partiel
            outcomes.append(Outcome(file, error=RuleViolation(
                "l'évaluation conclut « Non acquis » pour toutes les compétences ; "
                "une décision « Non validé » se confirme sur la ligne du dossier.")))
            continue
        outcomes.append(_in_savepoint(file, lambda f=file, r=results: record_decision(
            f, actor, r, comment=None)))
    return outcomes


def _in_savepoint(file: CandidateFile, operation) -> Outcome:
    savepoint = db.session.begin_nested()
    try:
        decision = operation()
    except DomainError as error:
        savepoint.rollback()
        return Outcome(file, error=error)
    savepoint.commit()
    return Outcome(file, decision=decision)



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
            (f"{len(undecided)} dossiers de la session n'ont" if len(undecided) > 1 else "1 dossier de la session n'a")
            + " pas encore de décision : enregistrez toutes les décisions avant de publier.",
            {"files": [str(f.id) for f in undecided]},
        )
    if jury_session.attendance_missing:  # R14: a paritaire jury, with its president, before any publication
        raise Conflict(jury_session.publication_refusal(0), {"attendance": jury_session.attendance_missing})
    jury_session.published_at = now()
    db.session.flush()
    decided = [f for f in files if f.is_decided]
    carry_over.record_published(decided)  # R13
    by_establishment: dict[int, list[CandidateFile]] = {}
    for file in decided:
        by_establishment.setdefault(file.establishment_id, []).append(file)
    for establishment_files in by_establishment.values():
        notifications.results_published(jury_session, establishment_files)
    audit.record("jury_session.publish", actor, jury_session, files=len(decided))
    return jury_session
