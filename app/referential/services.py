"""Referential operations: load the CQPs from seed_data/, manage assessors and habilitations."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.core import audit
from app.core.clock import add_months, today
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


def reset_registrations() -> None:
    """Every CQP unregistered, with the default carry-over (the tests' clean state: load_referential never
    touches a registration, which is the secretariat's)."""
    db.session.execute(update(Cqp).values(repertoire=None, repertoire_code=None, level=None, nsf_code=None,
                                          registered_on=None, carry_over_years=5))


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


def get_cqp_for_edit(code: str) -> Cqp:
    """Any CQP, active or not (the secretariat edits them all); NotFound otherwise."""
    cqp = db.session.scalar(select(Cqp).options(selectinload(Cqp.competences)).where(Cqp.code == code))
    if cqp is None:
        raise NotFound(f"Le CQP « {code} » n'existe pas dans le référentiel.")
    return cqp


def update_cqp_referential(cqp: Cqp, *, title: str, domain: str, active: bool,
                           competences: list[dict], actor=None) -> Cqp:
    """One edit of a CQP and of its competences' titles and active flags (codes never change: files
    refer to them). `competences` items: {code, title, active}; errors name `competences-<i>-title`."""
    by_code = {c.code: c for c in cqp.competences}
    for index, item in enumerate(competences):
        competence = by_code.get(item.get("code"))
        if competence is None:
            raise ValidationFailed.for_field(f"competences-{index}-title",
                                             f"La compétence « {item.get('code')} » n'appartient pas à ce CQP.")
        try:
            update_competence(competence, title=item.get("title") or "", active=bool(item.get("active")), actor=actor)
        except ValidationFailed as error:
            raise ValidationFailed.for_field(f"competences-{index}-title", error.message) from None
    if active and competences and not any(item.get("active") for item in competences):
        raise ValidationFailed.for_field("active", "Un CQP actif doit garder au moins une compétence active.")
    update_cqp(cqp, title=title, domain=domain, active=active, actor=actor)
    db.session.flush()
    return cqp


REPERTOIRES = ("RNCP", "RS")
REGISTRATION_FIELDS = ("repertoire", "repertoire_code", "level", "nsf_code", "registered_on", "carry_over_years")
_REPERTOIRE_CODE = re.compile(r"(RNCP|RS)([0-9]{1,6})")
# NSF (nomenclature des spécialités de formation, 1994): a group of 3 digits (100 to 4xx) and, optionally,
# the letter of the function (f to w, neither i nor o: 222n, 311t).
_NSF_CODE = re.compile(r"[1-4][0-9]{2}[fghjklmnpqrstuvw]?")


def _checked_registration(values: dict) -> tuple[dict, dict[str, list[str]]]:
    """Each registration field given, normalised, and every mistake (a French message naming the field)."""
    clean: dict = {}
    errors: dict[str, list[str]] = {}

    def wrong(field, message):
        errors.setdefault(field, []).append(message)

    def text(field):
        value = values[field]
        if value is None:
            return None
        if not isinstance(value, str):
            wrong(field, f"Le champ {field} doit être un texte.")
            return None
        return value.strip() or None

    if "repertoire" in values:
        repertoire = text("repertoire")
        if repertoire is not None and repertoire.upper() not in REPERTOIRES:
            wrong("repertoire", "Le répertoire doit être RNCP ou RS (ou vide si le CQP n'est pas enregistré).")
        else:
            clean["repertoire"] = repertoire.upper() if repertoire else None
    if "repertoire_code" in values:
        code = text("repertoire_code")
        if code is not None:
            code = code.upper().replace(" ", "")
            if not _REPERTOIRE_CODE.fullmatch(code):
                wrong("repertoire_code", "Le code d'enregistrement doit être RNCP ou RS suivi de chiffres "
                                         "(par exemple RNCP35842 ou RS5614).")
                code = None
        if "repertoire_code" not in errors:
            clean["repertoire_code"] = code
    if "level" in values:
        level = values["level"]
        if isinstance(level, str) and level.strip().isdigit():
            level = int(level.strip())
        elif isinstance(level, str) and not level.strip():
            level = None
        if level is not None and (isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 8):
            wrong("level", "Le niveau du cadre national des certifications est un entier de 1 à 8.")
        else:
            clean["level"] = level
    if "nsf_code" in values:
        nsf = text("nsf_code")
        if nsf is not None:
            nsf = nsf.lower().replace(" ", "")
            if not _NSF_CODE.fullmatch(nsf):
                wrong("nsf_code", "Le code NSF est un groupe de 3 chiffres (100 à 4xx), suivi éventuellement "
                                  "de la lettre de la fonction (par exemple 222 ou 222n).")
        if "nsf_code" not in errors:
            clean["nsf_code"] = nsf
    if "registered_on" in values:
        registered_on = values["registered_on"]
        if isinstance(registered_on, str):
            try:
                registered_on = date.fromisoformat(registered_on.strip()) if registered_on.strip() else None
            except ValueError:
                registered_on = "?"
        if registered_on is not None and not isinstance(registered_on, date):
            wrong("registered_on", "La date de la décision de France compétences doit être une date (AAAA-MM-JJ).")
        elif registered_on is not None and registered_on > today():
            wrong("registered_on", "La date de la décision de France compétences ne peut pas être dans le futur.")
        else:
            clean["registered_on"] = registered_on
    if "carry_over_years" in values:
        years = values["carry_over_years"]
        if isinstance(years, str) and years.strip().isdigit():
            years = int(years.strip())
        if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 99:
            wrong("carry_over_years", "La durée de conservation des compétences acquises est un nombre "
                                      "d'années entier, de 0 à 99.")
        else:
            clean["carry_over_years"] = years
    return clean, errors


def update_cqp_registration(cqp: Cqp, values: dict, *, actor=None) -> Cqp:
    """Changes the fields given of the CQP's registration (and its title when given): every mistake is
    reported at once, and nothing is written unless all are right. A registered CQP (a code) says in which
    repertoire, and its code starts with that repertoire; a level only for the RNCP or the RS."""
    clean, errors = _checked_registration({k: v for k, v in values.items() if k in REGISTRATION_FIELDS})
    if "title" in values:
        title = values["title"]
        if not isinstance(title, str) or not title.strip():
            errors.setdefault("title", []).append("L'intitulé du CQP est obligatoire.")
        elif len(title.strip()) > 255:
            errors.setdefault("title", []).append("L'intitulé du CQP : 255 caractères au plus.")
        else:
            clean["title"] = title.strip()
    if not errors:
        repertoire = clean.get("repertoire", cqp.repertoire)
        code = clean.get("repertoire_code", cqp.repertoire_code)
        level = clean.get("level", cqp.level)
        if code and not repertoire and "repertoire" not in clean:
            repertoire = clean["repertoire"] = _REPERTOIRE_CODE.fullmatch(code).group(1)
        if code and not repertoire:
            errors.setdefault("repertoire", []).append(
                f"Le répertoire est obligatoire pour un CQP qui a un code d'enregistrement ({code}) : RNCP ou RS "
                "(videz aussi le code si le CQP n'est plus enregistré).")
        elif code and _REPERTOIRE_CODE.fullmatch(code).group(1) != repertoire:
            errors.setdefault("repertoire_code", []).append(
                f"Le code d'enregistrement {code} ne correspond pas au répertoire {repertoire}.")
        if repertoire and not code:
            errors.setdefault("repertoire_code", []).append(
                f"Le code d'enregistrement au répertoire {repertoire} est obligatoire (par exemple "
                f"{'RNCP35842' if repertoire == 'RNCP' else 'RS5614'}).")
        if repertoire == "RNCP" and level is None:
            errors.setdefault("level", []).append(
                "Le niveau (1 à 8) est obligatoire pour une certification enregistrée au RNCP.")
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first if len(errors) == 1 else "Certains champs sont invalides : "
                               + ", ".join(errors) + ".", errors)
    before = cqp.registration | {"carry_over_years": cqp.carry_over_years}
    for name, value in clean.items():
        setattr(cqp, name, value)
    changed = {k: v for k, v in (cqp.registration | {"carry_over_years": cqp.carry_over_years}).items()
               if before.get(k) != v}
    audit.record("cqp.registration", actor, cqp, **changed)
    db.session.flush()
    return cqp


# The demo's registrations (fictitious codes, plausible shapes): RNCP CQPs with their level, one in the RS
# without level, and the others not registered (COM-TCO among them).
DEMO_REGISTRATIONS = {
    "FAB-OPF": {"repertoire": "RNCP", "repertoire_code": "RNCP35842", "level": 3, "nsf_code": "222t",
                "registered_on": date(2024, 3, 28)},
    "FAB-PIF": {"repertoire": "RNCP", "repertoire_code": "RNCP36417", "level": 4, "nsf_code": "222r",
                "registered_on": date(2023, 11, 30)},
    "CND-CLC": {"repertoire": "RNCP", "repertoire_code": "RNCP34290", "level": 3, "nsf_code": "311t",
                "registered_on": date(2022, 6, 29)},
    "MNT-TMI": {"repertoire": "RNCP", "repertoire_code": "RNCP37105", "level": 4, "nsf_code": "250r",
                "registered_on": date(2025, 1, 30)},
    "LOG-AGL": {"repertoire": "RS", "repertoire_code": "RS5614", "level": None, "nsf_code": "311",
                "registered_on": date(2023, 5, 25)},
}


def register_demo_cqps() -> None:
    """The demo CQPs' registrations, for those the secretariat has not registered (idempotent)."""
    for cqp in list_cqps(include_inactive=True):
        registration = DEMO_REGISTRATIONS.get(cqp.code)
        if registration and not cqp.is_registered:
            for name, value in registration.items():
                setattr(cqp, name, value)
    db.session.flush()


HABILITATION_WARNING_MONTHS = 9


def habilitation_alert(assessor: Assessor, on: date | None = None) -> str | None:
    """'expiree' when the habilitation is over, 'bientot' when it ends within 9 months (time to renew)."""
    on = on or today()
    if assessor.habilitation_until < on:
        return "expiree"
    if assessor.habilitation_until <= add_months(on, HABILITATION_WARNING_MONTHS):
        return "bientot"
    return None


DEPARTEMENT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")


def checked_departement(value) -> str | None:
    """The code of a département (01…95, 2A, 2B, 971…976), shown by the public list of assessors; empty: none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    code = str(value).strip().upper()
    if not DEPARTEMENT.match(code):
        raise ValidationFailed.for_field("departement", "Le département doit être un code comme 69, 2A ou 974.")
    return code


def _cqps_from_codes(codes: list[str] | None) -> list[Cqp]:
    cqps: list[Cqp] = []
    for code in codes or []:
        cqp = get_cqp_by_code(code, field="cqp_codes")
        if cqp not in cqps:  # a code given twice is one habilitation (not a duplicate row)
            cqps.append(cqp)
    return cqps


def create_assessor(email: str, first_name: str, last_name: str, habilitation_until: date,
                    cqp_codes: list[str] | None = None, *, actor=None, organisation=None, phone=None,
                    invite: bool = False, departement=None) -> Assessor:
    """Creates the assessor and their `evaluateur` user; with `invite`, emails them the link to choose
    their password (the secretariat's page and the API do; the demo sets a password instead)."""
    if not (first_name or "").strip():
        raise ValidationFailed.for_field("first_name", "Le prénom est obligatoire.")
    if not (last_name or "").strip():
        raise ValidationFailed.for_field("last_name", "Le nom est obligatoire.")
    if habilitation_until is None:
        raise ValidationFailed.for_field("habilitation_until", "La date de fin d'habilitation est obligatoire.")
    departement = checked_departement(departement)
    cqps = _cqps_from_codes(cqp_codes)
    user = accounts.create_user(email, Role.EVALUATEUR, first_name=first_name, last_name=last_name, actor=actor)
    assessor = Assessor(user=user, habilitation_until=habilitation_until, cqps=cqps,
                        organisation=organisation or None, phone=phone or None, departement=departement)
    db.session.add(assessor)
    db.session.flush()
    audit.record("assessor.create", actor, assessor, habilitation_until=habilitation_until.isoformat())
    if invite:
        accounts.invite_user(user, actor)
    return assessor


_UNCHANGED = object()


def update_assessor(assessor: Assessor, *, habilitation_until: date, cqp_codes: list[str] | None = None,
                    first_name: str | None = None, last_name: str | None = None, active: bool | None = None,
                    organisation=_UNCHANGED, phone=_UNCHANGED, departement=_UNCHANGED, actor=None) -> Assessor:
    if habilitation_until is None:
        raise ValidationFailed.for_field("habilitation_until", "La date de fin d'habilitation est obligatoire.")
    if first_name is not None and not first_name.strip():
        raise ValidationFailed.for_field("first_name", "Le prénom est obligatoire.")
    if last_name is not None and not last_name.strip():
        raise ValidationFailed.for_field("last_name", "Le nom est obligatoire.")
    if organisation is not _UNCHANGED:
        assessor.organisation = (organisation or "").strip() or None
    if phone is not _UNCHANGED:
        assessor.phone = (phone or "").strip() or None
    if departement is not _UNCHANGED:
        assessor.departement = checked_departement(departement)
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
