"""A small world for the attack battery (schemathesis, the generated client, the fuzz): one user and API token
per role with an account, a company with a candidate and files at two steps, a jury session with a member,
so that the ids in paths lead somewhere for the roles that may see them."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.accounts.services import create_api_token
from app.extensions import db
from app.files.models import FileStatus
from tests.factories import (
    make_candidate,
    make_establishment,
    make_file,
    make_session,
    make_user,
    sit_on,
)

ROLES = ("entreprise", "candidat", "evaluateur", "jury", "secretariat", "partenaire")


@dataclass
class World:
    users: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)


def build_world() -> World:
    world = World()
    establishment = make_establishment()
    world.users["entreprise"] = make_user("entreprise", establishment=establishment)
    assessor_user = make_user("evaluateur")
    world.users["evaluateur"] = assessor_user
    for role in ("jury", "secretariat", "partenaire"):
        world.users[role] = make_user(role)
    candidate_user = make_user("candidat")
    world.users["candidat"] = candidate_user
    candidate = make_candidate(establishment)
    candidate.user = candidate_user
    session = make_session()
    sit_on(session, world.users["jury"])
    draft = make_file(candidate=candidate)
    registered = make_file(FileStatus.INSCRIPTION_JURY, establishment=establishment, session=session,
                           assessor=assessor_user.assessor if hasattr(assessor_user, "assessor") else None)
    db.session.commit()
    for role, user in world.users.items():
        world.tokens[role] = create_api_token(user)
    db.session.commit()
    world.ids = {"candidate": candidate.id, "file": draft.id, "registered": registered.id,
                 "session": session.id, "siret": establishment.siret}
    return world
