"""Upload quotas: the scans of a candidature and of an establishment stay within the configured sizes."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, or_, select

from app.core.errors import TooLarge
from app.extensions import db
from app.files.models import Candidate, CandidateFile, Document


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",").replace(",0", "") + " Mo"


def upload_room(candidate: Candidate, file: CandidateFile | None, *, replacing: Document | None = None):
    """The quota check of a new scan (app.core.uploads.store_upload's `check_room`): the scans of the candidature
    (its own and the candidate page's) stay within FILE_UPLOAD_QUOTA_MB, the establishment's within
    ESTABLISHMENT_UPLOAD_QUOTA_MB; 413 naming the quota. Two sums, read once per request."""
    config = current_app.config
    freed = replacing.size if replacing is not None else 0
    scope = Document.candidate_id == candidate.id
    scope &= or_(Document.file_id == file.id, Document.file_id.is_(None)) if file is not None \
        else Document.file_id.is_(None)
    used = {"file": db.session.scalar(select(func.coalesce(func.sum(Document.size), 0)).where(scope)) - freed,
            "establishment": db.session.scalar(
                select(func.coalesce(func.sum(Document.size), 0)).join(Candidate, Document.candidate_id == Candidate.id)
                .where(Candidate.establishment_id == candidate.establishment_id)) - freed}
    quotas = {"file": config["FILE_UPLOAD_QUOTA_MB"] * 1024 * 1024,
              "establishment": config["ESTABLISHMENT_UPLOAD_QUOTA_MB"] * 1024 * 1024}
    labels = {"file": "du dossier", "establishment": "de l'établissement"}

    def check_room(size: int) -> None:
        for scope_name in ("file", "establishment"):
            used[scope_name] += size
            if used[scope_name] > quotas[scope_name]:
                raise TooLarge.for_field("file", (
                    f"Le quota de pièces {labels[scope_name]} est atteint : {_megabytes(used[scope_name] - size)} "
                    f"déjà déposés sur {_megabytes(quotas[scope_name])}, ce fichier de {_megabytes(size)} ne tient "
                    "pas. Supprimez une pièce devenue inutile, ou demandez au secrétariat."))
    return check_room
