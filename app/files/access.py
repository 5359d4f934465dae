"""Who may open which candidate, file and document: loads scoped by `visible_to(user)` (another
tenant's object is a 404, NotFound), and the searchable lists of files and candidates."""

from __future__ import annotations

from sqlalchemy import and_, inspect, not_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.core.errors import NotFound, ValidationFailed
from app.core.listing import ListQuery, Page, paginate
from app.core.validation import as_id
from app.extensions import db
from app.files.models import (
    DECISION_STATUSES,
    Candidate,
    CandidateFile,
    Document,
    Evaluation,
    FileStatus,
    JobAssessorInvitation,
    StatusChange,
    name_key,
)
from app.referential.models import Assessor, Cqp

_f = CandidateFile
# What a file's line says in a list: its names, its status as the viewer may see it (the session),
# and what it waits for (progress.next_action: the invitations, and what the actor's step lacks).
# What a file has one of comes in the file's own SELECT (LEFT OUTER JOINs: no row multiplied); its
# collections one statement each. A page's statements stay few (issue 16: at most 15) whatever its rows.
#
# What a file has one of, on every line and on its page:
_ONE_EACH = (
    joinedload(_f.candidate), joinedload(_f.cqp), joinedload(_f.establishment),
    joinedload(_f.assessor).joinedload(Assessor.user), joinedload(_f.evaluation), joinedload(_f.jury_session),
)
# What every line reads, whatever the file's step:
LINE_EVERY_STEP = (
    *_ONE_EACH, selectinload(_f.invitations),
    selectinload(_f.open_correction_request),  # what the file waits for while a correction is asked
)
# What the checks of the two first steps read besides, for « Ce qu'il manque » (progress.missing_items:
# workflow.confirm_assessor_problems, R2; submit_evaluation_problems, R3/R5/R6): the assessor's CQPs, the
# results entered, the scans (STEP_CHECKS: read by nothing else), and the competences. A file past those
# steps reads none of it (load_checked_steps).
CHECKED_STEPS = (FileStatus.EN_COURS_INSCRIPTION.value, FileStatus.EN_ATTENTE_EVALUATION.value)
_CQPS_AND_RESULTS = (joinedload(_f.assessor).selectinload(Assessor.cqps),
                     joinedload(_f.evaluation).selectinload(Evaluation.results))
STEP_CHECKS = (*_CQPS_AND_RESULTS, selectinload(_f.documents))
LINE_CHECKS = (*STEP_CHECKS, selectinload(_f.competences))
FILE_LINE = (*LINE_EVERY_STEP, *LINE_CHECKS, selectinload(_f.carried_competences))  # R13: acquired_competences
# What the file's page shows: its line, what the checks read, the history and its actors, the job assessor's
# observations. Not its documents: the page reads them with the candidate's own in one statement
# (files.views._render_file). One file: the collections it has at most a few of (its invitations, the
# correction asked, the competences it carries) come in its own SELECT, the others one statement each.
FILE_PAGE = (
    *_ONE_EACH, *_CQPS_AND_RESULTS,
    selectinload(_f.competences), selectinload(_f.history).selectinload(StatusChange.actor),
    joinedload(_f.invitations).selectinload(JobAssessorInvitation.observations),
    joinedload(_f.open_correction_request), joinedload(_f.carried_competences),
)


def for_viewer(loads: tuple, user) -> tuple:
    """`loads`, and for a jury member the members of the file's session (progress.next_action asks
    whether they sit on it). The session's class is the jury area's: reached through the relationship."""
    if not getattr(user, "is_jury_member", False):
        return loads
    session_class = inspect(_f).relationships["jury_session"].mapper.class_
    return (*loads, joinedload(_f.jury_session).selectinload(session_class.members))


def load_checked_steps(files: list[CandidateFile], loads: tuple = LINE_CHECKS,
                       steps: tuple[str, ...] = CHECKED_STEPS) -> None:
    """Loads `loads` (LINE_CHECKS) for those of `files` at one of `steps` (CHECKED_STEPS, or those at which a
    line tells its viewer what is missing: progress.steps_told_missing), in one statement per relationship;
    the others never read them. A page of files past those steps (most of a branch's files are) reads four
    collections fewer; a page holding some reads one statement more."""
    checked = [f.id for f in files if f.status in steps]
    if checked:
        db.session.scalars(select(_f).where(_f.id.in_(checked)).options(*loads)).all()


def get_file_for(user, file_id, loads=()) -> CandidateFile:
    """The file if the user may see it; otherwise NotFound (404: another tenant's file does not exist).
    `loads`: loader options (FILE_PAGE for the file's page)."""
    ident = as_id(file_id)
    query = CandidateFile.visible_to(user).where(CandidateFile.id == ident).options(*loads)
    file = db.session.scalars(query).unique().one_or_none() if ident else None  # unique: joined collections
    if file is None:
        raise NotFound("Ce dossier n'existe pas, ou vous n'y avez pas accès.")
    return file


def get_candidate_for(user, candidate_id, field: str | None = None) -> Candidate:
    ident = as_id(candidate_id)
    candidate = db.session.scalar(Candidate.visible_to(user).where(Candidate.id == ident)) if ident else None
    if candidate is None:
        message = "Ce candidat n'existe pas, ou vous n'y avez pas accès."
        raise NotFound.for_field(field, message) if field else NotFound(message)
    return candidate


def get_document_for(user, document_id, *, file: CandidateFile | None = None,
                     candidate: Candidate | None = None) -> Document:
    """A document of a file (or of a candidate) the user already may see."""
    ident = as_id(document_id)
    document = db.session.get(Document, ident) if ident else None
    if document is None or (file is not None and document.file_id != file.id) or (
        candidate is not None and document.candidate_id != candidate.id
    ):
        raise NotFound("Ce document n'existe pas, ou vous n'y avez pas accès.")
    return document


def candidate_documents(candidate: Candidate) -> list[Document]:
    """Every document of a candidate: their diplomas and the scans of their files."""
    return list(db.session.scalars(
        select(Document).where(Document.candidate_id == candidate.id).order_by(Document.uploaded_at, Document.id)))


def own_candidate(user) -> Candidate | None:
    """The candidate record of a `candidat` user."""
    return db.session.scalar(select(Candidate).where(Candidate.user_id == user.id).order_by(Candidate.id))


def search_files(user, *, status: str | None = None, cqp: str | None = None, q: str | None = None,
                 page: int = 1, per_page: int = 20, where=None, after: str | None = None, before: str | None = None,
                 cursor_field: str | None = None, loads: tuple = LINE_EVERY_STEP, checks: tuple = LINE_CHECKS,
                 checked_steps: tuple[str, ...] = CHECKED_STEPS) -> Page:
    """`where`: a condition narrowing the files further (the assessor's « à évaluer » / « clos » headings);
    `loads`: what each file comes with (LINE_EVERY_STEP, plus what the API shows), `checks` what the files at
    `checked_steps` come with besides (load_checked_steps).
    Newest first; `after` / `before`: keyset cursors (listing.paginate), `cursor_field` names a bad one (API)."""
    query = CandidateFile.visible_to(user)
    if where is not None:
        query = query.where(where)
    if status:
        if status not in {s.value for s in FileStatus}:
            raise ValidationFailed.for_field("status", f"Statut inconnu : {status}.")
        query = query.where(status_as_seen_by(user, status))
    if cqp:
        query = query.where(CandidateFile.cqp_id.in_(select(Cqp.id).where(Cqp.code == cqp.strip().upper())))
    if q and q.strip():
        query = query.where(CandidateFile.candidate_id.in_(_candidate_ids_matching(q)))
    query = query.options(*for_viewer(loads, user))
    window = ListQuery(page=max(1, page or 1), per_page=min(max(1, per_page or 20), 100), direction="desc",
                       after=after or "", before=before or "")
    found = paginate(query, window, scalars=True, keys=(CandidateFile.created_at, CandidateFile.id),
                     count_from=CandidateFile.__table__, cursor_field=cursor_field)
    if checks and checked_steps:
        load_checked_steps(found.items, checks, checked_steps)
    return found


def status_as_seen_by(user, status: str):
    """The files `user` sees in `status` (R10): before publication, a decided file is « inscription au jury »
    to those who may not see the decision yet, so filtering on a decision must not reveal it."""
    f = CandidateFile
    if getattr(user, "sees_unpublished_decisions", False):
        return f.status == status
    decided = [s.value for s in DECISION_STATUSES]
    if status in decided:
        return and_(f.status == status, f.is_published)
    if status == FileStatus.INSCRIPTION_JURY.value:
        return or_(f.status == status, and_(f.status.in_(decided), not_(f.is_published)))
    return f.status == status


def _candidate_ids_matching(q: str):
    conditions = []
    for word in name_key(q).split():
        like = f"%{word}%"
        conditions.append(or_(Candidate.last_name_key.like(like), Candidate.first_name_key.like(like)))
    return select(Candidate.id).where(*conditions)


def search_candidates(user, q: str | None = None, page: int = 1, per_page: int = 20, after: str | None = None,
                      before: str | None = None) -> Page:
    query = Candidate.visible_to(user)
    if q and q.strip():
        query = query.where(Candidate.id.in_(_candidate_ids_matching(q)))
    window = ListQuery(page=max(1, page or 1), per_page=min(max(1, per_page or 20), 100), after=after or "",
                       before=before or "")
    return paginate(query, window, scalars=True, count_from=Candidate.__table__,
                    keys=(Candidate.last_name_key, Candidate.first_name_key, Candidate.id))
