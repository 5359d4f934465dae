"""Operations on candidates and candidate files, one function per business action, shared by the web
pages and the API. They flush, never commit (the request commits once); status changes go through
`workflow.fire`; emails are queued by app.files.notifications in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts import services as accounts
from app.accounts.models import OneTimeToken, Role, User
from app.core import audit, uploads
from app.core.clock import now, today
from app.core.errors import Conflict, Gone, NotFound, RuleViolation, ValidationFailed
from app.core.tokens import hash_token, new_token
from app.extensions import db
from app.files import notifications, workflow
from app.files.models import (
    DOCUMENT_KINDS,
    FINAL_STATUSES,
    TRAINING_PATHS,
    TRAINING_SCHEMES,
    Candidate,
    CandidateFile,
    Document,
    Evaluation,
    EvaluationResult,
    FileStatus,
    JobAssessorInvitation,
    JobAssessorObservation,
    name_key,
)
from app.referential import services as referential
from app.referential.models import Assessor, Competence, Cqp

JOB_ASSESSOR_INVITATION_DAYS = 30
CANDIDATE_INVITATION_DAYS = 14
DUPLICATE_MESSAGE = (
    "Ce candidat existe déjà dans votre établissement (même nom, prénom et date de naissance) : "
    "ouvrez sa fiche plutôt que d'en créer une nouvelle."
)
# Who may deposit which kind of document (API.md: entreprise, candidat, evaluateur).
UPLOAD_KINDS_BY_ROLE = {
    Role.ENTREPRISE.value: {"diplome", "dossier_candidature"},
    Role.CANDIDAT.value: {"diplome", "dossier_candidature"},
    Role.EVALUATEUR.value: {"guide_evaluation"},
}


# ---------------------------------------------------------------- who sees what (query scopes)


def _assessor_id_of(user) -> int | None:
    return db.session.scalar(select(Assessor.id).where(Assessor.user_id == user.id))


def _jury_session_ids(user):
    from app.jury.models import jury_members  # the jury area depends on files; imported lazily

    return select(jury_members.c.session_id).where(jury_members.c.user_id == user.id)


def files_visible_to(user) -> Select:
    """Files a user may see: entreprise its establishment's, evaluateur those naming them, candidat
    their own, secretariat all, jury those of the sessions they sit on, anyone else none."""
    query = select(CandidateFile)
    role = getattr(user, "role", None)
    if role == Role.SECRETARIAT:
        return query
    if role == Role.ENTREPRISE and user.establishment_id:
        return query.where(CandidateFile.establishment_id == user.establishment_id)
    if role == Role.EVALUATEUR:
        return query.join(Assessor, CandidateFile.assessor_id == Assessor.id).where(Assessor.user_id == user.id)
    if role == Role.CANDIDAT:
        return query.join(Candidate, CandidateFile.candidate_id == Candidate.id).where(Candidate.user_id == user.id)
    if role == Role.JURY:
        return query.where(CandidateFile.jury_session_id.in_(_jury_session_ids(user)))
    return query.where(False)


def candidates_visible_to(user) -> Select:
    query = select(Candidate)
    role = getattr(user, "role", None)
    if role == Role.SECRETARIAT:
        return query
    if role == Role.ENTREPRISE and user.establishment_id:
        return query.where(Candidate.establishment_id == user.establishment_id)
    if role == Role.CANDIDAT:
        return query.where(Candidate.user_id == user.id)
    if role in (Role.EVALUATEUR, Role.JURY):
        file_ids = files_visible_to(user).with_only_columns(CandidateFile.candidate_id)
        return query.where(Candidate.id.in_(file_ids))
    return query.where(False)


def _as_id(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def get_file_for(user, file_id) -> CandidateFile:
    """The file if the user may see it; otherwise NotFound (404: another tenant's file does not exist)."""
    ident = _as_id(file_id)
    file = db.session.scalar(files_visible_to(user).where(CandidateFile.id == ident)) if ident else None
    if file is None:
        raise NotFound("Ce dossier n'existe pas, ou vous n'y avez pas accès.")
    return file


def get_candidate_for(user, candidate_id, field: str | None = None) -> Candidate:
    ident = _as_id(candidate_id)
    candidate = db.session.scalar(candidates_visible_to(user).where(Candidate.id == ident)) if ident else None
    if candidate is None:
        message = "Ce candidat n'existe pas, ou vous n'y avez pas accès."
        raise NotFound.for_field(field, message) if field else NotFound(message)
    return candidate


def get_document_for(user, document_id, *, file: CandidateFile | None = None,
                     candidate: Candidate | None = None) -> Document:
    """A document of a file (or of a candidate) the user already may see."""
    ident = _as_id(document_id)
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


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(query: Select, page: int = 1, per_page: int = 20) -> Page:
    page = max(1, page or 1)
    per_page = min(max(1, per_page or 20), 100)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items, total, page, per_page)


def search_files(user, *, status: str | None = None, cqp: str | None = None, q: str | None = None,
                 page: int = 1, per_page: int = 20) -> Page:
    query = files_visible_to(user)
    if status:
        if status not in {s.value for s in FileStatus}:
            raise ValidationFailed.for_field("status", f"Statut inconnu : {status}.")
        query = query.where(CandidateFile.status == status)
    if cqp:
        query = query.where(CandidateFile.cqp_id.in_(select(Cqp.id).where(Cqp.code == cqp.strip().upper())))
    if q and q.strip():
        query = query.where(CandidateFile.candidate_id.in_(_candidate_ids_matching(q)))
    query = query.options(
        selectinload(CandidateFile.candidate), selectinload(CandidateFile.cqp),
        selectinload(CandidateFile.assessor).selectinload(Assessor.user),
        selectinload(CandidateFile.establishment),
    ).order_by(CandidateFile.created_at.desc(), CandidateFile.id.desc())
    return paginate(query, page, per_page)


def _candidate_ids_matching(q: str):
    conditions = []
    for word in name_key(q).split():
        like = f"%{word}%"
        conditions.append(or_(Candidate.last_name_key.like(like), Candidate.first_name_key.like(like)))
    return select(Candidate.id).where(*conditions)


def search_candidates(user, q: str | None = None, page: int = 1, per_page: int = 20) -> Page:
    query = candidates_visible_to(user)
    if q and q.strip():
        query = query.where(Candidate.id.in_(_candidate_ids_matching(q)))
    query = query.order_by(Candidate.last_name_key, Candidate.first_name_key, Candidate.id)
    return paginate(query, page, per_page)


# ---------------------------------------------------------------- candidates (R12)


def _required(value, field: str, label: str) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if not text:
        raise ValidationFailed.for_field(field, f"{label} est obligatoire.")
    return text


def _check_birth_date(value) -> date:
    if value is None or value == "":
        raise ValidationFailed.for_field("birth_date", "La date de naissance est obligatoire.")
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed.for_field(
                "birth_date", "La date de naissance n'est pas valide (format attendu AAAA-MM-JJ)."
            ) from None
    if value >= today() or value.year < 1900:
        raise ValidationFailed.for_field("birth_date", "La date de naissance n'est pas plausible.")
    return value


def _find_duplicate(establishment_id: int, first_name: str, last_name: str, birth_date: date,
                    exclude_id: int | None = None) -> Candidate | None:
    query = select(Candidate).where(
        Candidate.establishment_id == establishment_id,
        Candidate.last_name_key == name_key(last_name),
        Candidate.first_name_key == name_key(first_name),
        Candidate.birth_date == birth_date,
    )
    if exclude_id is not None:
        query = query.where(Candidate.id != exclude_id)
    return db.session.scalar(query)


def _flush_candidate(candidate: Candidate) -> None:
    """The unique constraint backs the R12 check when two requests race."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict.for_field("last_name", DUPLICATE_MESSAGE) from None


def _apply_candidate_fields(candidate: Candidate, data: dict) -> None:
    candidate.birth_place = (data.get("birth_place") or "").strip() or None
    email = (data.get("email") or "").strip()
    candidate.email = accounts.check_email(email) if email else None
    for name in ("phone", "address", "job_title", "highest_diploma"):
        if name in data:
            setattr(candidate, name, (data.get(name) or "").strip() or None)


def create_candidate(establishment, actor, *, first_name, last_name, birth_date, **data) -> Candidate:
    """R12: a candidate is created once per establishment (same names and birth date = duplicate)."""
    first_name = _required(first_name, "first_name", "Le prénom")
    last_name = _required(last_name, "last_name", "Le nom")
    birth_date = _check_birth_date(birth_date)
    if _find_duplicate(establishment.id, first_name, last_name, birth_date) is not None:
        raise Conflict.for_field("last_name", DUPLICATE_MESSAGE)
    candidate = Candidate(establishment_id=establishment.id, birth_date=birth_date)
    candidate.set_names(first_name, last_name)
    _apply_candidate_fields(candidate, data)
    db.session.add(candidate)
    _flush_candidate(candidate)
    audit.record("candidate.create", actor, candidate)
    return candidate


def update_candidate(candidate: Candidate, actor, *, first_name, last_name, birth_date, **data) -> Candidate:
    """The company, or the candidate themself, corrects the civil status (R12 still holds)."""
    first_name = _required(first_name, "first_name", "Le prénom")
    last_name = _required(last_name, "last_name", "Le nom")
    birth_date = _check_birth_date(birth_date)
    if _find_duplicate(candidate.establishment_id, first_name, last_name, birth_date, candidate.id) is not None:
        raise Conflict.for_field("last_name", DUPLICATE_MESSAGE)
    candidate.set_names(first_name, last_name)
    candidate.birth_date = birth_date
    _apply_candidate_fields(candidate, data)
    _flush_candidate(candidate)
    audit.record("candidate.update", actor, candidate)
    return candidate


def invite_candidate(candidate: Candidate, actor, email: str | None = None) -> str:
    """Emails the candidate a one-time link to set a password and complete their civil status."""
    address = accounts.check_email(email or candidate.email or "", "email")
    user = candidate.user
    if user is None:
        existing = accounts.find_user_by_email(address)
        if existing is not None:
            raise Conflict.for_field("email", f"Un compte existe déjà pour l'adresse {address}.")
        user = accounts.create_user(address, Role.CANDIDAT, first_name=candidate.first_name,
                                    last_name=candidate.last_name, actor=actor)
        candidate.user_id = user.id
    elif user.email.lower() != address:
        if accounts.find_user_by_email(address) is not None:
            raise Conflict.for_field("email", f"Un compte existe déjà pour l'adresse {address}.")
        user.email = address
    candidate.email = address
    # A new invitation makes the earlier links useless.
    db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id == user.id, OneTimeToken.purpose == "candidate_invitation",
               OneTimeToken.used_at.is_(None))
        .values(used_at=now())
        .execution_options(synchronize_session=False)
    )
    token = new_token(32)
    db.session.add(OneTimeToken(user_id=user.id, purpose="candidate_invitation", token_hash=hash_token(token),
                                expires_at=now() + timedelta(days=CANDIDATE_INVITATION_DAYS)))
    db.session.flush()
    notifications.candidate_invited(candidate, user, token)
    audit.record("candidate.invite", actor, candidate, email=address)
    return token


def candidate_invitation(token: str) -> OneTimeToken:
    """The live invitation behind a link; unknown 404, used or expired 410."""
    row = db.session.scalar(select(OneTimeToken).where(
        OneTimeToken.token_hash == hash_token(token or ""), OneTimeToken.purpose == "candidate_invitation"))
    if row is None:
        raise NotFound("Ce lien d'invitation n'existe pas.")
    if row.used_at is not None:
        raise Gone("Ce lien d'invitation a déjà été utilisé. Connectez-vous avec votre adresse email et votre mot de passe.")
    if row.expires_at <= now():
        raise Gone("Ce lien d'invitation a expiré. Demandez à votre entreprise de vous inviter à nouveau.")
    return row


def accept_candidate_invitation(token: str, password: str) -> User:
    """Spends the link (one conditional UPDATE) and sets the candidate's password."""
    row = candidate_invitation(token)
    accounts.set_password(row.user, password)  # raises before the link is spent if too weak
    spent = db.session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None), OneTimeToken.expires_at > now())
        .values(used_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise Gone("Ce lien d'invitation a déjà été utilisé.")
    audit.record("candidate.invitation_accepted", row.user, row.user)
    return row.user


# ---------------------------------------------------------------- files


def _check_choice(value, choices: dict, field: str, label: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in choices:
        raise ValidationFailed.for_field(field, f"{label} « {value} » n'existe pas.")
    return value


def _check_date(value, field: str, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed.for_field(field, f"{label} n'est pas valide (format attendu AAAA-MM-JJ).") from None


def _competences_of(cqp: Cqp, codes) -> list[Competence]:
    if isinstance(codes, str):
        codes = [codes]
    codes = [str(c).strip().upper() for c in codes or [] if str(c).strip()]
    if not codes:
        raise ValidationFailed.for_field("competence_codes", "Choisissez au moins une compétence du CQP.")
    by_code = {c.code.upper(): c for c in cqp.active_competences}
    unknown = [c for c in codes if c not in by_code]
    if unknown:
        raise ValidationFailed.for_field(
            "competence_codes",
            f"Compétence(s) {', '.join(unknown)} inconnue(s) pour le CQP {cqp.code}.",
        )
    return sorted({by_code[c] for c in codes}, key=lambda c: c.position)


def _habilitated_assessor(assessor_id, cqp: Cqp) -> Assessor:
    ident = _as_id(assessor_id)
    assessor = db.session.get(Assessor, ident) if ident else None
    if assessor is None:
        raise ValidationFailed.for_field("assessor_id", "Cet évaluateur n'existe pas.")
    if not assessor.is_habilitated(today(), cqp):
        if assessor.habilitation_until < today():
            message = (f"L'habilitation de l'évaluateur {assessor.name} a pris fin le "
                       f"{assessor.habilitation_until.strftime('%d/%m/%Y')}.")
        else:
            message = f"L'évaluateur {assessor.name} n'est pas habilité pour le CQP {cqp.code}."
        raise ValidationFailed.for_field("assessor_id", message)
    return assessor


def _check_training_org_siret(value) -> str | None:
    siret = accounts.normalize_siret(value)
    return accounts.check_siret(siret, "training_org_siret") if siret else None


def _apply_file_fields(file: CandidateFile, cqp: Cqp, data: dict, partial: bool) -> None:
    """Validates every field first, then writes: a refusal leaves the file untouched."""
    changes: dict = {}
    if not partial or "competence_codes" in data or file.cqp_id != cqp.id:
        changes["competences"] = _competences_of(cqp, data.get("competence_codes"))
    if not partial or "training_path" in data:
        changes["training_path"] = _check_choice(data.get("training_path"), TRAINING_PATHS, "training_path",
                                                 "Le parcours")
    if not partial or "training_scheme" in data:
        changes["training_scheme"] = _check_choice(data.get("training_scheme"), TRAINING_SCHEMES,
                                                   "training_scheme", "Le dispositif de formation")
    if not partial or "training_org_siret" in data:
        changes["training_org_siret"] = _check_training_org_siret(data.get("training_org_siret"))
    if not partial or "assessor_id" in data:
        assessor_id = data.get("assessor_id")
        changes["assessor"] = _habilitated_assessor(assessor_id, cqp) if assessor_id not in (None, "") else None
    if not partial or "interview_date" in data:
        planned = _check_date(data.get("interview_date"), "interview_date", "La date d'entretien prévue")
        if planned is not None and planned < today():
            raise ValidationFailed.for_field("interview_date", "La date d'entretien prévue ne peut pas être passée.")
        changes["planned_interview_date"] = planned
    file.cqp = cqp
    for name, value in changes.items():
        setattr(file, name, value)


def create_file(candidate: Candidate, actor, *, cqp_code, **data) -> CandidateFile:
    """A candidature: the candidate, a CQP and its competences, the training, the assessor."""
    cqp = referential.get_cqp_by_code(_required(cqp_code, "cqp_code", "Le CQP"))
    # Built detached (ids, not the candidate relationship) so that a refused field leaves nothing pending.
    file = CandidateFile(candidate_id=candidate.id, establishment_id=candidate.establishment_id,
                         status=FileStatus.EN_COURS_INSCRIPTION.value, created_by_id=getattr(actor, "id", None))
    _apply_file_fields(file, cqp, data, partial=False)
    db.session.add(file)
    db.session.flush()
    db.session.expire(candidate, ["files"])
    audit.record("file.create", actor, file, cqp=cqp.code)
    return file


def _require_registration(file: CandidateFile) -> None:
    if file.status != FileStatus.EN_COURS_INSCRIPTION:
        raise Conflict(
            f"Le dossier ne peut plus être modifié : il est au statut « {file.status_label} » "
            "(modifiable seulement « En cours d'inscription »).",
            {"status": [file.status]},
        )


def update_file(file: CandidateFile, actor, **data) -> CandidateFile:
    """Edits the candidature while it is `en_cours_inscription` (409 afterwards)."""
    _require_registration(file)
    cqp = referential.get_cqp_by_code(data["cqp_code"]) if data.get("cqp_code") else file.cqp
    _apply_file_fields(file, cqp, data, partial=True)
    db.session.flush()
    audit.record("file.update", actor, file)
    return file


def allowed_upload_kinds(user, file: CandidateFile | None) -> list[str]:
    kinds = UPLOAD_KINDS_BY_ROLE.get(getattr(user, "role", None), set())
    if file is not None and file.status_enum in FINAL_STATUSES:
        return []
    if file is None or file.status != FileStatus.EN_ATTENTE_EVALUATION:
        kinds = kinds - {"guide_evaluation"}  # the guide belongs to the evaluation step
    return [k for k in DOCUMENT_KINDS if k in kinds]


def upload_document(actor, *, kind: str, upload, candidate: Candidate, file: CandidateFile | None = None) -> Document:
    """Stores a scan (PDF/PNG/JPEG by content, ≤ 10 MB) for a candidate or one of their files."""
    if kind not in DOCUMENT_KINDS:
        raise ValidationFailed.for_field("kind", "Type de document inconnu : choisissez diplôme, dossier de "
                                                 "candidature (outil n°6) ou guide d'évaluation (outil n°4).")
    if kind not in allowed_upload_kinds(actor, file):
        if file is not None and file.status_enum in FINAL_STATUSES:
            raise Conflict(f"Le dossier est au statut « {file.status_label} » : plus aucun document ne peut "
                           "y être déposé.", {"status": [file.status]})
        if kind == "guide_evaluation" and file is not None and getattr(actor, "role", None) == Role.EVALUATEUR:
            raise Conflict(f"Le guide d'évaluation se dépose quand le dossier est « En attente d'évaluation » "
                           f"(statut actuel : « {file.status_label} »).", {"status": [file.status]})
        raise ValidationFailed.for_field("kind", f"Vous ne pouvez pas déposer ce type de document "
                                                 f"({DOCUMENT_KINDS[kind]}).")
    stored = uploads.store_upload(upload)
    document = Document(file_id=file.id if file else None, candidate_id=candidate.id, kind=kind,
                        filename=stored.filename, stored_name=stored.stored_name, content_type=stored.content_type,
                        size=stored.size, uploaded_by_id=getattr(actor, "id", None))
    db.session.add(document)
    try:
        db.session.flush()
    except Exception:
        uploads.discard(stored.stored_name)
        raise
    if file is not None:
        db.session.refresh(file, ["documents"])
    audit.record("document.upload", actor, document, kind=kind, file_id=getattr(file, "id", None))
    return document


def confirm_assessor(file: CandidateFile, actor, *, assessor_id=None, interview_date=None) -> CandidateFile:
    """R2: moves the file to `en_attente_evaluation` (guards in the workflow) and emails the assessor."""
    if file.status != FileStatus.EN_COURS_INSCRIPTION:
        workflow.fire(file, "confirm_assessor", actor)  # raises the Conflict naming the status
    data = {}
    if assessor_id not in (None, ""):
        data["assessor_id"] = assessor_id
    if interview_date not in (None, ""):
        data["interview_date"] = interview_date
    if data:
        _apply_file_fields(file, file.cqp, data, partial=True)
    workflow.fire(file, "confirm_assessor", actor)
    file.assessor_confirmed_on = today()
    db.session.flush()
    return file


def withdraw(file: CandidateFile, actor, reason: str) -> CandidateFile:
    reason = (reason or "").strip()
    workflow.fire(file, "withdraw", actor, reason=reason)
    file.withdraw_reason = reason
    db.session.flush()
    return file


# ---------------------------------------------------------------- job assessor (R3)


def _require_evaluation_step(file: CandidateFile, what: str) -> None:
    if file.status != FileStatus.EN_ATTENTE_EVALUATION:
        raise Conflict(f"{what} n'est possible que lorsque le dossier est « En attente d'évaluation » "
                       f"(statut actuel : « {file.status_label} »).", {"status": [file.status]})


def invite_job_assessor(file: CandidateFile, actor, *, email, first_name, last_name) -> tuple[JobAssessorInvitation, str]:
    """R3: a one-time link (32 random bytes, stored hashed, 30 days) emailed to the job assessor.
    A new invitation replaces the previous live one."""
    _require_evaluation_step(file, "L'invitation de l'évaluateur métier")
    first_name = _required(first_name, "first_name", "Le prénom de l'évaluateur métier")
    last_name = _required(last_name, "last_name", "Le nom de l'évaluateur métier")
    address = accounts.check_email(email, "email")
    moment = now()
    for previous in file.invitations:
        if previous.replaced_at is None and previous.used_at is None:
            previous.replaced_at = moment
    token = new_token(32)
    invitation = JobAssessorInvitation(
        file=file, email=address, first_name=first_name, last_name=last_name, token_hash=hash_token(token),
        invited_by_id=getattr(actor, "id", None), created_at=moment,
        expires_at=moment + timedelta(days=JOB_ASSESSOR_INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    notifications.job_assessor_invited(invitation, token)
    audit.record("job_assessor.invite", actor, file, email=address)
    return invitation, token


def job_assessor_invitation(token: str) -> JobAssessorInvitation:
    """The live invitation behind a link: unknown 404; spent, replaced or expired 410."""
    invitation = db.session.scalar(
        select(JobAssessorInvitation).where(JobAssessorInvitation.token_hash == hash_token(token or ""))
    )
    if invitation is None:
        raise NotFound("Ce lien d'invitation n'existe pas.")
    if invitation.used_at is not None:
        raise Gone("Vos observations ont déjà été enregistrées : ce lien ne peut servir qu'une fois.")
    if invitation.replaced_at is not None:
        raise Gone("Ce lien a été remplacé par une invitation plus récente : utilisez le dernier email reçu.")
    if invitation.expires_at <= now():
        raise Gone("Ce lien a expiré (valable 30 jours). Demandez à l'évaluateur habilité de vous inviter à nouveau.")
    if invitation.file.status != FileStatus.EN_ATTENTE_EVALUATION:
        raise Gone("L'évaluation de ce dossier est close : les observations ne peuvent plus être saisies.")
    return invitation


def submit_job_assessor_observations(token: str, observations: dict[str, str],
                                     general_comment: str | None = None) -> JobAssessorInvitation:
    """The job assessor's observations, one per competence of the file. The link is spent by ONE
    conditional UPDATE: of two simultaneous submissions exactly one succeeds, the other gets 410."""
    invitation = job_assessor_invitation(token)
    file = invitation.file
    by_code = {c.code.upper(): c for c in file.competences}
    cleaned = {str(code).strip().upper(): (comment or "").strip() for code, comment in (observations or {}).items()}
    unknown = [code for code in cleaned if code not in by_code]
    if unknown:
        raise ValidationFailed.for_field(
            "observations", f"Compétence(s) {', '.join(unknown)} absente(s) de ce dossier.")
    missing = {f"observation_{c.code}": f"L'observation sur la compétence {c.code} n'est pas saisie."
               for c in file.competences if not cleaned.get(c.code.upper())}
    if missing:
        raise ValidationFailed("Saisissez une observation pour chaque compétence : "
                               + " ".join(missing.values()), {k: [v] for k, v in missing.items()})
    moment = now()
    spent = db.session.execute(
        update(JobAssessorInvitation)
        .where(JobAssessorInvitation.id == invitation.id, JobAssessorInvitation.used_at.is_(None),
               JobAssessorInvitation.replaced_at.is_(None), JobAssessorInvitation.expires_at > moment)
        .values(used_at=moment, general_comment=(general_comment or "").strip() or None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise Gone("Vos observations ont déjà été enregistrées : ce lien ne peut servir qu'une fois.")
    db.session.refresh(invitation)
    for code, competence in by_code.items():
        invitation.observations.append(JobAssessorObservation(competence=competence, comment=cleaned[code]))
    db.session.flush()
    db.session.refresh(file, ["invitations"])
    audit.record("job_assessor.observations", None, file, invitation_id=invitation.id)
    notify_comments_if_complete(file)
    return invitation


# ---------------------------------------------------------------- evaluation (R4, R5, R6)


def assessor_comments_complete(file: CandidateFile) -> bool:
    results = {r.competence_id: r for r in file.evaluation.results} if file.evaluation else {}
    return bool(file.competences) and all(
        c.id in results and (results[c.id].comment or "").strip() for c in file.competences
    )


def notify_comments_if_complete(file: CandidateFile) -> bool:
    """R4: once both evaluators' comments are in, the company gets ONE email (conditional UPDATE)."""
    evaluation = file.evaluation
    if evaluation is None or evaluation.comments_notified_at is not None:
        return False
    if not (assessor_comments_complete(file) and file.job_assessor_observations_in):
        return False
    claimed = db.session.execute(
        update(Evaluation)
        .where(Evaluation.id == evaluation.id, Evaluation.comments_notified_at.is_(None))
        .values(comments_notified_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    db.session.refresh(evaluation)
    notifications.comments_in(file)
    return True


def _parse_acquired(value, code: str):
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "acquis", "oui"}:
        return True
    if text in {"0", "false", "non_acquis", "non acquis", "non"}:
        return False
    raise ValidationFailed.for_field(f"results.{code}", f"Résultat invalide pour la compétence {code} : "
                                                        "acquis ou non acquis.")


def save_evaluation(file: CandidateFile, actor, *, interview_date, results: list[dict],
                    candidate_observations: str | None = None) -> Evaluation:
    """A draft of the evaluation, accepted only inside the R5 window (interview day … +8 days)."""
    _require_evaluation_step(file, "La saisie de l'évaluation")
    interview = _check_date(interview_date, "interview_date", "La date de l'entretien")
    window = workflow.results_window_problems(file, interview)
    if window:
        raise RuleViolation(next(iter(window.values())), {k: [v] for k, v in window.items()})
    by_code = {c.code.upper(): c for c in file.competences}
    parsed: dict[int, tuple[bool | None, str | None]] = {}
    for entry in results or []:
        code = str(entry.get("competence_code") or "").strip().upper()
        if code not in by_code:
            raise ValidationFailed.for_field(
                "results", f"La compétence « {code or '?'} » ne fait pas partie de ce dossier.")
        parsed[by_code[code].id] = (_parse_acquired(entry.get("acquired"), code),
                                    (entry.get("comment") or "").strip() or None)
    evaluation = file.evaluation
    if evaluation is None:
        evaluation = Evaluation(file=file)
        db.session.add(evaluation)
    evaluation.interview_date = interview
    evaluation.candidate_observations = (candidate_observations or "").strip() or None
    existing = {r.competence_id: r for r in evaluation.results}
    for competence_id, (acquired, comment) in parsed.items():
        result = existing.get(competence_id)
        if result is None:
            result = EvaluationResult(competence_id=competence_id)
            evaluation.results.append(result)
        result.acquired, result.comment = acquired, comment
    db.session.flush()
    db.session.refresh(evaluation, ["results"])
    audit.record("evaluation.save", actor, file)
    notify_comments_if_complete(file)
    return evaluation


def submit_evaluation(file: CandidateFile, actor) -> CandidateFile:
    """R3, R5, R6 are the workflow's guards; the file moves to `validation_evaluation`."""
    workflow.fire(file, "submit_evaluation", actor)
    file.evaluation.submitted_at = now()
    db.session.flush()
    return file


def assessor_of(user) -> Assessor | None:
    ident = _assessor_id_of(user)
    return db.session.get(Assessor, ident) if ident else None
