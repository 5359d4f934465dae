"""The secretariat's lists (every file of the branch, the partners' access log): one SELECT of
plain columns per page (no lazy loading), the same statement streamed for the exports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select

from app.accounts.models import Establishment, PartnerAccessLog, User
from app.core.listing import ListQuery, Page, apply_sort, like_pattern, paginate, parse_list_args, sort_keys
from app.extensions import db
from app.files.models import STATUS_LABELS, Candidate, CandidateFile, FileStatus, name_key
from app.jury.models import JurySession
from app.referential.models import Cqp

# ------------------------------------------------------------------ every file of the branch

FILE_SORTS = {
    "numero": CandidateFile.id,
    "candidat": (Candidate.last_name_key, Candidate.first_name_key),
    "cqp": Cqp.code,
    "etablissement": Establishment.name,
    "statut": CandidateFile.status,
    "cree": CandidateFile.created_at,
    "depuis": CandidateFile.status_changed_at,
}
FILE_FILTERS = ("status", "cqp", "siret", "year")
FILE_HEADERS = ["N° dossier", "Nom", "Prénom", "CQP", "Intitulé du CQP", "Établissement", "SIRET", "Statut",
                "Code statut", "Créé le", "Statut depuis le", "Session de jury"]


def parse_file_list_args(args) -> ListQuery:
    return parse_list_args(args, sorts=FILE_SORTS, default_sort="cree", default_direction="desc",
                           filters=FILE_FILTERS)


def file_list_candidate_ids(query: ListQuery) -> Select:
    """The candidates an export of the list names (RGPD: each read is audited, app.core.audit.record_reads_of)."""
    listed = file_list_statement(query).order_by(None).subquery()
    return select(CandidateFile.candidate_id).where(CandidateFile.id.in_(select(listed.c.id))).distinct()


def file_list_statement(query: ListQuery) -> Select:
    f = CandidateFile
    stmt = (
        select(f.id, Candidate.last_name, Candidate.first_name, Cqp.code.label("cqp_code"),
               Cqp.title.label("cqp_title"), Establishment.name.label("establishment_name"),
               Establishment.siret, f.status, f.created_at, f.status_changed_at,
               JurySession.date.label("jury_date"))
        .join(Candidate, Candidate.id == f.candidate_id)
        .join(Cqp, Cqp.id == f.cqp_id)
        .join(Establishment, Establishment.id == f.establishment_id)
        .outerjoin(JurySession, JurySession.id == f.jury_session_id)
    )
    # Every filter is a condition on candidate_files (subqueries for the other tables), so that the
    # page's COUNT reads candidate_files alone; the joins above only bring the columns.
    filters = query.filters
    if filters.get("status") in {s.value for s in FileStatus}:
        stmt = stmt.where(f.status == filters["status"])
    if filters.get("cqp"):
        stmt = stmt.where(f.cqp_id.in_(select(Cqp.id).where(Cqp.code == filters["cqp"].upper())))
    if filters.get("siret"):
        stmt = stmt.where(f.establishment_id.in_(
            select(Establishment.id).where(Establishment.siret == "".join(filters["siret"].split()))))
    year = filters.get("year", "")
    if year.isdigit() and 2000 <= int(year) <= 2100:
        stmt = stmt.where(f.created_at >= datetime(int(year), 1, 1), f.created_at < datetime(int(year) + 1, 1, 1))
    # Search on the candidate's name, accent- and case-insensitive: every word must match (the
    # pg_trgm indexes of the names answer the LIKE on PostgreSQL).
    words = name_key(query.q).split()
    if words:
        matching = select(Candidate.id)
        for word in words:
            pattern = like_pattern(word)
            matching = matching.where(or_(Candidate.last_name_key.like(pattern, escape="\\"),
                                          Candidate.first_name_key.like(pattern, escape="\\")))
        stmt = stmt.where(f.candidate_id.in_(matching))
    return apply_sort(stmt, query, FILE_SORTS, f.id)


def file_list_page(query: ListQuery) -> Page:
    return paginate(file_list_statement(query), query, keys=sort_keys(query, FILE_SORTS, CandidateFile.id),
                    count_from=CandidateFile.__table__)


def file_row(row) -> list:
    return [row.id, row.last_name, row.first_name, row.cqp_code, row.cqp_title, row.establishment_name, row.siret,
            STATUS_LABELS[FileStatus(row.status)], row.status, row.created_at.date(),
            row.status_changed_at.date() if row.status_changed_at else None, row.jury_date]


# ------------------------------------------------------------------ partner access log

ACCESS_SORTS = {
    "date": PartnerAccessLog.at,
    "appelant": User.email,
    "siret": PartnerAccessLog.siret,
    "statut": PartnerAccessLog.status_code,
}
ACCESS_FILTERS = ("siret", "user")
ACCESS_HEADERS = ["Date (UTC)", "Appelant", "Rôle", "SIRET consulté", "Contexte (context)",
                  "Destinataire (recipient)", "Objet (object)", "Réponse HTTP", "Adresse IP"]


def parse_access_log_args(args) -> ListQuery:
    return parse_list_args(args, sorts=ACCESS_SORTS, default_sort="date", default_direction="desc",
                           filters=ACCESS_FILTERS)


def access_log_statement(query: ListQuery) -> Select:
    log = PartnerAccessLog
    stmt = select(log.id, log.at, User.email, User.role, log.siret, log.context, log.recipient, log.object,
                  log.status_code, log.ip).outerjoin(User, User.id == log.user_id)
    if query.filters.get("siret"):
        stmt = stmt.where(log.siret == "".join(query.filters["siret"].split()))
    if query.filters.get("user"):
        stmt = stmt.where(User.email == query.filters["user"].strip().lower())
    if query.q:
        pattern = like_pattern(query.q.lower())
        stmt = stmt.where(or_(log.context.ilike(pattern, escape="\\"), log.object.ilike(pattern, escape="\\"),
                              User.email.like(pattern, escape="\\")))
    return apply_sort(stmt, query, ACCESS_SORTS, log.id)


def access_log_page(query: ListQuery) -> Page:
    return paginate(access_log_statement(query), query)


def access_row(row) -> list:
    return [row.at.replace(microsecond=0), row.email, row.role, row.siret, row.context, row.recipient, row.object,
            row.status_code, row.ip]


def partner_callers() -> list[str]:
    """Emails of the users who called the partner API (the filter's choices)."""
    return list(db.session.scalars(
        select(User.email).join(PartnerAccessLog, PartnerAccessLog.user_id == User.id).distinct().order_by(User.email)
    ))
