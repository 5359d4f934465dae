"""The statistics' filters: what they are (`StatsFilters`), how a query string gives them (a malformed
value is a 422 naming the field), what they mean in SQL, and the choices the filter form offers.

Every figure takes the same filters: the year the file was created, the CQP, the CQP's domain, the
establishment (SIRET) and the region (the department of the establishment's postcode). They are
conditions on `candidate_files` only (sub-selects on cqps and establishments), so that each figure
joins what it needs without duplicates."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.sql.elements import ColumnElement
from stdnum.fr import siret as siret_checker

from app.accounts.models import Establishment
from app.core.errors import ValidationFailed
from app.extensions import db
from app.files.models import CandidateFile
from app.referential.models import Cqp

MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True)
class StatsFilters:
    year: int | None = None
    cqp: str | None = None
    domain: str | None = None
    siret: str | None = None
    region: str | None = None

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def as_args(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)}

    def list_args(self) -> dict[str, str]:
        """The filters the file list knows (status, CQP, SIRET, year)."""
        return {k: v for k, v in self.as_args().items() if k in ("cqp", "siret", "year")}

    def describe(self) -> str:
        labels = {"year": "année", "cqp": "CQP", "domain": "domaine", "siret": "SIRET", "region": "département"}
        parts = [f"{labels[k]} {v}" for k, v in self.as_args().items()]
        return ", ".join(parts) if parts else "toute la branche"


def parse_filters(args) -> StatsFilters:
    """Reads the filters of a query string; a malformed value is refused (422) naming the field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    raw_year = (args.get("year") or "").strip()
    if raw_year:
        if not raw_year.isdigit() or not MIN_YEAR <= int(raw_year) <= MAX_YEAR:
            errors["year"] = [f"L'année doit être un nombre entre {MIN_YEAR} et {MAX_YEAR}."]
        else:
            values["year"] = int(raw_year)
    cqp = (args.get("cqp") or "").strip().upper()
    if cqp:
        if db.session.scalar(select(Cqp.id).where(Cqp.code == cqp)) is None:
            errors["cqp"] = [f"Le CQP « {cqp} » n'existe pas dans le référentiel."]
        else:
            values["cqp"] = cqp
    domain = (args.get("domain") or "").strip()
    if domain:
        values["domain"] = domain
    siret = "".join((args.get("siret") or "").split())
    if siret:
        if not (siret.isdigit() and len(siret) == 14 and siret_checker.is_valid(siret)):
            errors["siret"] = ["Le SIRET doit comporter 14 chiffres et une clé de contrôle valide."]
        else:
            values["siret"] = siret
    region = (args.get("region") or "").strip().upper()
    if region:
        if not (len(region) in (2, 3) and region.isalnum()):
            errors["region"] = ["Le département doit être un code comme 69, 2A ou 974."]
        else:
            values["region"] = region
    if errors:
        raise ValidationFailed("Filtres invalides : " + ", ".join(errors) + ".", errors)
    return StatsFilters(**values)


def region_expr(postcode: ColumnElement) -> ColumnElement:
    """SQL twin of Establishment.region_code: the department from the postcode."""
    head = func.substr(postcode, 1, 2)
    return case(
        (func.length(postcode) < 2, None),
        (head == "97", func.substr(postcode, 1, 3)),
        (head == "20", case((postcode < "20200", "2A"), else_="2B")),
        else_=head,
    )


def file_conditions(filters: StatsFilters) -> list[ColumnElement]:
    f = CandidateFile
    conditions: list[ColumnElement] = []
    if filters.year:
        conditions += [f.created_at >= datetime(filters.year, 1, 1), f.created_at < datetime(filters.year + 1, 1, 1)]
    if filters.cqp:
        conditions.append(f.cqp_id == select(Cqp.id).where(Cqp.code == filters.cqp).scalar_subquery())
    if filters.domain:
        conditions.append(f.cqp_id.in_(select(Cqp.id).where(Cqp.domain == filters.domain)))
    if filters.siret:
        conditions.append(
            f.establishment_id == select(Establishment.id).where(Establishment.siret == filters.siret).scalar_subquery()
        )
    if filters.region:
        conditions.append(f.establishment_id.in_(
            select(Establishment.id).where(region_expr(Establishment.postcode) == filters.region)
        ))
    return conditions


def filter_choices() -> dict[str, list]:
    """What the filter form offers: years with files, CQPs, domains, departments."""
    first, last = db.session.execute(
        select(func.min(CandidateFile.created_at), func.max(CandidateFile.created_at))).one()
    years = list(range(last.year, first.year - 1, -1)) if first and last else []
    cqps = db.session.execute(select(Cqp.code, Cqp.title).order_by(Cqp.code)).all()
    domains = list(db.session.scalars(select(Cqp.domain).distinct().order_by(Cqp.domain)))
    region = region_expr(Establishment.postcode)
    regions = [r for r in db.session.scalars(
        select(region).where(Establishment.postcode.is_not(None)).distinct().order_by(region)
    ) if r]
    return {"years": years, "cqps": cqps, "domains": domains, "regions": regions}
