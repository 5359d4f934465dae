"""The files left open by assessors whose habilitation has ended: R2 refuses them on new files, and the
secretariat reassigns (or follows up) the files they still hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.core.clock import today
from app.extensions import db
from app.files.models import FINAL_STATUSES, CandidateFile
from app.referential.models import Assessor

# Still waiting for the assessor: confirmation refused by R2, or the evaluation to enter.
NEEDS_THE_ASSESSOR = ("en_cours_inscription", "en_attente_evaluation")


@dataclass
class EndedAssessor:
    assessor: Assessor
    files: list[CandidateFile]

    @property
    def waiting(self) -> int:
        return sum(1 for f in self.files if f.status in NEEDS_THE_ASSESSOR)


def open_files_of_ended_assessors(on: date | None = None) -> list[EndedAssessor]:
    """One query: every open (not final) file whose assessor's habilitation ended before `on`, by assessor."""
    on = on or today()
    files = db.session.scalars(
        select(CandidateFile).join(CandidateFile.assessor).join(Assessor.user)
        .where(Assessor.habilitation_until < on, CandidateFile.status.not_in([s.value for s in FINAL_STATUSES]))
        .options(joinedload(CandidateFile.assessor).joinedload(Assessor.user), joinedload(CandidateFile.candidate),
                 joinedload(CandidateFile.cqp), joinedload(CandidateFile.establishment))
        .order_by(Assessor.habilitation_until, User.last_name, Assessor.id, CandidateFile.id)).unique()
    grouped: dict[int, EndedAssessor] = {}
    for file in files:
        grouped.setdefault(file.assessor_id, EndedAssessor(file.assessor, [])).files.append(file)
    return list(grouped.values())
