"""The jury's attendance (R14): who sat on a session, in which college (salariés / employeurs), who was
present and who presided. Recorded by the secretariat; the members listed become the session's members.
Flushes, never commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from app.accounts.models import User
from app.core import audit
from app.core.errors import Conflict, ValidationFailed
from app.extensions import db
from app.jury.models import COLLEGES, JurySession, jury_members


@dataclass(frozen=True)
class Attendee:
    """One line of an attendance as typed (web form or API)."""

    email: str
    college: str | None
    present: bool
    president: bool


def _check(lines: list[Attendee]) -> dict[str, User]:
    """The users the lines name, by lower-cased email; every mistake collected, each naming its line."""
    problems: list[str] = []
    emails = [(line.email or "").strip().lower() for line in lines]
    users = {u.email.lower(): u for u in db.session.scalars(
        select(User).where(func.lower(User.email).in_([e for e in emails if e])))} if any(emails) else {}
    seen: set[str] = set()
    for line, email in zip(lines, emails, strict=True):
        if not email:
            problems.append("Un membre sans adresse email : indiquez l'email de chaque membre.")
            continue
        user = users.get(email)
        if user is None:
            problems.append(f"{email} : aucun utilisateur n'a cette adresse email.")
        elif not user.is_jury_member:
            problems.append(f"{email} : cet utilisateur n'a pas le rôle « Membre du jury ».")
        elif not user.active:
            problems.append(f"{email} : ce compte est désactivé.")
        if email in seen:
            problems.append(f"{email} : ce membre est indiqué deux fois.")
        seen.add(email)
        if line.college not in COLLEGES:
            problems.append(f"{email} : le collège doit être « salaries » (salariés) ou « employeurs ».")
        if line.president and not line.present:
            problems.append(f"{email} : le président du jury doit être présent.")
    presidents = [e for line, e in zip(lines, emails, strict=True) if line.president]
    if len(presidents) > 1:
        problems.append(f"Un seul président par session ({', '.join(presidents)} sont indiqués comme président).")
    if problems:
        raise ValidationFailed(" ".join(problems), {"members": problems})
    return users


def record_attendance(jury_session: JurySession, lines: list[Attendee], actor=None) -> JurySession:
    """Replaces the session's members by those listed, with their college, presence and presidency."""
    if jury_session.cancelled_at is not None:
        raise Conflict("Cette session est annulée : sa feuille de présence ne peut plus être modifiée.")
    if jury_session.published_at is not None:
        raise Conflict("Les résultats de cette session sont publiés : sa feuille de présence ne peut plus être "
                       "modifiée (le procès-verbal la reprend).")
    users = _check(lines)
    db.session.execute(delete(jury_members).where(jury_members.c.session_id == jury_session.id))
    rows = [{"session_id": jury_session.id, "user_id": users[line.email.strip().lower()].id,
             "college": line.college, "present": bool(line.present), "president": bool(line.president)}
            for line in lines]
    if rows:
        db.session.execute(insert(jury_members), rows)
    db.session.flush()
    db.session.expire(jury_session, ["members", "memberships"])
    audit.record("jury_session.attendance", actor, jury_session,
                 present=sum(1 for r in rows if r["present"]), members=len(rows))
    return jury_session


def attendance_json(jury_session: JurySession) -> list[dict]:
    """The attendance as the API answers it: one entry per member, by college then name."""
    order = list(COLLEGES)
    memberships = sorted(jury_session.memberships, key=lambda m: (
        order.index(m.college) if m.college in order else len(order), m.user.last_name, m.user.first_name))
    return [{"email": m.user.email, "name": m.user.full_name, "college": m.college,
             "present": bool(m.present), "president": bool(m.president)} for m in memberships]
