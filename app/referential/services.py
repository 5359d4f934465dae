"""Referential operations: load the CQPs from seed_data/, manage assessors and habilitations."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.core import audit
from app.core.clock import today
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.referential.models import Assessor, Competence, Cqp, assessor_cqps

SEED_DIR = Path(__file__).resolve().parent.parent.parent / "seed_data"


def load_referential(path: Path | None = None) -> dict[str, int]:
    """Idempotent: creates what is missing, updates titles and domains, never deletes.

    A competence that disappeared from the file is deactivated (files that chose it keep it)."""
    data = json.loads((path or SEED_DIR / "referential.json").read_text(encoding="utf-8"))
    counts = {"cqps_created": 0, "cqps_updated": 0, "competences_created": 0, "competences_updated": 0}
    existing = {c.code: c for c in db.session.scalars(select(Cqp).options(selectinload(Cqp.competences)))}
    for entry in data["cqps"]:
        cqp = existing.get(entry["code"])
        if cqp is None:
            cqp = Cqp(code=entry["code"], title=entry["title"], domain=entry["domain"])
            db.session.add(cqp)
            counts["cqps_created"] += 1
        elif (cqp.title, cqp.domain, cqp.active) != (entry["title"], entry["domain"], True):
            cqp.title, cqp.domain, cqp.active = entry["title"], entry["domain"], True
            counts["cqps_updated"] += 1
        by_code = {c.code: c for c in cqp.competences}
        wanted = set()
        for position, comp in enumerate(entry["competences"], start=1):
            wanted.add(comp["code"])
            competence = by_code.get(comp["code"])
            if competence is None:
                cqp.competences.append(Competence(code=comp["code"], title=comp["title"], position=position))
                counts["competences_created"] += 1
            elif (competence.title, competence.position, competence.active) != (comp["title"], position, True):
                competence.title, competence.position, competence.active = comp["title"], position, True
                counts["competences_updated"] += 1
        for code, competence in by_code.items():
            if code not in wanted and competence.active:
                competence.active = False
                counts["competences_updated"] += 1
    db.session.flush()
    return counts


def list_cqps(include_inactive: bool = False) -> list[Cqp]:
    query = select(Cqp).options(selectinload(Cqp.competences)).order_by(Cqp.domain, Cqp.code)
    if not include_inactive:
        query = query.where(Cqp.active.is_(True))
    return list(db.session.scalars(query))


def get_cqp_by_code(code: str, field: str = "cqp_code") -> Cqp:
    cqp = db.session.scalar(select(Cqp).where(Cqp.code == (code or "").strip().upper()))
    if cqp is None or not cqp.active:
        raise ValidationFailed.for_field(field, f"Le CQP « {code} » n'existe pas dans le référentiel.")
    return cqp


def update_cqp(cqp: Cqp, *, title: str, domain: str, active: bool, actor=None) -> Cqp:
    if not (title or "").strip():
        raise ValidationFailed.for_field("title", "L'intitulé du CQP est obligatoire.")
    if not (domain or "").strip():
        raise ValidationFailed.for_field("domain", "Le domaine du CQP est obligatoire.")
    cqp.title, cqp.domain, cqp.active = title.strip(), domain.strip(), active
    audit.record("cqp.update", actor, cqp)
    return cqp


def update_competence(competence: Competence, *, title: str, active: bool, actor=None) -> Competence:
    if not (title or "").strip():
        raise ValidationFailed.for_field("title", "L'intitulé de la compétence est obligatoire.")
    competence.title, competence.active = title.strip(), active
    audit.record("competence.update", actor, competence)
    return competence


def _cqps_from_codes(codes: list[str] | None) -> list[Cqp]:
    cqps = []
    for code in codes or []:
        cqps.append(get_cqp_by_code(code, field="cqp_codes"))
    return cqps


def create_assessor(email: str, first_name: str, last_name: str, habilitation_until: date,
                    cqp_codes: list[str] | None = None, *, actor=None, organisation=None, phone=None) -> Assessor:
    if not (first_name or "").strip():
        raise ValidationFailed.for_field("first_name", "Le prénom est obligatoire.")
    if not (last_name or "").strip():
        raise ValidationFailed.for_field("last_name", "Le nom est obligatoire.")
    if habilitation_until is None:
        raise ValidationFailed.for_field("habilitation_until", "La date de fin d'habilitation est obligatoire.")
    cqps = _cqps_from_codes(cqp_codes)
    user = accounts.create_user(email, Role.EVALUATEUR, first_name=first_name, last_name=last_name, actor=actor)
    assessor = Assessor(user=user, habilitation_until=habilitation_until, cqps=cqps,
                        organisation=organisation or None, phone=phone or None)
    db.session.add(assessor)
    db.session.flush()
    audit.record("assessor.create", actor, assessor, habilitation_until=habilitation_until.isoformat())
    return assessor


def update_assessor(assessor: Assessor, *, habilitation_until: date, cqp_codes: list[str] | None = None,
                    first_name: str | None = None, last_name: str | None = None, active: bool | None = None,
                    actor=None) -> Assessor:
    if habilitation_until is None:
        raise ValidationFailed.for_field("habilitation_until", "La date de fin d'habilitation est obligatoire.")
    previous = assessor.habilitation_until
    assessor.habilitation_until = habilitation_until
    if cqp_codes is not None:
        assessor.cqps = _cqps_from_codes(cqp_codes)
    if first_name is not None:
        assessor.user.first_name = first_name.strip()
    if last_name is not None:
        assessor.user.last_name = last_name.strip()
    if active is not None:
        assessor.user.active = active
    audit.record("assessor.update", actor, assessor, previous_until=previous.isoformat(),
                 habilitation_until=habilitation_until.isoformat())
    return assessor


def habilitated_assessors(on: date | None = None, cqp: Cqp | None = None) -> list[Assessor]:
    """Assessors whose habilitation is valid on that date (today by default), optionally for a CQP."""
    on = on or today()
    query = (
        select(Assessor)
        .join(Assessor.user)
        .options(selectinload(Assessor.user), selectinload(Assessor.cqps))
        .where(Assessor.habilitation_until >= on, User.active.is_(True))
        .order_by(User.last_name, User.first_name)
    )
    if cqp is not None:
        has_any = select(assessor_cqps.c.assessor_id).where(assessor_cqps.c.assessor_id == Assessor.id).exists()
        for_cqp = (
            select(assessor_cqps.c.assessor_id)
            .where(assessor_cqps.c.assessor_id == Assessor.id, assessor_cqps.c.cqp_id == cqp.id)
            .exists()
        )
        query = query.where(or_(~has_any, for_cqp))
    return list(db.session.scalars(query))


def all_assessors() -> list[Assessor]:
    return list(db.session.scalars(
        select(Assessor).join(Assessor.user).options(selectinload(Assessor.user), selectinload(Assessor.cqps))
        .order_by(User.last_name, User.first_name)
    ))


def get_assessor(assessor_id) -> Assessor:
    assessor = db.session.get(Assessor, assessor_id) if str(assessor_id).isdigit() else None
    if assessor is None:
        raise NotFound.for_field("assessor_id", "Cet évaluateur n'existe pas.")
    return assessor
