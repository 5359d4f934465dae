"""A freed jury seat (an unregistration, a withdrawal) is offered first to the files rolled over from that session
(R8 placed them in a later one because it was full): their company is emailed while the session's registration
is still open, and may take the seat from the file page (« Prendre la place »): the file moves to the session
it asked for, the later seat is freed in turn (and offered to the files rolled over from that one)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.core.mail import queue_email
from app.extensions import db
from app.files.models import CandidateFile, FileStatus
from app.files.notifications import company_recipients
from app.jury.models import JurySession


def rolled_over_from(jury_session: JurySession) -> list[CandidateFile]:
    """The files that asked for `jury_session` and were placed in a later one, still registered there."""
    return list(db.session.scalars(select(CandidateFile).where(
        CandidateFile.requested_jury_session_id == jury_session.id, CandidateFile.rolled_over.is_(True),
        CandidateFile.status == FileStatus.INSCRIPTION_JURY.value, CandidateFile.jury_session_id != jury_session.id)
        .order_by(CandidateFile.id)))


def offer_freed_seat(jury_session: JurySession) -> int:
    """Emails the companies of the files rolled over from `jury_session`, if it is open and has a seat; one
    email per establishment naming its files. Returns the number of emails queued."""
    if not jury_session.is_open or jury_session.seats_left <= 0:
        return 0
    by_establishment: dict[int, list[CandidateFile]] = {}
    for file in rolled_over_from(jury_session):
        by_establishment.setdefault(file.establishment_id, []).append(file)
    base = current_app.config["BASE_URL"].rstrip("/")
    for files in by_establishment.values():
        queue_email("jury_seat_freed", company_recipients(files[0]),
                    f"Une place s'est libérée dans la session de jury du {jury_session.date.strftime('%d/%m/%Y')}",
                    "jury_seat_freed", file=files[0] if len(files) == 1 else None, jury_session=jury_session,
                    files=files, links={f.id: f"{base}/dossiers/{f.id}" for f in files})
    return len(by_establishment)


def offered_session(file: CandidateFile) -> JurySession | None:
    """The session the file was rolled over from, when a seat is free there and its registration still open."""
    wanted = file.requested_jury_session
    if not file.rolled_over or file.status != FileStatus.INSCRIPTION_JURY or wanted is None \
            or wanted.id == file.jury_session_id:
        return None
    return wanted if wanted.is_open and wanted.seats_left > 0 else None
