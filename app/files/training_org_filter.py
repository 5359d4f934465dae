"""The secretariat's list of files filtered on their training organisation (`?organisme=`): the files whose
organisation would not be funded as it stands (no Qualiopi « actions de formation », no active NDA, or a SIRET
unknown to the public list), those whose organisation is in order, those without one, or one SIRET."""

from __future__ import annotations

from sqlalchemy import and_, exists, select

from app.files.models import CandidateFile
from app.referential.training_org_models import TrainingOrganisation, TrainingOrgNda

CHOICES = {
    "": "Tous les organismes",
    "sans_qualiopi": "Sans Qualiopi « actions de formation » ou NDA inactif",
    "qualiopi": "Certifiés Qualiopi, NDA actif",
    "aucun": "Sans organisme de formation",
}
INVALID = "Organisme : choisissez une option de la liste, ou tapez un SIRET de 14 chiffres."


def _in_order():
    org, nda = TrainingOrganisation, TrainingOrgNda
    return exists(select(org.id).where(
        org.siret == CandidateFile.training_org_siret, org.qualiopi_actions_formation.is_(True),
        exists(select(nda.id).where(nda.organisation_id == org.id, nda.active.is_(True)))))


def condition(value: str | None):
    """The WHERE of `?organisme=<value>`; None for no filter. ValueError for a value the list does not know."""
    value = "".join((value or "").split())
    if not value:
        return None
    if value == "sans_qualiopi":
        return and_(CandidateFile.training_org_siret.is_not(None), ~_in_order())
    if value == "qualiopi":
        return _in_order()
    if value == "aucun":
        return CandidateFile.training_org_siret.is_(None)
    if value.isdigit() and len(value) == 14:
        return CandidateFile.training_org_siret == value
    raise ValueError(INVALID)
