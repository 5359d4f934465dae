"""Candidates, candidate files (one per CQP attempt), documents, evaluation, job assessor, history."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Establishment, Role, User
from app.core.clock import now as app_now
from app.extensions import db
from app.files.carry_over_models import AcquiredCompetence, file_carried_competences
from app.referential.models import Assessor, Competence, Cqp


class FileStatus(enum.StrEnum):
    EN_COURS_INSCRIPTION = "en_cours_inscription"
    EN_ATTENTE_EVALUATION = "en_attente_evaluation"
    VALIDATION_EVALUATION = "validation_evaluation"
    INSCRIPTION_JURY = "inscription_jury"
    VALIDE = "valide"
    PARTIEL = "partiel"
    NON_VALIDE = "non_valide"
    ABANDONNE = "abandonne"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


STATUS_LABELS = {
    FileStatus.EN_COURS_INSCRIPTION: "En cours d'inscription",
    FileStatus.EN_ATTENTE_EVALUATION: "En attente d'évaluation",
    FileStatus.VALIDATION_EVALUATION: "Validation de l'évaluation",
    FileStatus.INSCRIPTION_JURY: "Inscription au jury",
    FileStatus.VALIDE: "Validé",
    FileStatus.PARTIEL: "Partiel",
    FileStatus.NON_VALIDE: "Non validé",
    FileStatus.ABANDONNE: "Abandonné",
}
DECISION_STATUSES = (FileStatus.VALIDE, FileStatus.PARTIEL, FileStatus.NON_VALIDE)
# History events whose rows would reveal an unpublished decision.
DECISION_EVENTS = frozenset({"record_decision", "correct_decision", "rectify_decision"})
FINAL_STATUSES = (*DECISION_STATUSES, FileStatus.ABANDONNE)
# The five steps of the step indicator on a file's page.
STEPS = (
    FileStatus.EN_COURS_INSCRIPTION,
    FileStatus.EN_ATTENTE_EVALUATION,
    FileStatus.VALIDATION_EVALUATION,
    FileStatus.INSCRIPTION_JURY,
)

TRAINING_SCHEMES = {
    "periode_professionnalisation": "Période de professionnalisation",
    "plan_developpement_competences": "Plan de développement des compétences",
    "contrat_professionnalisation": "Contrat de professionnalisation",
    "vae": "Validation des acquis de l'expérience (VAE)",
    "pro_a": "Reconversion ou promotion par l'alternance (Pro-A)",
    "autre": "Autre dispositif",
}
TRAINING_PATHS = {
    "formation": "Parcours de formation",
    "evaluation_directe": "Évaluation directe (sans formation)",
    "formation_et_evaluation": "Formation et évaluation",
}
DOCUMENT_KINDS = {
    "diplome": "Diplôme",
    "dossier_candidature": "Dossier de candidature (outil n°6)",
    "guide_evaluation": "Guide d'évaluation (outil n°4)",
}
# Who deposits, deletes and replaces each kind of document (roles).
DOCUMENT_CHANGERS = {
    "diplome": (Role.ENTREPRISE.value, Role.CANDIDAT.value),
    "dossier_candidature": (Role.ENTREPRISE.value, Role.CANDIDAT.value),
    "guide_evaluation": (Role.EVALUATEUR.value,),
}


def _status_in(*statuses: FileStatus) -> str:
    return "(" + ", ".join(f"'{s.value}'" for s in statuses) + ")"


def _open_files_index(name: str, *columns: str, **kwargs) -> Index:
    """An index of the open (not final) files only: partial, on SQLite and PostgreSQL alike."""
    open_only = text("status NOT IN " + _status_in(*FINAL_STATUSES))
    return Index(name, *columns, sqlite_where=open_only, postgresql_where=open_only, **kwargs)


def name_key(value: str) -> str:
    """Case- and accent-insensitive key of a name, for duplicate detection (R12)."""
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(without_marks.replace("-", " ").replace("'", " ").split())


class Candidate(db.Model):
    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("establishment_id", "last_name_key", "first_name_key", "birth_date"),
        # Name search (LIKE '%mot%' on the keys): trigram indexes on PostgreSQL (pg_trgm), plain ones elsewhere.
        Index("ix_candidates_last_name_key_trgm", "last_name_key", postgresql_using="gin",
              postgresql_ops={"last_name_key": "gin_trgm_ops"}),
        Index("ix_candidates_first_name_key_trgm", "first_name_key", postgresql_using="gin",
              postgresql_ops={"first_name_key": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    first_name_key: Mapped[str] = mapped_column(String(120))
    last_name_key: Mapped[str] = mapped_column(String(120), index=True)
    birth_date: Mapped[date]
    birth_place: Mapped[str | None] = mapped_column(String(120))
    # What the CPF register needs of the holder (docs/api.md): `last_name` is the birth name.
    sex: Mapped[str | None] = mapped_column(String(1))  # "M" or "F" (SEXES)
    usage_name: Mapped[str | None] = mapped_column(String(120))  # nom d'usage
    other_first_names: Mapped[list[str] | None] = mapped_column(JSON)  # up to 2, in order
    # INSEE code of the commune of birth, or 99XXX of the country for a birth abroad (COG).
    birth_place_code: Mapped[str | None] = mapped_column(String(5))
    birth_country: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(255))
    job_title: Mapped[str | None] = mapped_column(String(255))
    highest_diploma: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The creating form's idempotency token: the same form posted twice creates one candidate.
    creation_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=app_now)
    updated_at: Mapped[datetime] = mapped_column(default=app_now, onupdate=app_now)
    erased_at: Mapped[datetime | None]  # RGPD erasure: personal data anonymised (app/jury/privacy.py)

    establishment: Mapped[Establishment] = relationship()
    user: Mapped[User | None] = relationship()
    files: Mapped[list[CandidateFile]] = relationship(back_populates="candidate")

    def set_names(self, first_name: str, last_name: str) -> None:
        self.first_name = first_name.strip()
        self.last_name = last_name.strip()
        self.first_name_key = name_key(first_name)
        self.last_name_key = name_key(last_name)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def public_name(self) -> str:
        """« Prénom N. », what public verification shows of a holder."""
        return f"{self.first_name} {self.last_name[:1].upper()}."

    @property
    def first_names(self) -> list[str]:
        """Every first name, in the civil status's order (the first one, then the others)."""
        return [self.first_name, *(self.other_first_names or [])]

    @property
    def born_abroad(self) -> bool:
        return bool(self.birth_place_code) and self.birth_place_code.startswith("99")

    @property
    def cpf_missing(self) -> list[str]:
        """The fields the CPF register still needs of this holder (empty when complete): sex, birth name,
        first name, birth date, the INSEE code of the place of birth, and its label (the commune's, or the
        country's for a birth abroad)."""
        missing = [name for name in ("sex", "last_name", "first_name", "birth_date", "birth_place_code")
                   if not getattr(self, name)]
        if self.birth_place_code:
            label = "birth_country" if self.born_abroad else "birth_place"
            if not getattr(self, label):
                missing.append(label)
        return missing

    @property
    def has_issued_record(self) -> bool:
        """One of its files has a decision: its identity is on an issued record (R15), and only the
        secretariat rectifies it."""
        return any(file.is_decided for file in self.files)

    # ------------------------------------------------------------ who may do what

    @classmethod
    def visible_to(cls, user) -> Select:
        """Candidates a user may see: the company its establishment's, the candidate themself, the
        secretariat all, an assessor or a jury member those of the files they may see."""
        query = select(cls)
        role = getattr(user, "role", None)
        if role == Role.SECRETARIAT:
            return query
        if role == Role.ENTREPRISE and user.establishment_id:
            return query.where(cls.establishment_id == user.establishment_id)
        if role == Role.CANDIDAT:
            return query.where(cls.user_id == user.id)
        if role in (Role.EVALUATEUR, Role.JURY):
            return query.where(cls.id.in_(CandidateFile.visible_to(user).with_only_columns(CandidateFile.candidate_id)))
        return query.where(false())

    def can_edit(self, user) -> bool:
        """The company of the candidate, or the candidate themself, corrects the civil status."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        return user.belongs_to(self.establishment_id) or (user.is_candidate and self.user_id == user.id)


file_competences = Table(
    "file_competences",
    db.metadata,
    Column("file_id", ForeignKey("candidate_files.id", ondelete="CASCADE"), primary_key=True),
    Column("competence_id", ForeignKey("competences.id"), primary_key=True, index=True),
)


class CandidateFile(db.Model):
    """Un dossier candidat: one CQP attempt of one candidate. Its status changes only in workflow.py."""

    __tablename__ = "candidate_files"
    __table_args__ = (
        CheckConstraint("status IN " + _status_in(*FileStatus), name="status"),
        CheckConstraint(
            "status NOT IN "
            + _status_in(FileStatus.EN_ATTENTE_EVALUATION, FileStatus.VALIDATION_EVALUATION, FileStatus.INSCRIPTION_JURY,
                         *DECISION_STATUSES)
            + " OR assessor_id IS NOT NULL",
            name="assessor_required",
        ),
        CheckConstraint(
            "status NOT IN " + _status_in(FileStatus.INSCRIPTION_JURY, *DECISION_STATUSES)
            + " OR jury_session_id IS NOT NULL",
            name="jury_session_required",
        ),
        Index("ix_candidate_files_establishment_id_status", "establishment_id", "status"),
        # The lists, newest first, read by keyset (app.core.listing): all files, per status, per company,
        # per assessor.
        Index("ix_candidate_files_created_at_id", "created_at", "id"),
        Index("ix_candidate_files_status_created_at_id", "status", "created_at", "id"),
        Index("ix_candidate_files_establishment_id_created_at_id", "establishment_id", "created_at", "id"),
        Index("ix_candidate_files_assessor_id_created_at_id", "assessor_id", "created_at", "id"),
        # A search by name (with a status or not): the matching candidates' files, and their count, from the
        # index alone.
        Index("ix_candidate_files_candidate_id_status", "candidate_id", "status"),
        # Statistics (app/stats), read from the index alone: files per CQP and status, files and
        # roll-overs per jury session. They also serve every lookup by cqp_id or jury_session_id.
        Index("ix_candidate_files_cqp_id_status", "cqp_id", "status"),
        Index("ix_candidate_files_jury_session_id_rolled_over", "jury_session_id", "rolled_over"),
        # R12b: at most one open (not final) file per candidate and CQP.
        _open_files_index("uq_candidate_files_open_per_cqp", "candidate_id", "cqp_id", unique=True),
        # The secretariat's home: open files waiting longest (ORDER BY status_changed_at, id LIMIT), and the
        # open files per status with how many wait too long, read from these indexes of open files alone.
        _open_files_index("ix_candidate_files_open_status_changed_at_id", "status_changed_at", "id"),
        _open_files_index("ix_candidate_files_open_status_status_changed_at", "status", "status_changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id"), index=True)
    cqp_id: Mapped[int] = mapped_column(ForeignKey("cqps.id"))
    status: Mapped[str] = mapped_column(String(32), default=FileStatus.EN_COURS_INSCRIPTION.value, index=True)
    training_path: Mapped[str | None] = mapped_column(String(64))
    training_scheme: Mapped[str | None] = mapped_column(String(64))
    training_org_siret: Mapped[str | None] = mapped_column(String(14))
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("assessors.id"), index=True)
    planned_interview_date: Mapped[date | None]
    assessor_confirmed_on: Mapped[date | None]
    jury_session_id: Mapped[int | None] = mapped_column(ForeignKey("jury_sessions.id"))
    requested_jury_session_id: Mapped[int | None] = mapped_column(ForeignKey("jury_sessions.id"), index=True)
    rolled_over: Mapped[bool] = mapped_column(default=False)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The creating form's idempotency token: the same form posted twice creates one file.
    creation_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=app_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=app_now, onupdate=app_now)
    status_changed_at: Mapped[datetime] = mapped_column(default=app_now)
    decided_at: Mapped[datetime | None]

    candidate: Mapped[Candidate] = relationship(back_populates="files")
    establishment: Mapped[Establishment] = relationship()
    cqp: Mapped[Cqp] = relationship()
    competences: Mapped[list[Competence]] = relationship(secondary=file_competences, order_by="Competence.position")
    assessor: Mapped[Assessor | None] = relationship()
    documents: Mapped[list[Document]] = relationship(back_populates="file", order_by="Document.uploaded_at")
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="file", order_by="StatusChange.id", cascade="all, delete-orphan"
    )
    evaluation: Mapped[Evaluation | None] = relationship(back_populates="file", uselist=False)
    invitations: Mapped[list[JobAssessorInvitation]] = relationship(
        back_populates="file", order_by="JobAssessorInvitation.id"
    )
    # The jury area's objects, named by string: this area never imports the jury's modules. What the
    # jury writes on them (the session's publication, the decision, the parchment) is read from here.
    jury_session: Mapped[JurySession | None] = relationship(  # noqa: F821
        "JurySession", foreign_keys=[jury_session_id])
    requested_jury_session: Mapped[JurySession | None] = relationship(  # noqa: F821
        "JurySession", foreign_keys=[requested_jury_session_id])
    decision: Mapped[Decision | None] = relationship(  # noqa: F821
        "Decision", back_populates="file", uselist=False)
    parchment: Mapped[Parchment | None] = relationship(  # noqa: F821
        "Parchment", back_populates="file", uselist=False)
    # The correction request waiting for the company's answer (app.files.exchange_models), if any.
    open_correction_request: Mapped[CorrectionRequest | None] = relationship(  # noqa: F821
        "CorrectionRequest", primaryjoin="and_(CorrectionRequest.file_id == CandidateFile.id, "
        "CorrectionRequest.resolved_at.is_(None))", viewonly=True, uselist=False)
    # R13: the acquired competences (of earlier attempts) this file carries: app.files.carry_over.
    carried_competences: Mapped[list[AcquiredCompetence]] = relationship(
        secondary=file_carried_competences, order_by=AcquiredCompetence.jury_date)
    # What the public list of training organisations (or the Carif-Oref API) says of the SIRET given.
    training_org: Mapped[TrainingOrganisation | None] = relationship(  # noqa: F821
        "TrainingOrganisation", primaryjoin="foreign(CandidateFile.training_org_siret) == TrainingOrganisation.siret",
        viewonly=True, uselist=False)

    @property
    def status_enum(self) -> FileStatus:
        return FileStatus(self.status)

    @property
    def is_final(self) -> bool:
        return self.status_enum.is_final

    @property
    def is_decided(self) -> bool:
        return self.status_enum in DECISION_STATUSES

    @hybrid_property
    def interview_date(self) -> date | None:
        """The actual interview date sent with the results once there is one, else the planned date."""
        evaluation = self.evaluation
        if evaluation is not None and evaluation.interview_date is not None:
            return evaluation.interview_date
        return self.planned_interview_date

    @interview_date.inplace.expression
    @classmethod
    def _interview_date_expression(cls):
        actual = select(Evaluation.interview_date).where(Evaluation.file_id == cls.id).scalar_subquery()
        return func.coalesce(actual, cls.planned_interview_date)

    @hybrid_property
    def is_published(self) -> bool:
        """R10: the results of the file's jury session are published (a fact the jury area writes)."""
        return self.jury_session is not None and self.jury_session.published_at is not None

    @is_published.inplace.expression
    @classmethod
    def _is_published_expression(cls):
        session_class = inspect(cls).relationships["jury_session"].mapper.class_
        return cls.jury_session.has(session_class.published_at.is_not(None))

    @property
    def status_label(self) -> str:
        return self.status_enum.label

    @property
    def current_invitation(self) -> JobAssessorInvitation | None:
        live = [i for i in self.invitations if i.replaced_at is None]
        return live[-1] if live else None

    @property
    def job_assessor_observations_in(self) -> bool:
        return any(i.used_at is not None for i in self.invitations)

    @property
    def job_assessor_observations(self) -> dict[int, str]:
        """{competence_id: comment} of the job assessor's spent invitation (the latest one)."""
        spent = [i for i in self.invitations if i.used_at is not None]
        return {o.competence_id: o.comment for o in spent[-1].observations} if spent else {}

    # ------------------------------------------------------------ who may see and do what (R10)

    @classmethod
    def visible_to(cls, user) -> Select:
        """Files a user may see: the company its establishment's, the assessor those naming them, the
        candidate their own, the secretariat all, a jury member those of the sessions they sit on."""
        query = select(cls)
        role = getattr(user, "role", None)
        if role == Role.SECRETARIAT:
            return query
        if role == Role.ENTREPRISE and user.establishment_id:
            return query.where(cls.establishment_id == user.establishment_id)
        if role == Role.EVALUATEUR:
            return query.where(cls.assessor.has(Assessor.user_id == user.id))
        if role == Role.CANDIDAT:
            return query.where(cls.candidate.has(Candidate.user_id == user.id))
        if role == Role.JURY:
            session_class = inspect(cls).relationships["jury_session"].mapper.class_
            return query.where(cls.jury_session.has(session_class.members.any(User.id == user.id)))
        return query.where(false())

    def can_view(self, user) -> bool:
        role = getattr(user, "role", None)
        if role == Role.SECRETARIAT:
            return True
        if role == Role.ENTREPRISE:
            return user.belongs_to(self.establishment_id)
        if role == Role.EVALUATEUR:
            return self.assessor is not None and self.assessor.user_id == user.id
        if role == Role.CANDIDAT:
            return self.candidate is not None and self.candidate.user_id == user.id
        if role == Role.JURY:
            return self.jury_session is not None and user in self.jury_session.members
        return False

    def _owned_by(self, user) -> bool:
        return user is not None and getattr(user, "role", None) == Role.ENTREPRISE and user.belongs_to(self.establishment_id)

    def can_edit(self, user) -> bool:
        """The company edits the candidature (and confirms the assessor) while it is being registered."""
        return self._owned_by(user) and self.status == FileStatus.EN_COURS_INSCRIPTION

    def can_withdraw(self, user) -> bool:
        return (self._owned_by(user) or getattr(user, "is_secretariat", False)) and not self.is_final

    def can_register(self, user) -> bool:
        """Registration to a jury: the company (or the secretariat for it) once the evaluation is validated."""
        return (self._owned_by(user) or getattr(user, "is_secretariat", False)) \
            and self.status == FileStatus.VALIDATION_EVALUATION

    def can_unregister(self, user) -> bool:
        return (self._owned_by(user) or getattr(user, "is_secretariat", False)) \
            and self.status == FileStatus.INSCRIPTION_JURY

    def can_evaluate(self, user) -> bool:
        """The file's assessor, while the evaluation is open (invitation of the job assessor, results)."""
        return getattr(user, "role", None) == Role.EVALUATEUR and self.assessor is not None \
            and self.assessor.user_id == user.id and self.status == FileStatus.EN_ATTENTE_EVALUATION

    def can_see_evaluation(self, user) -> bool:
        """The evaluation's content: not for the candidate, who sees their file's progress only."""
        return getattr(user, "role", None) in (Role.ENTREPRISE, Role.EVALUATEUR, Role.SECRETARIAT, Role.JURY) \
            and self.can_view(user)

    def can_decide(self, user) -> bool:
        return getattr(user, "is_secretariat", False) and self.jury_session_id is not None \
            and self.status in (FileStatus.INSCRIPTION_JURY, *DECISION_STATUSES)

    def decision_visible_to(self, user) -> bool:
        """R10: the secretariat and the jury see a decision at once, everyone else once published."""
        return bool(getattr(user, "sees_unpublished_decisions", False)) or self.is_published

    def can_download_parchment(self, user) -> bool:
        """The secretariat always; the owning company once the session is published (R10, R11)."""
        if self.status not in (FileStatus.VALIDE, FileStatus.PARTIEL) or self.parchment is None:
            return False
        return getattr(user, "is_secretariat", False) or (self._owned_by(user) and self.is_published)

    def visible_status_for(self, user) -> str:
        """An unpublished decision is shown as « Inscription au jury » to those who may not see it yet."""
        if self.is_decided and not self.decision_visible_to(user):
            return FileStatus.INSCRIPTION_JURY.value
        return self.status

    def visible_history_for(self, user) -> list[StatusChange | HistoryEntry]:
        """The history as `user` may read it (R10). Those who see unpublished decisions (secretariat, jury)
        read every row. Anyone else reads no decision before publication, then one « Décision du jury » at
        publication with the result as it was published: the decision and its corrections made before
        publication are not separate events for them. Rectifications after publication are shown."""
        if getattr(user, "sees_unpublished_decisions", False):
            return list(self.history)
        decided = {s.value for s in DECISION_STATUSES}
        before = [h for h in self.history if h.event not in DECISION_EVENTS and h.to_status not in decided]
        if not self.is_published:
            return before
        settled = [h for h in self.history if h.event in ("record_decision", "correct_decision")]
        if not settled:
            return list(self.history)
        published = HistoryEntry(
            from_status=settled[0].from_status, to_status=settled[-1].to_status, event="record_decision",
            at=max(self.jury_session.published_at, settled[-1].at), actor=None, comment=None)
        rectified = [h for h in self.history if h.event == "rectify_decision"]
        return [*before, published, *rectified]


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("kind IN ('diplome', 'dossier_candidature', 'guide_evaluation')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=app_now)

    file: Mapped[CandidateFile | None] = relationship(back_populates="documents")
    candidate: Mapped[Candidate] = relationship()

    @property
    def kind_label(self) -> str:
        return DOCUMENT_KINDS.get(self.kind, self.kind)

    def change_refusal(self, user) -> str | None:
        """Why `user` may not delete nor replace this document, in French; None when they may. Those who
        deposit a kind change it (the company and the candidate their diplomas and candidature file, the
        file's assessor the evaluation guide) while the step that uses it is not done: the confirmation of
        the assessor (R2) for the candidature's documents, the transmission of the evaluation (R6) for the
        guide. A diploma of the candidate page serves each of their candidatures."""
        role = getattr(user, "role", None)
        candidate = self.candidate
        owner = {
            Role.ENTREPRISE.value: user is not None and candidate is not None and user.belongs_to(candidate.establishment_id),
            Role.CANDIDAT.value: candidate is not None and candidate.user_id == getattr(user, "id", None),
            Role.EVALUATEUR.value: self.file is not None and self.file.assessor is not None
            and self.file.assessor.user_id == getattr(user, "id", None),
        }
        if role not in DOCUMENT_CHANGERS.get(self.kind, ()) or not owner.get(role):
            return f"Vous ne pouvez pas modifier le document « {self.filename} » ({self.kind_label})."
        if self.kind == "guide_evaluation":
            if self.file is None or self.file.status != FileStatus.EN_ATTENTE_EVALUATION:
                status = self.file.status_label if self.file is not None else "—"
                return (f"Le document « {self.filename} » ne peut plus être supprimé ni remplacé : l'évaluation "
                        f"est transmise (dossier « {status} »).")
            return None
        files = [self.file] if self.file is not None else [
            f for f in candidate.files if f.status != FileStatus.ABANDONNE]
        used = next((f for f in files if f.status != FileStatus.EN_COURS_INSCRIPTION), None)
        if used is not None:
            return (f"Le document « {self.filename} » ne peut plus être supprimé ni remplacé : l'évaluateur est "
                    f"confirmé pour la candidature au CQP {used.cqp.code} (dossier « {used.status_label} »).")
        return None

    def can_change(self, user) -> bool:
        return self.change_refusal(user) is None


@dataclass(frozen=True)
class HistoryEntry:
    """A history line that is not a row: the published decision as the company reads it."""

    from_status: str | None
    to_status: str
    event: str
    at: datetime
    actor: User | None = None
    comment: str | None = None


def stay_seconds(began: datetime | None, ended: datetime) -> int | None:
    """Whole seconds between the start and the end of a stay in a status (None when unknown)."""
    return None if began is None else max(0, int((ended - began).total_seconds()))


class StatusChange(db.Model):
    """The file's history: one row per transition, written by the workflow in the same transaction."""

    __tablename__ = "status_changes"
    __table_args__ = (
        # Statistics (app/stats): distinct files per step (funnel), each file's history in order (stays).
        Index("ix_status_changes_to_status_file_id", "to_status", "file_id"),
        Index("ix_status_changes_file_id_at", "file_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32), index=True)
    event: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(default=app_now, index=True)
    # Seconds the file spent in from_status (since the previous row, or its creation): fixed when the
    # stay ends, so that the statistics read the stays without re-pairing the whole history.
    stay_seconds: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)

    file: Mapped[CandidateFile] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class JobAssessorInvitation(db.Model):
    """One-time link for the job assessor (évaluateur métier). The token is stored hashed."""

    __tablename__ = "job_assessor_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=app_now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    replaced_at: Mapped[datetime | None]
    general_comment: Mapped[str | None] = mapped_column(Text)

    file: Mapped[CandidateFile] = relationship(back_populates="invitations")
    observations: Mapped[list[JobAssessorObservation]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class JobAssessorObservation(db.Model):
    __tablename__ = "job_assessor_observations"
    __table_args__ = (UniqueConstraint("invitation_id", "competence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("job_assessor_invitations.id", ondelete="CASCADE"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    comment: Mapped[str] = mapped_column(Text)

    invitation: Mapped[JobAssessorInvitation] = relationship(back_populates="observations")
    competence: Mapped[Competence] = relationship()


class Evaluation(db.Model):
    """The assessor's evaluation of a file: a draft until submitted."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("candidate_files.id", ondelete="CASCADE"), unique=True)
    interview_date: Mapped[date | None]
    candidate_observations: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=app_now, onupdate=app_now)
    submitted_at: Mapped[datetime | None]
    # R4: the company is told once that the evaluators' comments are all in.
    comments_notified_at: Mapped[datetime | None]

    file: Mapped[CandidateFile] = relationship(back_populates="evaluation")
    results: Mapped[list[EvaluationResult]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan"
    )

    def result_for(self, competence: Competence) -> EvaluationResult | None:
        return next((r for r in self.results if r.competence_id == competence.id), None)


class EvaluationResult(db.Model):
    __tablename__ = "evaluation_results"
    __table_args__ = (UniqueConstraint("evaluation_id", "competence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id"), index=True)
    acquired: Mapped[bool | None]
    comment: Mapped[str | None] = mapped_column(Text)

    evaluation: Mapped[Evaluation] = relationship(back_populates="results")
    competence: Mapped[Competence] = relationship()
