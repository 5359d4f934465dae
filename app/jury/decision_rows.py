"""The rows of a session's decision screen (R9) as plain data, and the light parser of what a row posts.

The screen shows a page of a session's files (PAGE_SIZE, in id order, by keyset) with a filter « à décider /
décidés / tous » and the count of each. A row is read from the posted form by `RowEntry.read` — the same field
names as the file's DecisionForm with the prefix `f<id>-` (`f<id>-c_<competence id>`, `f<id>-comment`,
`f<id>-reason`, `f<id>-confirm_non_valide`) — and checked as that form checks it, without building a WTForms
form per row (300 of them, with a radio field per competence, were most of the screen's time); the rules
and messages are those of app/jury/forms.py, shared with DecisionForm."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.accounts.models import Establishment
from app.core.errors import DomainError
from app.extensions import db
from app.files import carry_over
from app.files.carry_over_models import AcquiredCompetence, file_carried_competences
from app.files.models import (
    DECISION_STATUSES,
    Candidate,
    CandidateFile,
    Evaluation,
    EvaluationResult,
    FileStatus,
    file_competences,
)
from app.jury import forms
from app.jury.decisions import DECISION_SHEET
from app.jury.forms import NOT_VALIDATED, VALIDATED
from app.jury.models import Decision, DecisionResult, JurySession
from app.referential.models import Competence, Cqp

PAGE_SIZE = 50
TEXT_MAX = 4000
STATES = {"a_decider": "À décider", "decides": "Décidés", "tous": "Tous"}
DEFAULT_STATE = "tous"
_DECIDED = tuple(s.value for s in DECISION_STATUSES)


# ---------------------------------------------------------------- what a row posts


@dataclass
class RowEntry:
    """What the screen's form holds for one file: a choice per competence (None when none), the comment, the
    rectification's reason, « Je confirme »; the messages of a refusal once checked."""

    file: CandidateFile
    choices: dict[int, str | None]
    comment: str = ""
    reason: str = ""
    confirm: bool = False
    errors: list[str] = field(default_factory=list)  # the row's own (shown above its competences)
    competence_errors: dict[int, list[str]] = field(default_factory=dict)
    comment_errors: list[str] = field(default_factory=list)
    reason_errors: list[str] = field(default_factory=list)
    confirm_errors: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, file: CandidateFile, formdata) -> RowEntry:
        prefix = f"f{file.id}-"
        choices = {}
        for competence in file.competences:
            value = formdata.get(f"{prefix}c_{competence.id}")
            choices[competence.id] = value if value in (VALIDATED, NOT_VALIDATED) else None
        return cls(file, choices, comment=formdata.get(f"{prefix}comment", ""),
                   reason=formdata.get(f"{prefix}reason", ""),
                   confirm=formdata.get(f"{prefix}confirm_non_valide", "") not in ("", "false"))  # as BooleanField

    @property
    def results(self) -> dict[int, bool]:
        return forms.chosen_results(self.choices)

    @property
    def missing(self) -> list:
        return forms.missing_competences(self.file.competences, self.choices)

    @property
    def untouched(self) -> bool:
        return forms.untouched(self.choices, self.comment, self.reason)

    @property
    def wants_confirmation(self) -> bool:
        return forms.wants_confirmation(self.results, self.missing, carry_over.counted(self.file))

    def matches(self, decision) -> bool:
        return forms.matches(decision, self.results, self.comment, self.reason)

    @property
    def refused(self) -> bool:
        return bool(self.errors or self.competence_errors or self.comment_errors or self.reason_errors
                    or self.confirm_errors)

    def validate(self) -> bool:
        """As DecisionForm.validate: the lengths, a choice for every competence, « Je confirme » for a whole
        file « Non validé »."""
        for text, errors, label in ((self.comment, self.comment_errors, "Commentaire du jury"),
                                    (self.reason, self.reason_errors, "Motif de la rectification")):
            if len(text) > TEXT_MAX:
                errors.append(f"{label} : {TEXT_MAX:,} caractères au plus ({len(text):,} saisis).".replace(",", " "))
        missing = self.missing
        if missing:
            for competence in missing:
                self.competence_errors.setdefault(competence.id, []).append(forms.no_choice_message(competence))
            self.errors.append(forms.missing_message(missing))
            return False
        if self.comment_errors or self.reason_errors:
            return False
        if self.wants_confirmation and not self.confirm:
            self.confirm_errors.append(forms.CONFIRM_MESSAGE)
            return False
        return True

    def first_error(self) -> str:
        return " ".join(self.errors) or next(
            (e for errors in (*self.competence_errors.values(), self.comment_errors, self.reason_errors,
                              self.confirm_errors) for e in errors), "")

    def add_domain_error(self, error: DomainError) -> None:
        """The messages of a refusal by the services, on the fields they name (else on the row)."""
        placed = False
        for name, messages in error.errors.items():
            target = {"comment": self.comment_errors, "reason": self.reason_errors,
                      "confirm_non_valide": self.confirm_errors}.get(name)
            if target is not None:
                target.extend(m for m in messages if m not in target)
                placed = True
        if not placed and error.message not in self.errors:
            self.errors.append(error.message)

    def record_args(self) -> tuple[dict[int, bool], str, str]:
        return self.results, self.comment, self.reason


# ---------------------------------------------------------------- what a row shows


@dataclass
class Choice:
    """One competence of a row: its radio pair's name, what is chosen, the assessor's result."""

    competence_id: int
    code: str
    title: str
    name: str
    chosen: str | None
    suggestion: bool | None
    errors: list[str] = field(default_factory=list)


@dataclass
class Carried:
    """A competence acquired at an earlier jury that the file carries (R13)."""

    code: str
    valid_until: date


@dataclass
class Row:
    file_id: int
    name: str
    establishment: str
    cqp_code: str
    status: str
    decided: bool
    comment: str
    choices: list[Choice] = field(default_factory=list)
    carried: list[Carried] = field(default_factory=list)
    selected: bool = False
    reason: str = ""
    confirm: bool = False
    errors: list[str] = field(default_factory=list)
    comment_errors: list[str] = field(default_factory=list)
    reason_errors: list[str] = field(default_factory=list)
    confirm_errors: list[str] = field(default_factory=list)

    @property
    def selectable(self) -> bool:
        """« Décider conforme à l'évaluation » applies: the file is still to decide."""
        return self.status == FileStatus.INSCRIPTION_JURY.value

    @property
    def refused(self) -> bool:
        return bool(self.errors or any(c.errors for c in self.choices) or self.comment_errors
                    or self.reason_errors or self.confirm_errors)

    def show(self, entry: RowEntry) -> None:
        """The row as it was posted and refused: the choices, texts and messages of `entry`."""
        for choice in self.choices:
            choice.chosen = entry.choices.get(choice.competence_id)
            choice.errors = entry.competence_errors.get(choice.competence_id, [])
        self.comment, self.reason, self.confirm = entry.comment, entry.reason, entry.confirm
        self.errors, self.comment_errors = entry.errors, entry.comment_errors
        self.reason_errors, self.confirm_errors = entry.reason_errors, entry.confirm_errors


def rows_of(ids: list[int], entries: dict[int, RowEntry] | None = None,
            selected: set[int] | frozenset = frozenset()) -> list[Row]:
    """The rows of the files `ids` in id order, read as plain rows in three statements (the files with their
    candidate, company, CQP and decision; each competence with its decision and the assessor's result; the
    competences carried), as their decisions recorded them — or as posted for those of `entries`."""
    if not ids:
        return []
    files = db.session.execute(
        select(CandidateFile.id, CandidateFile.status, Candidate.first_name, Candidate.last_name,
               Establishment.name, Cqp.code, Decision.id, Decision.comment)
        .join(Candidate, Candidate.id == CandidateFile.candidate_id)
        .join(Establishment, Establishment.id == CandidateFile.establishment_id)
        .join(Cqp, Cqp.id == CandidateFile.cqp_id)
        .outerjoin(Decision, Decision.file_id == CandidateFile.id)
        .where(CandidateFile.id.in_(ids)).order_by(CandidateFile.id)).all()
    rows = {file_id: Row(file_id, f"{first} {last}", company, cqp, status, decision_id is not None, comment or "",
                         selected=file_id in selected)
            for file_id, status, first, last, company, cqp, decision_id, comment in files}
    competences = db.session.execute(
        select(file_competences.c.file_id, Competence.id, Competence.code, Competence.title,
               DecisionResult.validated, EvaluationResult.acquired)
        .join(Competence, Competence.id == file_competences.c.competence_id)
        .outerjoin(Decision, Decision.file_id == file_competences.c.file_id)
        .outerjoin(DecisionResult, (DecisionResult.decision_id == Decision.id)
                   & (DecisionResult.competence_id == Competence.id))
        .outerjoin(Evaluation, Evaluation.file_id == file_competences.c.file_id)
        .outerjoin(EvaluationResult, (EvaluationResult.evaluation_id == Evaluation.id)
                   & (EvaluationResult.competence_id == Competence.id))
        .where(file_competences.c.file_id.in_(ids))
        .order_by(file_competences.c.file_id, Competence.position, Competence.id)).all()
    for file_id, competence_id, code, title, validated, acquired in competences:
        chosen = None if validated is None else (VALIDATED if validated else NOT_VALIDATED)
        rows[file_id].choices.append(Choice(competence_id, code, title, f"f{file_id}-c_{competence_id}", chosen,
                                            acquired))
    carried = db.session.execute(  # as carry_over.counted: still in the referential, of the file's CQP
        select(file_carried_competences.c.file_id, Competence.code, AcquiredCompetence.valid_until)
        .join(AcquiredCompetence, AcquiredCompetence.id == file_carried_competences.c.acquired_id)
        .join(Competence, Competence.id == AcquiredCompetence.competence_id)
        .join(CandidateFile, CandidateFile.id == file_carried_competences.c.file_id)
        .where(file_carried_competences.c.file_id.in_(ids), Competence.active.is_(True),
               Competence.cqp_id == CandidateFile.cqp_id)
        .order_by(file_carried_competences.c.file_id, AcquiredCompetence.jury_date, AcquiredCompetence.id)).all()
    for file_id, code, valid_until in carried:
        rows[file_id].carried.append(Carried(code, valid_until))
    for file_id, entry in (entries or {}).items():
        if file_id in rows:
            rows[file_id].show(entry)
    return [rows[file_id] for file_id in sorted(rows)]


# ---------------------------------------------------------------- a page of the session's files


@dataclass
class Counts:
    """The session's files but the withdrawn ones, by state of their decision."""

    undecided: int
    decided: int

    @property
    def total(self) -> int:
        return self.undecided + self.decided

    def of(self, state: str) -> int:
        return {"a_decider": self.undecided, "decides": self.decided}.get(state, self.total)


@dataclass
class Page:
    state: str
    ids: list[int]  # the page's files, in id order
    counts: Counts
    after: int | None  # the cursor of the next page (None: this is the last)
    before: int | None  # the cursor of the previous page (None: this is the first)


def _in_state(status: str, state: str) -> bool:
    if state == "a_decider":
        return status == FileStatus.INSCRIPTION_JURY.value
    if state == "decides":
        return status in _DECIDED
    return status != FileStatus.ABANDONNE.value


def page_of(jury_session: JurySession, state: str = DEFAULT_STATE, after: int | None = None,
            before: int | None = None, size: int = PAGE_SIZE) -> Page:
    """The files of one page in id order: those after `after` (or the page before `before`), in `state`.

    The session's (id, status) pairs are read by the session's index — a few hundred small rows, which give the
    counts and the page; PostgreSQL otherwise walks the primary key of every file of the branch to find the
    first 50 of a session in id order."""
    state = state if state in STATES else DEFAULT_STATE
    statuses = db.session.execute(select(CandidateFile.id, CandidateFile.status)
                                  .where(CandidateFile.jury_session_id == jury_session.id)).all()
    ids = sorted(file_id for file_id, status in statuses if _in_state(status, state))
    undecided = sum(1 for _, status in statuses if status == FileStatus.INSCRIPTION_JURY.value)
    decided = sum(1 for _, status in statuses if status in _DECIDED)
    if before is not None:
        end = bisect.bisect_left(ids, before)
        start = max(0, end - size)
        if start == 0:  # no full page before: the first page
            end = min(len(ids), size)
    else:
        start = bisect.bisect_right(ids, after) if after is not None else 0
        end = min(len(ids), start + size)
    wanted = ids[start:end]
    return Page(state=state, ids=wanted, counts=Counts(undecided=undecided, decided=decided),
                after=wanted[-1] if wanted and end < len(ids) else None,
                before=wanted[0] if wanted and start > 0 else None)


def files_posted(jury_session: JurySession, ids: list[int]) -> list[CandidateFile]:
    """The session's files (but withdrawn ones) among `ids`, with what recording their decisions reads."""
    if not ids:
        return []
    return list(db.session.scalars(
        select(CandidateFile).where(CandidateFile.jury_session_id == jury_session.id,
                                    CandidateFile.status != FileStatus.ABANDONNE.value,
                                    CandidateFile.id.in_(ids))
        .options(*DECISION_SHEET).order_by(CandidateFile.id)))
