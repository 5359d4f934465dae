"""The third-party read API (API Entreprise conventions): an establishment's certifications, each
call kept with its traceability parameters (context, recipient, object) and the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload
from stdnum.fr import siret as siret_checker

from app.accounts.models import Establishment, PartnerAccessLog, Role
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.files.models import STATUS_LABELS, CandidateFile, FileStatus
from app.jury.models import Decision, DecisionResult

TRACE_PARAMETERS = {
    "context": "le cadre de la demande (ex. « Financement CQP 2027 »)",
    "recipient": "le SIRET de l'organisme pour lequel vous consultez",
    "object": "l'objet précis de la demande (ex. « Dossier de prise en charge n° 4521 »)",
}
# Whoever calls (partner or secretariat), the answer is what a partner may see: published results only.
PARTNER_VIEW = SimpleNamespace(role=Role.PARTENAIRE, sees_unpublished_decisions=False)


def _valid_siret(value: str) -> bool:
    return value.isdigit() and len(value) == 14 and siret_checker.is_valid(value)


def check_trace_parameters(siret: str, params: dict[str, str]) -> None:
    """The three parameters are required, `recipient` is a SIRET; the path's SIRET is valid."""
    errors: dict[str, list[str]] = {}
    for name, meaning in TRACE_PARAMETERS.items():
        if not params.get(name):
            errors[name] = [f"Le paramètre « {name} » est obligatoire : {meaning}."]
    if params.get("recipient") and not _valid_siret(params["recipient"]):
        errors["recipient"] = ["Le paramètre « recipient » doit être un SIRET valide (14 chiffres, clé de contrôle)."]
    if not _valid_siret(siret):
        errors["siret"] = ["Le SIRET demandé doit comporter 14 chiffres et une clé de contrôle valide."]
    if errors:
        missing = [n for n in TRACE_PARAMETERS if n in errors and not params.get(n)]
        if missing:
            message = "Paramètres de traçabilité manquants : " + ", ".join(missing) + "."
        else:
            message = "Paramètres invalides : " + ", ".join(errors) + "."
        raise ValidationFailed(message, errors)


def _log_entry(user_id: int | None, siret: str, params: dict[str, str], status_code: int, ip: str | None) -> dict:
    """The access log's columns, cut to their sizes (a caller may send anything)."""
    return {"user_id": user_id, "siret": (siret or "")[:14], "context": (params.get("context") or "")[:255],
            "recipient": (params.get("recipient") or "")[:14], "object": (params.get("object") or "")[:255],
            "status_code": status_code, "ip": ip}


def log_access(actor, siret: str, params: dict[str, str], status_code: int, ip: str | None) -> PartnerAccessLog:
    """An answered call, in the request's transaction."""
    entry = PartnerAccessLog(**_log_entry(getattr(actor, "id", None), siret, params, status_code, ip))
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass(frozen=True)
class RefusedCall:
    """A call answered 4xx, to be logged once the request's transaction is over."""

    user_id: int | None
    siret: str
    params: dict[str, str] = field(default_factory=dict)
    status_code: int = 422
    ip: str | None = None


def log_refused_call(call: RefusedCall) -> None:
    """A refused call, in a short transaction of its own on a connection of its own: the request's
    own work is rolled back, this line stays. Called after the request's transaction is over: on
    SQLite a write lock held by the request would otherwise keep this connection waiting."""
    entry = _log_entry(call.user_id, call.siret, call.params, call.status_code, call.ip)
    with db.engine.begin() as connection:
        connection.execute(insert(PartnerAccessLog).values(at=utcnow(), **entry))


# ------------------------------------------------------------------ what a partner sees of a file


def shown_status(file: CandidateFile) -> str:
    return file.visible_status_for(PARTNER_VIEW)


def shown_status_label(file: CandidateFile) -> str:
    return STATUS_LABELS[FileStatus(shown_status(file))]


def shown_decision(file: CandidateFile) -> Decision | None:
    """The decision once its session is published (R10), else None."""
    return file.decision if file.is_decided and file.decision_visible_to(PARTNER_VIEW) else None


def validated_codes(decision: Decision) -> list[str]:
    return sorted(r.competence.code for r in decision.results if r.validated)


@dataclass
class Certifications:
    """An establishment's files, for the partner's answer (shown as a partner may see them)."""

    establishment: Establishment
    files: list[CandidateFile]
    params: dict[str, str]  # the call's traceability parameters, answered back

    @property
    def context(self) -> str:
        return self.params["context"]

    @property
    def recipient(self) -> str:
        return self.params["recipient"]

    @property
    def object(self) -> str:
        return self.params["object"]


def establishment_certifications(siret: str, params: dict[str, str], actor, ip: str | None) -> Certifications:
    """The establishment and its files (CQP, status, published decisions), loaded in a fixed number of
    queries; logs the call."""
    siret = "".join((siret or "").split())
    check_trace_parameters(siret, params)
    establishment = db.session.scalar(select(Establishment).where(Establishment.siret == siret))
    if establishment is None:
        raise NotFound.for_field("siret", f"Aucun établissement n'est enregistré sous le SIRET {siret}.")
    f = CandidateFile
    files = list(db.session.scalars(
        select(f).where(f.establishment_id == establishment.id)
        .options(selectinload(f.cqp), selectinload(f.candidate), selectinload(f.jury_session),
                 selectinload(f.parchment),
                 selectinload(f.decision).selectinload(Decision.results).selectinload(DecisionResult.competence))
        .order_by(f.created_at, f.id)
    ))
    log_access(actor, siret, params, 200, ip)
    return Certifications(establishment, files, params)
