"""Training organisations (organismes de formation): what the State's public list (L.6351-7-1 du Code du
travail, data.gouv.fr) or the Carif-Oref API says of an establishment, by SIRET. A CQP can be prepared
without an organisation: what is said here only ever warns, it never blocks a file."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.extensions import db

SOURCE_PUBLIC_LIST = "liste_publique"
SOURCE_QUIFORME = "quiforme"
QUALIOPI_CATEGORIES = ("actions_formation", "bilans_competences", "vae", "apprentissage")
QUALIOPI_LABELS = {"actions_formation": "actions de formation", "bilans_competences": "bilans de compétences",
                   "vae": "VAE", "apprentissage": "actions de formation par apprentissage"}
NOT_QUALIOPI = "Cet organisme n'est pas certifié Qualiopi pour les actions de formation."
NDA_INACTIVE = "Son numéro de déclaration d'activité (NDA) n'est pas actif."
UNKNOWN_SIRET = ("Ce SIRET ne figure pas dans la liste publique des organismes de formation : ni numéro de "
                 "déclaration d'activité ni certification Qualiopi connus.")


class TrainingOrganisation(db.Model):
    __tablename__ = "training_organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    siren: Mapped[str | None] = mapped_column(String(9), index=True)
    name: Mapped[str] = mapped_column(String(255))
    # The four Qualiopi certification categories (article L.6313-1 du Code du travail).
    qualiopi_actions_formation: Mapped[bool] = mapped_column(default=False)
    qualiopi_bilans_competences: Mapped[bool] = mapped_column(default=False)
    qualiopi_vae: Mapped[bool] = mapped_column(default=False)
    qualiopi_apprentissage: Mapped[bool] = mapped_column(default=False)
    # The day the organisation sent its last bilan pédagogique et financier (which keeps the NDA active).
    last_declaration_on: Mapped[date | None] = mapped_column()
    specialities: Mapped[list[dict] | None] = mapped_column(JSON)  # [{"code": "313", "label": "…"}], ≤ 3
    source: Mapped[str] = mapped_column(String(16), default=SOURCE_PUBLIC_LIST)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    ndas: Mapped[list[TrainingOrgNda]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="selectin",
        order_by="TrainingOrgNda.number")

    @property
    def qualiopi(self) -> dict[str, bool]:
        return {category: bool(getattr(self, f"qualiopi_{category}")) for category in QUALIOPI_CATEGORIES}

    @property
    def has_active_nda(self) -> bool:
        return any(nda.active for nda in self.ndas)

    @property
    def warning(self) -> str | None:
        """What the file page and the API say when the organisation cannot be funded as it stands."""
        problems = []
        if not self.qualiopi_actions_formation:
            problems.append(NOT_QUALIOPI)
        if not self.has_active_nda:
            problems.append(NDA_INACTIVE)
        return " ".join(problems) or None


class TrainingOrgNda(db.Model):
    """A declaration number (numéro de déclaration d'activité, 11 digits) of an organisation; rarely more
    than one per establishment, and an NDA no longer renewed (no bilan pédagogique et financier) is inactive."""

    __tablename__ = "training_org_ndas"
    __table_args__ = (UniqueConstraint("organisation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("training_organisations.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(16), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    organisation: Mapped[TrainingOrganisation] = relationship(back_populates="ndas")


def describe(siret: str | None, org: TrainingOrganisation | None) -> dict | None:
    """What a file shows of its training organisation: {siret, name, warning}; None without a SIRET."""
    if not siret:
        return None
    if org is None:
        return {"siret": siret, "name": None, "warning": UNKNOWN_SIRET}
    return {"siret": siret, "name": org.name or None, "warning": org.warning}
