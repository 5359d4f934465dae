"""Home pages: "what do I have to do now?" for each role.

Read-only queries over the other areas' models, each page a fixed number of queries whatever
the number of files (what a page shows is loaded with selectinload). Business rules are not
restated here: what a file waits for comes from files.progress.next_action, the R5 window from
workflow.results_window, deadlines, open and late sessions from JurySession, what a company may
see of a decision from CandidateFile.visible_status_for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.accounts.models import AccountRequest, PartnerAccessLog, User
from app.core.clock import add_months, now, today
from app.core.models import OutboxEmail
from app.db import date_add_days
from app.extensions import db
from app.files import access, evaluation, workflow
from app.files.models import (
    DECISION_STATUSES,
    FINAL_STATUSES,
    STATUS_LABELS,
    STEPS,
    Candidate,
    CandidateFile,
    Evaluation,
    FileStatus,
)
from app.files.progress import NextAction, next_action, steps_told_missing
from app.jury.models import JurySession, jury_members
from app.referential.models import Assessor

S = FileStatus
DECIDED = [s.value for s in DECISION_STATUSES]
FINAL = [s.value for s in FINAL_STATUSES]
RECENT_RESULTS_DAYS = 30
HABILITATION_WARNING_MONTHS = 9
UPCOMING_SESSIONS = 3
HOME_LIST_LIMIT = 20


def days_until(day: date, on: date | None = None) -> int:
    return (day - (on or today())).days


def open_sessions(limit: int = UPCOMING_SESSIONS) -> list[JurySession]:
    """Sessions a file can still be registered to (R7: until 21 days before), with a seat."""
    return list(db.session.scalars(
        select(JurySession).where(JurySession.is_open, JurySession.seats_left > 0)
        .order_by(JurySession.date).limit(limit)
    ))


# ------------------------------------------------------------------ company


@dataclass
class FileLine:
    file: CandidateFile
    status: str  # as this viewer may see it
    next_action: NextAction | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[FileStatus(self.status)]


@dataclass
class Deadline:
    day: date
    text: str
    file: CandidateFile | None = None

    @property
    def days_left(self) -> int:
        return days_until(self.day)


@dataclass
class CompanyHome:
    groups: list[tuple[str, list[FileLine]]]  # per step: the files waiting longest (COMPANY_GROUP_LIMIT at most)
    counts: dict[str, int]  # every file of the establishment per status as the company sees it
    deadlines: list[Deadline]  # the nearest COMPANY_DEADLINES_LIMIT
    sessions: list[JurySession]
    results: list[tuple[CandidateFile, JurySession]]  # the latest COMPANY_RESULTS_LIMIT
    to_do: int = 0
    more_deadlines: bool = False
    more_results: bool = False

    def group_total(self, status: str) -> int:
        return self.counts.get(status, 0)


# The company's home shows what to do with counts, not every file: an establishment with 300 files in progress
# got a 100 kB page of 300 rows (issue 16). Per step, the files waiting longest; the list (/dossiers) has the rest.
COMPANY_GROUP_LIMIT = 10
COMPANY_DEADLINES_LIMIT = 10
COMPANY_RESULTS_LIMIT = 20


def waits_on_company(status: str, has_open_correction: bool) -> bool:
    """Whether a file of the establishment waits for the company itself (progress.next_action's « À vous » for
    its own company), from what the counts' statement reads: an open file with a correction request to
    answer, or one to complete or to register to a jury (tests/stats/test_homes.py checks it against
    next_action for every status)."""
    return status not in FINAL and (
        status in (S.EN_COURS_INSCRIPTION.value, S.VALIDATION_EVALUATION.value) or bool(has_open_correction))


def company_home(user: User) -> CompanyHome:
    from app.files.exchange_models import CorrectionRequest

    establishment_id = user.establishment_id
    f = CandidateFile
    unpublished = and_(f.status.in_(DECIDED), JurySession.published_at.is_(None))
    # What the company sees: an unpublished decision is « Inscription au jury ».
    seen = case((unpublished, S.INSCRIPTION_JURY.value), else_=f.status)
    # The files still moving, and decided files whose results are not published: per status as seen, the
    # COMPANY_GROUP_LIMIT waiting longest (one statement, a window function).
    rank = func.row_number().over(partition_by=seen, order_by=(f.status_changed_at, f.id)).label("rank")
    ranked = (
        select(f.id.label("id"), rank).outerjoin(JurySession, JurySession.id == f.jury_session_id)
        .where(f.establishment_id == establishment_id, or_(f.status.not_in(FINAL), unpublished)).subquery()
    )
    files = list(db.session.scalars(
        select(f).join(ranked, ranked.c.id == f.id).where(ranked.c.rank <= COMPANY_GROUP_LIMIT)
        .options(*access.LINE_EVERY_STEP).order_by(f.status_changed_at, f.id)
    ))
    access.load_checked_steps(files, steps=steps_told_missing(user))  # what its lines say is missing
    lines = [FileLine(file, file.visible_status_for(user), next_action(file, user)) for file in files]
    groups = []
    for status in STEPS:
        in_status = [line for line in lines if line.status == status.value]
        if in_status:
            groups.append((status.value, in_status))
    # Counts per status as the company sees them, and how many wait for the company, in one statement.
    published = JurySession.published_at.is_not(None)
    corrected = (select(CorrectionRequest.id).where(CorrectionRequest.file_id == f.id,
                                                    CorrectionRequest.resolved_at.is_(None)).exists())
    rows = db.session.execute(
        select(f.status, published.label("published"), corrected.label("corrected"), func.count())
        .outerjoin(JurySession, JurySession.id == f.jury_session_id)
        .where(f.establishment_id == establishment_id).group_by(f.status, published, corrected)
    ).all()
    counts = {s.value: 0 for s in FileStatus}
    to_do = 0
    for status, is_published, has_correction, n in rows:
        shown = status if status not in DECIDED or is_published else S.INSCRIPTION_JURY.value
        counts[shown] += n
        if waits_on_company(status, has_correction):
            to_do += n
    deadlines = _company_deadlines(establishment_id)
    sessions = open_sessions() if counts[S.VALIDATION_EVALUATION.value] else []
    for session in sessions:
        deadlines.append(Deadline(session.registration_deadline, (
            f"Inscriptions au jury du {session.date.strftime('%d/%m/%Y')} : jusqu'au "
            f"{session.registration_deadline.strftime('%d/%m/%Y')} ({session.seats_left} place"
            f"{'s' if session.seats_left > 1 else ''} libre{'s' if session.seats_left > 1 else ''})")))
    deadlines.sort(key=lambda d: d.day)
    more_deadlines = len(deadlines) > COMPANY_DEADLINES_LIMIT
    since = now() - timedelta(days=RECENT_RESULTS_DAYS)
    results = db.session.execute(
        select(f, JurySession).join(JurySession, JurySession.id == f.jury_session_id)
        .where(f.establishment_id == establishment_id, f.status.in_(DECIDED), JurySession.published_at >= since)
        .options(joinedload(f.candidate), joinedload(f.cqp))
        .order_by(JurySession.published_at.desc(), f.id).limit(COMPANY_RESULTS_LIMIT + 1)
    ).all()
    return CompanyHome(groups, counts, deadlines[:COMPANY_DEADLINES_LIMIT], sessions,
                       [(r[0], r[1]) for r in results[:COMPANY_RESULTS_LIMIT]], to_do, more_deadlines,
                       len(results) > COMPANY_RESULTS_LIMIT)


def _company_deadlines(establishment_id: int) -> list[Deadline]:
    """The nearest deadlines of the establishment's files, COMPANY_DEADLINES_LIMIT + 1 of them (so that the page
    knows whether more follow), in one statement ordered by the deadline: R5, the assessor's window to enter
    the results after the interview; R7, the last day to withdraw a file registered to a jury."""
    f, on = CandidateFile, today()
    window_days = (workflow.results_window(on)[1] - on).days
    evaluating = and_(f.status == S.EN_ATTENTE_EVALUATION.value, f.interview_date.is_not(None),
                      f.interview_date >= on - timedelta(days=window_days))
    registered = and_(f.status == S.INSCRIPTION_JURY.value, JurySession.registration_deadline >= on)
    day = case((f.status == S.EN_ATTENTE_EVALUATION.value, date_add_days(f.interview_date, window_days)),
               else_=JurySession.registration_deadline)
    deadlines = []
    for file in db.session.scalars(
        select(f).join(Candidate, Candidate.id == f.candidate_id)
        .outerjoin(JurySession, JurySession.id == f.jury_session_id)
        .where(f.establishment_id == establishment_id, or_(evaluating, registered))
        .options(contains_eager(f.candidate), contains_eager(f.jury_session), joinedload(f.evaluation))
        .order_by(day, f.id).limit(COMPANY_DEADLINES_LIMIT + 1)
    ):
        if file.status == S.EN_ATTENTE_EVALUATION.value:
            opens, closes = workflow.results_window(file.interview_date)
            deadlines.append(Deadline(closes, (
                f"Saisie des résultats de {file.candidate.full_name} par l'évaluateur : "
                f"du {opens.strftime('%d/%m/%Y')} au {closes.strftime('%d/%m/%Y')}"), file))
        else:
            session = file.jury_session
            deadlines.append(Deadline(session.registration_deadline, (
                f"Désinscription possible de {file.candidate.full_name} jusqu'au "
                f"{session.registration_deadline.strftime('%d/%m/%Y')} (jury du "
                f"{session.date.strftime('%d/%m/%Y')})"), file))
    return deadlines


# ------------------------------------------------------------------ candidate


@dataclass
class CandidateHome:
    lines: list[FileLine]
    steps: tuple = STEPS


def candidate_home(user: User) -> CandidateHome:
    files = list(db.session.scalars(
        select(CandidateFile).join(Candidate, Candidate.id == CandidateFile.candidate_id)
        .where(Candidate.user_id == user.id)
        .options(selectinload(CandidateFile.cqp), selectinload(CandidateFile.candidate),
                 selectinload(CandidateFile.establishment), selectinload(CandidateFile.jury_session))
        .order_by(CandidateFile.created_at.desc(), CandidateFile.id.desc())
    ))
    return CandidateHome([FileLine(f, f.visible_status_for(user)) for f in files])


# ------------------------------------------------------------------ assessor


@dataclass
class EvaluationLine:
    file: CandidateFile
    interview: date | None
    opens: date | None
    closes: date | None

    @property
    def window_state(self) -> str:
        if self.interview is None:
            return "sans date"
        on = today()
        if on < self.opens:
            return "à venir"
        if on > self.closes:
            return "close"
        return "ouverte"

    @property
    def draft(self) -> Evaluation | None:
        ev = self.file.evaluation
        return ev if ev is not None and ev.submitted_at is None and ev.results else None

    @property
    def results_entered(self) -> int:
        ev = self.file.evaluation
        return sum(1 for r in ev.results if r.acquired is not None) if ev else 0


@dataclass
class AssessorHome:
    assessor: Assessor | None
    to_evaluate: list[EvaluationLine]
    unanswered: list[tuple[CandidateFile, object]]
    to_invite: list[CandidateFile]
    drafts: list[EvaluationLine]
    habilitation_ends_soon: bool = False
    # The assessor's files that do not wait for them, counted by heading of /evaluateur/dossiers (key → count).
    elsewhere: dict[str, int] = field(default_factory=dict)
    expired_links: set[int] = field(default_factory=set)  # ids of the unanswered invitations whose link expired


def assessor_home(user: User) -> AssessorHome:
    assessor = db.session.scalar(select(Assessor).where(Assessor.user_id == user.id))
    if assessor is None:
        return AssessorHome(None, [], [], [], [])
    files = list(db.session.scalars(
        select(CandidateFile).where(CandidateFile.assessor_id == assessor.id,
                                    CandidateFile.status == S.EN_ATTENTE_EVALUATION.value)
        .options(joinedload(CandidateFile.candidate), joinedload(CandidateFile.cqp),
                 joinedload(CandidateFile.establishment), selectinload(CandidateFile.competences),
                 selectinload(CandidateFile.invitations),
                 joinedload(CandidateFile.evaluation).selectinload(Evaluation.results))
    ))
    lines = []
    for file in files:
        interview = file.interview_date
        opens, closes = workflow.results_window(interview) if interview else (None, None)
        lines.append(EvaluationLine(file, interview, opens, closes))
    # R5: the nearest closing window first; files without a date last.
    lines.sort(key=lambda line: (line.closes is None, line.closes or date.max, line.file.id))
    unanswered = [(line.file, line.file.current_invitation) for line in lines
                  if line.file.current_invitation is not None and line.file.current_invitation.used_at is None]
    to_invite = [line.file for line in lines if line.file.current_invitation is None]
    drafts = [line for line in lines if line.draft is not None]
    ends_soon = assessor.habilitation_until <= add_months(today(), HABILITATION_WARNING_MONTHS)
    elsewhere = {key: db.session.scalar(select(func.count()).select_from(
        CandidateFile.visible_to(user).where(condition).subquery()))
        for key, _title, condition in evaluation.assessor_list_groups() if key != "a-evaluer"}
    moment = now()
    expired = {inv.id for _file, inv in unanswered if inv.expires_at <= moment}
    return AssessorHome(assessor, lines, unanswered, to_invite, drafts, ends_soon, elsewhere, expired)


# ------------------------------------------------------------------ jury member


@dataclass
class JuryHome:
    sessions: list[tuple[JurySession, list[CandidateFile]]]


def jury_home(user: User) -> JuryHome:
    on = today()
    sessions = list(db.session.scalars(
        select(JurySession).join(jury_members, jury_members.c.session_id == JurySession.id)
        .where(jury_members.c.user_id == user.id, JurySession.cancelled_at.is_(None),
               or_(JurySession.date >= on, JurySession.published_at.is_(None)))
        .order_by(JurySession.date).limit(UPCOMING_SESSIONS)
    ))
    files_by_session: dict[int, list[CandidateFile]] = {s.id: [] for s in sessions}
    if sessions:
        for file in db.session.scalars(
            select(CandidateFile).where(CandidateFile.jury_session_id.in_(files_by_session))
            .options(selectinload(CandidateFile.candidate), selectinload(CandidateFile.cqp),
                     selectinload(CandidateFile.establishment))
            .order_by(CandidateFile.id)
        ):
            files_by_session[file.jury_session_id].append(file)
    return JuryHome([(s, files_by_session[s.id]) for s in sessions])


# ------------------------------------------------------------------ secretariat


@dataclass
class SessionToPublish:
    session: JurySession
    files: int
    decided: int

    @property
    def late(self) -> bool:
        """R10: not published 48 hours after the jury date."""
        return self.session.is_late


@dataclass
class SecretariatHome:
    requests_count: int
    requests: list[AccountRequest]
    to_publish: list[SessionToPublish]
    failed_count: int
    failed_emails: list[OutboxEmail]
    habilitations_count: int
    habilitations: list[Assessor]
    stuck_count: int
    stuck: list[CandidateFile]
    stuck_days: int
    in_progress: dict[str, int] = field(default_factory=dict)

    @property
    def late_count(self) -> int:
        return sum(1 for s in self.to_publish if s.late)


def secretariat_home() -> SecretariatHome:
    on = today()
    f = CandidateFile
    pending = AccountRequest.status == "pending"
    failed = OutboxEmail.status == "failed"
    limit_day = add_months(on, HABILITATION_WARNING_MONTHS)
    ending = and_(Assessor.habilitation_until >= on, Assessor.habilitation_until <= limit_day, User.active.is_(True))
    stuck_days = int(current_app.config.get("STUCK_FILE_DAYS", 30))
    stuck_condition = and_(f.status.not_in(FINAL), f.status_changed_at < now() - timedelta(days=stuck_days))
    # The cards' counts in one statement (each its own scalar subquery), the lists after it.
    requests_count, failed_count, habilitations_count = db.session.execute(select(
        select(func.count()).select_from(AccountRequest).where(pending).scalar_subquery(),
        select(func.count()).select_from(OutboxEmail).where(failed).scalar_subquery(),
        select(func.count()).select_from(Assessor).join(User, User.id == Assessor.user_id).where(ending)
        .scalar_subquery(),
    )).one()
    requests = list(db.session.scalars(
        select(AccountRequest).where(pending).order_by(AccountRequest.created_at, AccountRequest.id)
        .limit(HOME_LIST_LIMIT)
    ))
    # Counted per session held and not published (a few), on the index of the session's files: grouping every
    # file of the branch first was a scan of candidate_files (150 ms at 100,000 files).
    in_session = f.jury_session_id == JurySession.id
    files_count = select(func.count()).where(in_session).correlate(JurySession).scalar_subquery()
    decided_count = (select(func.count()).where(in_session, f.status.in_(DECIDED)).correlate(JurySession)
                     .scalar_subquery())
    to_publish = [
        SessionToPublish(session, files, decided)
        for session, files, decided in db.session.execute(
            select(JurySession, files_count, decided_count)
            .where(JurySession.date <= on, JurySession.published_at.is_(None), JurySession.cancelled_at.is_(None))
            .order_by(JurySession.date, JurySession.id)
        )
        if files  # an empty session has no results to publish
    ]
    failed_emails = list(db.session.scalars(
        select(OutboxEmail).where(failed).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
        .limit(HOME_LIST_LIMIT)
    ))
    habilitations = list(db.session.scalars(
        select(Assessor).join(User, User.id == Assessor.user_id).where(ending)
        .options(contains_eager(Assessor.user)).order_by(Assessor.habilitation_until, Assessor.id).limit(HOME_LIST_LIMIT)
    ))
    stuck = list(db.session.scalars(
        select(f).where(stuck_condition)
        .options(joinedload(f.candidate), joinedload(f.cqp), joinedload(f.establishment))
        .order_by(f.status_changed_at, f.id).limit(HOME_LIST_LIMIT)
    ))
    # The open files per status, and among them the stuck ones, in one pass.
    in_progress, stuck_count = {}, 0
    for status, n, stuck_n in db.session.execute(
        select(f.status, func.count(), func.sum(case((stuck_condition, 1), else_=0)))
        .where(f.status.not_in(FINAL)).group_by(f.status)
    ):
        in_progress[status] = n
        stuck_count += int(stuck_n or 0)
    return SecretariatHome(requests_count or 0, requests, to_publish, failed_count or 0, failed_emails,
                           habilitations_count or 0, habilitations, stuck_count, stuck, stuck_days, in_progress)


# ------------------------------------------------------------------ partner


def partner_recent_calls(user: User, limit: int = HOME_LIST_LIMIT) -> list[PartnerAccessLog]:
    return list(db.session.scalars(
        select(PartnerAccessLog).where(PartnerAccessLog.user_id == user.id)
        .order_by(PartnerAccessLog.at.desc(), PartnerAccessLog.id.desc()).limit(limit)
    ))
