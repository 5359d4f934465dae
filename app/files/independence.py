"""Assessor independence (branch rule for habilitated assessors): an assessor who declared an organisation
(its SIRET) cannot evaluate a candidate of that establishment, nor one trained by that organisation. Read by
the workflow's confirmation guard (R2), so that the file page lists it among what is missing, and the web
and API refuse the confirmation naming the assessor."""

from __future__ import annotations

from app.files.models import CandidateFile


def independence_problem(file: CandidateFile) -> str | None:
    """Why the file's assessor may not be confirmed on it, in French; None when they may."""
    assessor = file.assessor
    siret = getattr(assessor, "organisation_siret", None)
    if assessor is None or not siret:
        return None
    establishment = file.establishment
    if establishment is not None and establishment.siret == siret:
        return (f"L'évaluateur {assessor.name} a déclaré appartenir à l'établissement du candidat "
                f"({establishment.name}, SIRET {siret}) : il ne peut pas évaluer ce dossier (indépendance de "
                "l'évaluateur). Choisissez un autre évaluateur habilité.")
    if file.training_org_siret and file.training_org_siret == siret:
        return (f"L'évaluateur {assessor.name} a déclaré appartenir à l'organisme de formation du dossier "
                f"(SIRET {siret}) : il ne peut pas évaluer ce dossier (indépendance de l'évaluateur). Choisissez "
                "un autre évaluateur habilité.")
    return None
