"""The retention policy (RGPD): how long each kind of personal data is kept, from the configuration. Applied by
`flask retention purge` (app/jury/retention.py) and stated on the page « Données personnelles »."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class Phase:
    key: str
    config: str  # the variable that sets its duration
    label: str  # what is kept, in French
    after: str  # from when the duration runs, in French
    outcome: str  # what happens at the end, in French
    notice: bool  # the company is emailed RETENTION_NOTICE_DAYS before
    months: int

    @property
    def duration(self) -> str:
        if self.months == 0:
            return "sans limite"
        years, months = divmod(self.months, 12)
        if months == 0:
            return f"{years} an" + ("s" if years > 1 else "")
        return f"{self.months} mois"


PHASES = (
    ("active_files", "RETENTION_ACTIVE_FILE_MONTHS", "Dossiers en cours sans activité",
     "la dernière modification du dossier", "le dossier est abandonné (motif : durée de conservation)", True),
    ("closed_files", "RETENTION_CLOSED_FILE_MONTHS", "Candidats dont tous les dossiers sont clos",
     "la clôture du dernier dossier (décision, abandon)",
     "l'identité et les commentaires sont effacés ; un parchemin délivré garde son titulaire, son numéro, son CQP "
     "et sa date", True),
    ("scans", "RETENTION_SCAN_MONTHS", "Pièces déposées (diplômes, dossiers de candidature, guides d'évaluation)",
     "la clôture du dossier", "les pièces sont supprimées", False),
    ("audit", "RETENTION_AUDIT_MONTHS", "Journal des accès et des modifications", "l'accès ou la modification",
     "l'entrée est supprimée", False),
    ("outbox", "RETENTION_OUTBOX_MONTHS", "Texte des emails envoyés", "l'envoi",
     "le texte est effacé (destinataires, objet et date restent)", False),
)


def policy() -> list[Phase]:
    config = current_app.config
    return [Phase(key, name, label, after, outcome, notice, int(config[name]))
            for key, name, label, after, outcome, notice in PHASES]


def notice_days() -> int:
    return int(current_app.config["RETENTION_NOTICE_DAYS"])
