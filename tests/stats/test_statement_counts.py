"""The key pages of issue 16 run at most MAX_STATEMENTS SQL statements, the same number with 5 files (one at
each step) and with 300: the file page, the file lists (first page, a page reached by cursor, status and search), the
secretariat / company / assessor homes, a jury session's page and its decision screen, GET /api/v1/files.

Counted with a `before_cursor_execute` listener, after one call that warms what is written at most every
few minutes (the device's last-seen time, the token's last use)."""

from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy import insert, select

from app.core.listing import encode_cursor
from app.extensions import db
from app.files.models import CandidateFile
from app.jury.models import jury_members
from tests.factories import PASSWORD, make_assessor, make_establishment, make_session, make_user
from tests.stats.test_query_counts import add_files, count_queries

MAX_STATEMENTS = 15
# Pages brought below MAX_STATEMENTS, pinned at their count (no reload of the user after the commit by the
# response hooks, the file page's documents in one statement, the homes' counts together; the lists of files past
# the first two steps without what those steps' checks read, access.load_checked_steps).
PINNED = {"page d'un dossier (entreprise)": 9, "page d'un dossier (secrétariat)": 10, "accueil du secrétariat": 9,
          "accueil de l'entreprise": 12, "accueil de l'évaluateur": 8, "dossiers, page 1": 6, "dossiers, par curseur": 6,
          "dossiers, statut et recherche": 6, "dossiers de l'entreprise": 10, "GET /files statut et recherche": 11}
STATUSES = ["en_cours_inscription", "en_attente_evaluation", "validation_evaluation", "inscription_jury", "valide"]


@pytest.fixture
def branch(app_ctx, today_is):
    today_is("2026-03-02")  # the day after the session: held, its decisions being entered
    establishment = make_establishment(postcode="69003")
    assessor = make_assessor(until=date(2026, 6, 1))
    session = make_session(on=date(2026, 3, 1), capacity=1000)
    company = make_user("entreprise", establishment=establishment)
    secretariat = make_user("secretariat")
    jury = make_user("jury")
    db.session.execute(insert(jury_members), [{"session_id": session.id, "user_id": jury.id}])
    db.session.commit()
    return {"establishment": establishment, "assessor": assessor, "session": session,
            "users": {"entreprise": company, "secretariat": secretariat, "evaluateur": assessor.user}}


def _pages(branch) -> list[tuple[str, str, str]]:
    """(label, role, url); 'api' is the secretariat's token. The file page is the first file's (decided,
    with its parchment), the cursor pages start after the newest file."""
    first = db.session.scalar(select(db.func.min(CandidateFile.id)))
    newest = db.session.execute(select(CandidateFile.id, CandidateFile.created_at)
                                .order_by(CandidateFile.created_at.desc(), CandidateFile.id.desc())).first()
    cursor = encode_cursor([newest.created_at, newest.id])
    sid = branch["session"].id
    return [
        ("page d'un dossier (entreprise)", "entreprise", f"/dossiers/{first}"),
        ("page d'un dossier (secrétariat)", "secretariat", f"/dossiers/{first}"),
        ("dossiers, page 1", "secretariat", "/dossiers"),
        ("dossiers, par curseur", "secretariat", f"/dossiers?apres={cursor}"),
        ("dossiers, statut et recherche", "secretariat", "/dossiers?status=valide&q=bulk"),
        ("dossiers de l'entreprise", "entreprise", "/dossiers"),
        ("statistiques/dossiers, page 1", "secretariat", "/statistiques/dossiers"),
        ("statistiques/dossiers, par curseur", "secretariat", f"/statistiques/dossiers?apres={cursor}"),
        ("statistiques/dossiers, filtres", "secretariat", "/statistiques/dossiers?status=valide&cqp=FAB-OPF&q=bulk"),
        ("accueil du secrétariat", "secretariat", "/secretariat"),
        ("accueil de l'entreprise", "entreprise", "/entreprise"),
        ("accueil de l'évaluateur", "evaluateur", "/evaluateur"),
        ("session de jury", "secretariat", f"/secretariat/jurys/{sid}"),
        ("écran des décisions", "secretariat", f"/secretariat/jurys/{sid}/decisions"),
        ("GET /files", "api", "/api/v1/files"),
        ("GET /files par curseur", "api", f"/api/v1/files?after={cursor}"),
        ("GET /files statut et recherche", "api", "/api/v1/files?status=valide&q=bulk"),
    ]


def test_key_pages_run_the_same_bounded_statements_with_5_and_300_files(branch, app, api_as):
    from tests.conftest import login

    clients = {}
    for role, user in branch["users"].items():
        clients[role] = app.test_client()
        assert login(clients[role], user.email, PASSWORD).status_code == 302
    api = api_as(branch["users"]["secretariat"])

    def get(role: str, url: str):
        if role == "api":
            return api.get(url.removeprefix("/api/v1"))
        return clients[role].get(url)

    def measure() -> dict[str, int]:
        counts = {}
        for label, role, url in _pages(branch):
            assert get(role, url).status_code == 200, (role, url)  # warms the throttled writes
            with count_queries() as statements:
                response = get(role, url)
                response.get_data()
            assert response.status_code == 200, (role, url, response.status_code)
            counts[label] = len(statements)
            if os.environ.get("SHOW_STATEMENTS") and os.environ["SHOW_STATEMENTS"] in label:
                print(f"--- {label}", *(" ".join(st.split())[:160] for st in statements), sep="\n")
        return counts

    world = {"establishment": branch["establishment"], "assessor": branch["assessor"], "session": branch["session"],
             "actor": branch["users"]["entreprise"]}
    # One file at each step first (what a page reads depends on its files' steps, not on their number: a list
    # line reads what « Ce qu'il manque » checks only at the first two steps), the decided one first.
    add_files(len(STATUSES), statuses=["valide", *(s for s in STATUSES if s != "valide")], **world)
    with_5 = measure()
    add_files(300 - len(STATUSES), offset=len(STATUSES), statuses=STATUSES, **world)
    assert db.session.scalar(select(db.func.count()).select_from(CandidateFile)) == 300
    with_300 = measure()
    print("\n".join(f"{k}: {with_5[k]} / {with_300[k]}" for k in with_5))
    assert with_300 == with_5
    assert max(with_5.values()) <= MAX_STATEMENTS, {k: v for k, v in with_5.items() if v > MAX_STATEMENTS}
    assert {k: with_5[k] for k in PINNED if with_5[k] > PINNED[k]} == {}, PINNED
