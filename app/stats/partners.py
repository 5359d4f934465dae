"""The third-party read API (API Entreprise conventions): an establishment's certifications, each
call kept with its traceability parameters (context, recipient, object) and the caller."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from stdnum.fr import siret as siret_checker

from app.accounts.models import Establishment, PartnerAccessLog
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.files.models import STATUS_LABELS, CandidateFile, FileStatus
from app.jury.models import Decision, DecisionResult, JurySession, Parchment

TRACE_PARAMETERS = {
    "context": "le cadre de la demande (ex. « Financement CQP 2027 »)",
    "recipient": "le SIRET de l'organisme pour lequel vous consultez",
    "object": "l'objet précis de la demande (ex. « Dossier de prise en charge n° 4521 »)",
}
# Whoever calls (partner or secretariat), the answer is what a partner may see: published results only.
PARTNER_VIEW = SimpleNamespace(role="partenaire")


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


def log_access(actor, siret: str, params: dict[str, str], status_code: int, ip: str | None) -> PartnerAccessLog:
    entry = PartnerAccessLog(
        user_id=getattr(actor, "id", None), siret=(siret or "")[:14], context=(params.get("context") or "")[:255],
        recipient=(params.get("recipient") or "")[:14], object=(params.get("object") or "")[:255],
        status_code=status_code, ip=ip,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def establishment_certifications(siret: str, params: dict[str, str], actor, ip: str | None) -> dict:
    """The establishment, its files' CQP and status, and published decisions; logs the call."""
    siret = "".join((siret or "").split())
    check_trace_parameters(siret, params)
    establishment = db.session.scalar(select(Establishment).where(Establishment.siret == siret))
    if establishment is None:
        raise NotFound.for_field("siret", f"Aucun établissement n'est enregistré sous le SIRET {siret}.")
    files = list(db.session.scalars(
        select(CandidateFile).where(CandidateFile.establishment_id == establishment.id)
        .options(selectinload(CandidateFile.cqp), selectinload(CandidateFile.candidate))
        .order_by(CandidateFile.created_at, CandidateFile.id)
    ))
    session_ids = {f.jury_session_id for f in files if f.jury_session_id}
    sessions = {s.id: s for s in db.session.scalars(select(JurySession).where(JurySession.id.in_(session_ids)))} \
        if session_ids else {}
    shown = [f for f in files if f.decision_visible_to(PARTNER_VIEW)]
    decisions, parchments = {}, {}
    if shown:
        ids = [f.id for f in shown]
        decisions = {d.file_id: d for d in db.session.scalars(
            select(Decision).where(Decision.file_id.in_(ids))
            .options(selectinload(Decision.results).selectinload(DecisionResult.competence))
        )}
        parchments = {p.file_id: p.number for p in db.session.scalars(select(Parchment).where(Parchment.file_id.in_(ids)))}
    certifications = []
    for file in files:
        status = file.visible_status_for(PARTNER_VIEW)
        decision = decisions.get(file.id) if file.decision_visible_to(PARTNER_VIEW) else None
        session = sessions.get(file.jury_session_id)
        certifications.append({
            "file_id": file.id,
            "holder": file.candidate.public_name,
            "cqp": {"code": file.cqp.code, "title": file.cqp.title},
            "status": status,
            "status_label": STATUS_LABELS[FileStatus(status)],
            "created_on": file.created_at.date().isoformat(),
            "decision": None if decision is None else {
                "status": decision.status,
                "jury_date": session.date.isoformat() if session else None,
                "competences_validated": sorted(
                    (r.competence.code for r in decision.results if r.validated),
                ),
                "parchment_number": parchments.get(file.id),
            },
        })
    log_access(actor, siret, params, 200, ip)
    return {
        "establishment": {"siret": establishment.siret, "name": establishment.name,
                          "postcode": establishment.postcode, "city": establishment.city},
        "certifications": certifications,
        "context": params["context"], "recipient": params["recipient"], "object": params["object"],
    }
