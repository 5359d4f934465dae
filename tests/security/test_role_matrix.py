"""The role × route matrix (issue 17): every route of app.url_map, each method, tried by every role with the ids of
ANOTHER tenant; 0 leaks. Generated from the URL map, so a route added later is tried too.

Two tenants, A and B, each with its establishment, company user, candidate (with a candidate account), assessor,
a file waiting for its evaluation (a scan deposited, a job-assessor invitation), a decided file of a published
jury session (its parchment issued) and an email. Each of their personal data carries a marker
(`Zyxmarqueur<T>`, the establishment's name, the candidate's email, the scan's bytes). The roles: company A and B,
assessor A and B, candidate A, the job assessor (A's one-time link, no account), a jury member (sitting on A's
session only), a partner token, anonymous, and the secretariat (who sees everything: GETs only, for 500s). Each
role is pointed at the other tenant's ids (A's roles at B, B's roles at A).

A request leaks when (1) the answer carries a marker of the targeted tenant (body or Location), or (2) a route
naming a tenant's object answers 2xx to an outsider (unless listed in BY_DESIGN), or (3) a state-changing request
answered below 400 changed the targeted tenant's rows (an answer of 400 or more is rolled back by the app). Any 5xx fails as well.

How a route is classified: by the names of its URL parameters (PARAMS below says how to build the other tenant's
value of each). A route with a parameter PARAMS does not know fails `test_every_route_parameter_is_classified`
with the message saying what to add."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select, text

import app.models  # noqa: F401  (every model mapped before the jury modules inspect them)
from app.accounts.models import Role, User
from app.accounts.services import create_api_token
from app.core.clock import utcnow
from app.core.mail import queue_email
from app.core.models import OutboxEmail
from app.core.tokens import hash_token
from app.extensions import db
from app.files import services
from app.files.models import FileStatus, JobAssessorInvitation
from app.jury import decisions
from tests import factories
from tests.conftest import CSRF_RE
from tests.files.conftest import PDF, upload
from tests.jury.helpers import decide

JURY_DAY = date(2027, 6, 15)
ABSENT = 999_999  # the id given to a parameter whose object the matrix does not build (counted, printed)
UNKNOWN_TOKEN = "Xy" * 21 + "z"

# What each URL parameter is, and how to build the targeted tenant's value: a key of Tenant.ids, or a constant.
# Tenant parameters name a tenant's object: an outsider gets no 2xx on a route that has one.
TENANT_PARAMS = {"file_id", "candidate_id", "document_id", "invitation_id", "user_id", "email_id",
                 "siret", "number", "message_id", "webhook_id", "renewal_id", "job_id"}
# Shared objects, built from the tenant and checked for markers only: a jury session is public to every role (its
# date and seats, API.md « GET /jury-sessions: any »), its files only to its members and the secretariat.
SHARED_PARAMS = {"session_id"}
CONSTANTS = {"code": "FAB-OPF", "fmt": "csv", "name": "statuts", "batch": "1", "action": "desactiver",
             "filename": "css/app.css", "token": UNKNOWN_TOKEN, "assessor_id": None, "request_id": ABSENT,
             "export_id": ABSENT}
PARAMS = TENANT_PARAMS | SHARED_PARAMS | set(CONSTANTS)
# Objects the matrix does not build yet (their routes are tried with an absent id: a 404 proves little).
NOT_BUILT = {"message_id", "webhook_id", "renewal_id", "job_id", "request_id", "export_id"}

# (role, endpoint) pairs where seeing the other tenant's data is the purpose of the route.
BY_DESIGN = {
    ("partenaire", "api_stats.EstablishmentCertifications"),  # partners read any establishment's results (logged)
    ("*", "jury.verify"), ("*", "api_jury.Verify"),  # anyone verifies a parchment by its number ("Prénom N.")
}
# Routes a role never posts to in the matrix: they end the role's own session (the rest would run anonymous).
SELF_ENDING = {"accounts.logout", "accounts.logout_everywhere"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# What a state-changing request carries (form fields and JSON keys): enough for the usual « reason / message /
# confirmation » forms to get past their validation, so that a missing access check would reach the change.
FILLER = {"reason": "Essai de la matrice", "message": "Essai de la matrice", "body": "Essai de la matrice",
          "comment": "Essai de la matrice", "confirm": "y", "job_title": "Matrice"}

OUTSIDER_ROLES = ("entreprise_a", "entreprise_b", "evaluateur_a", "evaluateur_b", "evaluateur_metier", "candidat_a",
                  "jury", "partenaire", "anonyme")
ROLES = (*OUTSIDER_ROLES, "secretariat")
TARGET_OF = {"entreprise_b": "A", "evaluateur_b": "A"}  # every other role targets B


@dataclass
class Tenant:
    name: str
    ids: dict = field(default_factory=dict)
    markers: tuple[str, ...] = ()


def _today(monkeypatch, value) -> None:
    monkeypatch.setenv("APP_TODAY", str(value))


def _build_tenant(name: str, jury_session, monkeypatch) -> tuple[Tenant, dict]:
    establishment = factories.make_establishment(name=f"Etablissement Marqueur{name}")
    company = factories.make_user(Role.ENTREPRISE, establishment=establishment)
    assessor = factories.make_assessor()
    candidate = factories.make_candidate(establishment)
    candidate.set_names("Camille", f"Zyxmarqueur{name}")
    candidate.email = f"candidat.marqueur{name.lower()}@exemple.fr"
    candidate_user = factories.make_user(Role.CANDIDAT)
    candidate.user_id = candidate_user.id
    db.session.commit()
    file = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION, candidate=candidate, assessor=assessor)
    document = services.upload_document(company, kind="diplome", candidate=candidate, file=file,
                                        upload=upload(PDF + f"% MARQUEUR-DOC-{name}\n".encode(), name="diplome.pdf"))
    token = f"jeton-evaluateur-metier-{name}-" + "k" * 20
    invitation = JobAssessorInvitation(file=file, email=f"metier{name}@exemple.fr", first_name="Jo",
                                       last_name=f"Metier{name}", token_hash=hash_token(token),
                                       expires_at=utcnow() + timedelta(days=30))
    db.session.add(invitation)
    db.session.commit()
    decided = factories.make_file(FileStatus.INSCRIPTION_JURY, candidate=candidate, session=jury_session,
                                  cqp_code="FAB-CEF", assessor=assessor)
    email = queue_email("test", company.email, f"Pour Etablissement Marqueur{name}", "account_invitation",
                        user=company, link="http://x", days=1)
    db.session.commit()
    tenant = Tenant(name, markers=(f"Zyxmarqueur{name}", f"Etablissement Marqueur{name}",
                                   f"candidat.marqueur{name.lower()}@exemple.fr", f"MARQUEUR-DOC-{name}"))
    tenant.ids = {"file_id": file.id, "candidate_id": candidate.id, "document_id": document.id,
                  "session_id": jury_session.id, "invitation_id": invitation.id, "user_id": company.id,
                  "email_id": email.id, "siret": establishment.siret, "assessor_id": assessor.id,
                  "decided_file_id": decided.id}
    users = {"company": company, "assessor": assessor.user, "candidate": candidate_user, "token": token,
             "decided": decided}
    return tenant, users


def _world(monkeypatch):
    _today(monkeypatch, "2027-05-01")
    sessions = {name: factories.make_session(on=JURY_DAY, location=f"Salle {name}") for name in "AB"}
    secretariat = factories.make_user(Role.SECRETARIAT)
    tenants, users = {}, {}
    for name in "AB":
        tenants[name], users[name] = _build_tenant(name, sessions[name], monkeypatch)
    _today(monkeypatch, JURY_DAY)
    for name in "AB":
        decide(users[name]["decided"], secretariat, True)
        decisions.publish_session(sessions[name], secretariat)
        db.session.commit()
        tenants[name].ids["number"] = users[name]["decided"].parchment.number
    member = factories.make_user(Role.JURY)
    factories.sit_on(sessions["A"], member)
    accounts = {"entreprise_a": users["A"]["company"], "entreprise_b": users["B"]["company"],
                "evaluateur_a": users["A"]["assessor"], "evaluateur_b": users["B"]["assessor"],
                "candidat_a": users["A"]["candidate"], "jury": member, "secretariat": secretariat,
                "partenaire": factories.make_user(Role.PARTENAIRE)}
    return tenants, accounts, users


def _param_value(rule, param: str, tenant: Tenant, device_sessions: dict):
    if param == "session_id" and rule.rule.startswith("/mon-compte/sessions/"):
        return device_sessions[tenant.name]  # a login session of the tenant's company user, not a jury session
    if param == "file_id" and ("parch" in rule.rule or "parchment" in rule.rule or "decision" in rule.rule):
        return tenant.ids["decided_file_id"]
    if param in tenant.ids:
        return tenant.ids[param]
    if param in CONSTANTS:
        return CONSTANTS[param] if CONSTANTS[param] is not None else tenant.ids.get(param, ABSENT)
    return ABSENT


def _url(rule, tenant: Tenant, device_sessions: dict) -> str:
    values = {p: _param_value(rule, p, tenant, device_sessions) for p in rule.arguments}
    if "action" in rule.arguments:
        values["action"] = "desactiver"
    from flask import url_for

    return url_for(rule.endpoint, **values)


def _fingerprint(tenant: Tenant) -> tuple:
    """The rows of a tenant an outsider's request must never change."""
    ids = tenant.ids
    queries = (
        ("SELECT id, status, withdraw_reason, jury_session_id, assessor_id, training_path FROM candidate_files "
         "WHERE candidate_id = :c ORDER BY id", {"c": ids["candidate_id"]}),
        ("SELECT first_name, last_name, birth_date, email, job_title, erased_at, user_id FROM candidates WHERE id = :c",
         {"c": ids["candidate_id"]}),
        ("SELECT id, stored_name, filename FROM documents WHERE candidate_id = :c ORDER BY id",
         {"c": ids["candidate_id"]}),
        ("SELECT published_at, cancelled_at, seats_taken, capacity, date FROM jury_sessions WHERE id = :s",
         {"s": ids["session_id"]}),
        ("SELECT used_at, replaced_at FROM job_assessor_invitations WHERE id = :i", {"i": ids["invitation_id"]}),
        ("SELECT active, email, password_hash, session_nonce FROM users WHERE id = :u", {"u": ids["user_id"]}),
        ("SELECT status FROM outbox_emails WHERE id = :e", {"e": ids["email_id"]}),
        ("SELECT id, ended_at FROM user_sessions WHERE user_id = :u ORDER BY id", {"u": ids["user_id"]}),
    )
    return tuple(tuple(map(tuple, db.session.execute(text(sql), args).all())) for sql, args in queries)


@dataclass
class Caller:
    role: str
    client: object
    csrf: str | None
    bearer: str | None


def _callers(app, accounts, users) -> dict[str, Caller]:
    from tests.factories import PASSWORD

    callers = {}
    for role in ROLES:
        client = app.test_client()
        bearer = None
        account = accounts.get(role)
        if account is not None:
            page = client.get("/connexion")
            token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
            answer = client.post("/connexion", data={"email": account.email, "password": PASSWORD,
                                                     "csrf_token": token})
            assert answer.status_code == 302, (role, answer.status_code)
            bearer = create_api_token(db.session.get(User, account.id))
            db.session.commit()
        page = client.get("/mon-compte" if account is not None else "/connexion")
        match = CSRF_RE.search(page.get_data(as_text=True))
        callers[role] = Caller(role, client, match.group(1) if match else None, bearer)
    return callers


def _rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule)


def test_every_route_parameter_is_classified(app):
    unknown = sorted({f"<{p}> in {r.rule} ({r.endpoint})" for r in app.url_map.iter_rules() for p in r.arguments
                      if p not in PARAMS})
    assert not unknown, (
        "Routes with URL parameters the role × route matrix does not know: " + "; ".join(unknown) + ". Classify each "
        "in tests/security/test_role_matrix.py: add the name to TENANT_PARAMS when it names a tenant's object (and "
        "build that object in _build_tenant, its id in tenant.ids), or to CONSTANTS with a value when it does not "
        "(a format, a code of the referential).")


def test_no_role_sees_or_changes_another_tenants_data(app, app_ctx, monkeypatch, capsys):
    started = time.monotonic()
    tenants, accounts, users = _world(monkeypatch)
    callers = _callers(app, accounts, users)
    from app.accounts.models import UserSession

    device_sessions = {name: db.session.scalar(select(UserSession.id).where(
        UserSession.user_id == users[name]["company"].id).order_by(UserSession.id.desc()).limit(1)) or ABSENT
        for name in "AB"}
    job_assessor_token = users["A"]["token"]
    fingerprints = {name: _fingerprint(t) for name, t in tenants.items()}
    leaks, errors = [], []
    counts = {"GET": 0, "state": 0}
    controls = {"owner_sees_marker": False}
    rules = _rules(app)
    pairs = 0
    for rule in rules:
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        pairs += len(methods)
        for role in ROLES:
            caller = callers[role]
            target = tenants[TARGET_OF.get(role, "B")]
            with app.test_request_context():
                url = _url(rule, target, device_sessions)
            is_api = url.startswith("/api/")
            for method in methods:
                if method in STATE_CHANGING and (role == "secretariat" or rule.endpoint in SELF_ENDING):
                    continue
                kwargs: dict = {}
                if is_api:
                    if caller.bearer:
                        kwargs["headers"] = {"Authorization": f"Bearer {caller.bearer}"}
                    if method in STATE_CHANGING:
                        kwargs["json"] = dict(FILLER)
                elif method in STATE_CHANGING:
                    kwargs["data"] = {**FILLER, "csrf_token": caller.csrf or ""}
                if role == "evaluateur_metier" and "<token>" in rule.rule:
                    url = url.replace(UNKNOWN_TOKEN, job_assessor_token)  # its own link, with the other's ids
                answer = getattr(caller.client, method.lower())(url, **kwargs)
                counts["GET" if method == "GET" else "state"] += 1
                where = f"{role} {method} {url} ({rule.endpoint}) → {answer.status_code}"
                if answer.status_code >= 500:
                    errors.append(where)
                    continue
                if role == "secretariat":
                    continue
                body = answer.get_data()
                seen = [m for m in target.markers if m.encode() in body or m in answer.headers.get("Location", "")]
                by_design = (role, rule.endpoint) in BY_DESIGN or ("*", rule.endpoint) in BY_DESIGN
                names_tenant = any(p in TENANT_PARAMS for p in rule.arguments) \
                    or rule.rule.startswith("/mon-compte/sessions/")  # another user's login session
                if seen and not by_design:
                    leaks.append(f"{where}: shows {seen}")
                elif names_tenant and 200 <= answer.status_code < 300 and not by_design \
                        and not (role == "evaluateur_metier" and "<token>" in rule.rule):
                    leaks.append(f"{where}: 2xx on another tenant's object")
                if method in STATE_CHANGING and answer.status_code < 400:  # ≥ 400 is rolled back by the app
                    db.session.expire_all()
                    now_print = _fingerprint(target)
                    if now_print != fingerprints[target.name]:
                        leaks.append(f"{where}: changed the other tenant's rows")
                        fingerprints[target.name] = now_print
                    # The role's own tenant may change legitimately (its own data): a new baseline for it.
                    for name, tenant in tenants.items():
                        if name != target.name:
                            fingerprints[name] = _fingerprint(tenant)
    # Controls: the markers are detected where they must be (the test can fail).
    owner = callers["entreprise_a"].client
    own_page = owner.get(f"/dossiers/{tenants['A'].ids['file_id']}").get_data(as_text=True)
    controls["owner_sees_marker"] = "Zyxmarqueura".lower() in own_page.lower()
    secretariat = callers["secretariat"].client
    other_page = secretariat.get(f"/secretariat/candidats/{tenants['B'].ids['candidate_id']}").get_data(as_text=True)
    controls["secretariat_sees_marker"] = "ZyxmarqueurB".upper() in other_page.upper()
    elapsed = time.monotonic() - started
    not_built = sorted({p for r in rules for p in r.arguments if p in NOT_BUILT})
    with capsys.disabled():
        print(f"\nMatrice rôles × routes : {len(rules)} routes, {pairs} couples route × méthode, {len(ROLES)} rôles ; "
              f"{counts['GET']} GET et {counts['state']} requêtes modifiantes essayées avec les identifiants de "
              f"l'autre établissement en {elapsed:.0f} s ; fuites : {len(leaks)}, erreurs 5xx : {len(errors)} ; "
              f"paramètres sans objet construit : {', '.join(not_built) or 'aucun'}")
    assert controls == {"owner_sees_marker": True, "secretariat_sees_marker": True}, controls
    assert not leaks and not errors, f"{len(leaks)} fuites :\n" + "\n".join(leaks) + "\n5xx :\n" + "\n".join(errors)
    assert db.session.scalar(select(OutboxEmail.id).limit(1)) is not None
