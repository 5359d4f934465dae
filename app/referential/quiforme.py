"""The Carif-Oref « Quiforme » API (certifications Qualiopi et habilitations France compétences, by SIRET, as
API Entreprise serves it: GET {QUIFORME_API_URL}/carif_oref/etablissements/{siret}/
certifications_qualiopi_france_competences, Bearer token), and `lookup(siret)`: what Certifia knows of a
training organisation. With the API configured, an answer is kept QUIFORME_CACHE_HOURS in the
training_organisations row (checked_at, source « quiforme »); when the API is down, slow (QUIFORME_TIMEOUT
seconds, 5) or does not know the SIRET, the imported public list answers."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.referential.training_org_models import SOURCE_QUIFORME, TrainingOrganisation, TrainingOrgNda

log = logging.getLogger(__name__)
PATH = "/carif_oref/etablissements/{siret}/certifications_qualiopi_france_competences"
# The API's categories (certification_qualiopi) → ours.
CATEGORIES = {"action_formation": "actions_formation", "bilan_competences": "bilans_competences",
              "validation_acquis_experience": "vae", "apprentissage": "apprentissage"}
# SIRETs the API said it does not know, not asked again before the cache expires (per process).
_unknown_until: dict[str, object] = {}


class QuiformeUnavailable(Exception):
    """The API did not answer usefully (timeout, refused connection, 5xx, not JSON)."""


@dataclass
class QuiformeAnswer:
    siret: str
    ndas: dict[str, bool] = field(default_factory=dict)
    qualiopi: dict[str, bool] = field(default_factory=dict)
    last_declaration_on: date | None = None
    specialities: list[dict] = field(default_factory=list)
    habilitations: list[dict] = field(default_factory=list)  # France compétences: [{code, actif, …}]


def configured() -> bool:
    config = current_app.config
    return bool(config.get("QUIFORME_API_URL") and config.get("QUIFORME_API_TOKEN"))


def _iso_date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def parse(payload: dict, siret: str) -> QuiformeAnswer:
    """The documented answer: {"data": {siret, declarations_activites_etablissement: [{numero_de_declaration,
    actif, date_derniere_declaration, certification_qualiopi: {...}, specialites: {specialite_1: {code,
    libelle}, ...}}], habilitations_france_competence: [...]}}."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise QuiformeUnavailable("réponse sans « data »")
    answer = QuiformeAnswer(siret=str(data.get("siret") or siret),
                            qualiopi={ours: False for ours in CATEGORIES.values()})
    for declaration in data.get("declarations_activites_etablissement") or []:
        if not isinstance(declaration, dict):
            continue
        number = "".join(str(declaration.get("numero_de_declaration") or "").split())
        if number:
            answer.ndas[number] = answer.ndas.get(number, False) or declaration.get("actif") is True
        certification = declaration.get("certification_qualiopi") or {}
        for theirs, ours in CATEGORIES.items():
            answer.qualiopi[ours] = answer.qualiopi[ours] or certification.get(theirs) is True
        day = _iso_date(declaration.get("date_derniere_declaration"))
        if day and (answer.last_declaration_on is None or day > answer.last_declaration_on):
            answer.last_declaration_on = day
        for speciality in (declaration.get("specialites") or {}).values():
            if isinstance(speciality, dict) and speciality.get("code"):
                answer.specialities.append({"code": str(speciality["code"])[:8],
                                            "label": str(speciality.get("libelle") or "")[:255]})
    answer.habilitations = [h for h in data.get("habilitations_france_competence") or [] if isinstance(h, dict)]
    return answer


def fetch(siret: str) -> QuiformeAnswer | None:
    """The API's answer for `siret`; None when it does not know it (404). QuiformeUnavailable otherwise."""
    config = current_app.config
    query = {"context": "Certifia : dossier CQP", "object": "Vérification de l'organisme de formation"}
    if config.get("QUIFORME_RECIPIENT"):
        query["recipient"] = config["QUIFORME_RECIPIENT"]
    url = config["QUIFORME_API_URL"].rstrip("/") + PATH.format(siret=siret) + "?" + urllib.parse.urlencode(query)
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {config['QUIFORME_API_TOKEN']}",
                                                   "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=config.get("QUIFORME_TIMEOUT", 5)) as response:
            body = response.read(1_000_000)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise QuiformeUnavailable(f"HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise QuiformeUnavailable(str(getattr(error, "reason", error))) from None
    try:
        return parse(json.loads(body), siret)
    except (ValueError, AttributeError) as error:
        raise QuiformeUnavailable(f"réponse illisible ({error})") from None


def _cache_age() -> timedelta:
    return timedelta(hours=current_app.config.get("QUIFORME_CACHE_HOURS", 24))


def _find(siret: str) -> TrainingOrganisation | None:
    return db.session.scalar(select(TrainingOrganisation).where(TrainingOrganisation.siret == siret))


def _store(org: TrainingOrganisation | None, answer: QuiformeAnswer) -> TrainingOrganisation:
    """The API's answer written on the organisation's row (created if the list did not have it)."""
    if org is None:
        org = TrainingOrganisation(siret=answer.siret, siren=answer.siret[:9], name="")
        db.session.add(org)
    for category, value in answer.qualiopi.items():
        setattr(org, f"qualiopi_{category}", value)
    org.last_declaration_on = answer.last_declaration_on or org.last_declaration_on
    org.specialities = answer.specialities or org.specialities
    org.source, org.checked_at = SOURCE_QUIFORME, utcnow()
    existing = {nda.number: nda for nda in org.ndas}
    for number, nda in existing.items():
        if number not in answer.ndas:
            org.ndas.remove(nda)
    for number, active in answer.ndas.items():
        if number in existing:
            existing[number].active = active
        else:
            org.ndas.append(TrainingOrgNda(number=number[:16], active=active))
    with db.session.begin_nested():
        db.session.flush()
    return org


def lookup(siret: str | None) -> TrainingOrganisation | None:
    """What is known of the organisation of this SIRET: the API's recent answer, else the API asked now (if
    configured), else the imported public list (also when the API fails). None: unknown."""
    if not siret:
        return None
    org = _find(siret)
    if not configured():
        return org
    now = utcnow()
    if org is not None and org.source == SOURCE_QUIFORME and org.checked_at > now - _cache_age():
        return org
    if (_unknown_until.get(siret) or now) > now:
        return org
    try:
        answer = fetch(siret)
    except QuiformeUnavailable as error:
        log.warning("API Quiforme indisponible pour le SIRET %s (%s) : liste publique utilisée", siret, error)
        return org
    if answer is None:
        _unknown_until[siret] = now + _cache_age()
        return org
    return _store(org, answer)


def refresh(siret: str | None) -> None:
    """Before a page or an answer shows one organisation: the API asked if configured and the row is stale."""
    if siret and configured():
        lookup(siret)
