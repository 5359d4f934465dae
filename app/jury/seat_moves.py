"""« Prendre la place »: a file rolled over from a session where a seat has been freed (app.jury.seat_offers) moves
to the session it asked for; its seat in the later session is freed in turn (and offered to the files rolled
over from that one). The status stays « Inscription au jury »; the history keeps the move."""

from __future__ import annotations

from app.core import audit
from app.core.clock import now
from app.core.errors import Conflict, NotFound
from app.extensions import db
from app.files.models import CandidateFile, StatusChange
from app.jury.models import JurySession
from app.jury.registration import free_seat, place, take_seat
from app.jury.seat_offers import offered_session


def take_freed_seat(file: CandidateFile, actor) -> JurySession:
    """« Prendre la place »: the file moves to the session it asked for (one conditional UPDATE takes the seat,
    R8); its seat in the later session is freed. 409 when no seat is free any more."""
    if not file.can_unregister(actor):
        raise NotFound("Ce dossier n'existe pas, ou vous n'y avez pas accès.")
    wanted = offered_session(file)
    if wanted is None:
        raise Conflict("Aucune place n'est libre dans la session de jury demandée, ou ses inscriptions sont closes.",
                       {"jury_session_id": ["Aucune place libre."]})
    if not take_seat(wanted):
        raise Conflict(f"La place libérée dans la session du {wanted.date.strftime('%d/%m/%Y')} vient d'être prise.",
                       {"jury_session_id": ["La place vient d'être prise."]})
    previous = file.jury_session
    place(file, wanted)
    file.rolled_over = False
    file.history.append(StatusChange(
        from_status=file.status, to_status=file.status, event="take_freed_seat", actor_id=getattr(actor, "id", None),
        at=now(), comment=f"Session du {wanted.date.strftime('%d/%m/%Y')} (au lieu du "
                          f"{previous.date.strftime('%d/%m/%Y')})" if previous else None))
    db.session.flush()
    free_seat(previous)
    audit.record("jury.take_freed_seat", actor, file, session=wanted.id, previous=getattr(previous, "id", None))
    return wanted
