"""The role × route matrix (issue 17): every route of app.url_map, each method, tried by every role with the ids of
ANOTHER tenant; 0 leaks. Generated from the URL map, so a route added later is tried too.

Two tenants, A and B, each with its establishment, company user, candidate (with a candidate account), assessor,
a file waiting for its evaluation (a scan deposited, a job-assessor invitation, a message of its thread with an
attachment), a second file under an open correction request, a decided file of a published jury session (its
parchment issued, sent in a CPF flux of its own), an email, a webhook of the company (disabled after failures, its
deliveries), a habilitation renewal of the assessor under examination (its documents), a finished export job of a
secretariat account (A's: the matrix's secretariat; B's: another one) and a company account request. Each
of their personal data carries a marker (`Zyxmarqueur<T>`, the establishment's name, the candidate's email, the
scan's bytes, `MARQUEUR-<kind>-<T>` in each other object's text or bytes). The roles: company A and B,
assessor A and B, candidate A, the job assessor (A's one-time link, no account), a jury member (sitting on A's
session only), a partner token, anonymous, and the secretariat (who sees everything: GETs only, for 500s). Each
role is pointed at the other tenant's ids (A's roles at B, B's roles at A); a role with objects of its own is also
pointed at its own parent object with the other tenant's child (its own file with B's message, its own renewal with
B's document: the « mixed » requests).

A request leaks when (1) the answer carries a marker of the targeted tenant (body or Location), or (2) a route
naming a tenant's object answers 2xx to an outsider (unless listed in BY_DESIGN), or (3) a state-changing request
answered below 400 changed the targeted tenant's rows (an answer of 400 or more is rolled back by the app). Any 5xx fails as well.

How a route is classified: by the names of its URL parameters (PARAMS below says how to build the other tenant's
value of each). A route with a parameter PARAMS does not know fails `test_every_route_parameter_is_classified`
with the message saying what to add; a parameter whose object the world does not build (no key of Tenant.ids for
it, see _object_key) fails the matrix itself: every route is tried with real objects, none with an absent id."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select, text

import app.models  # noqa: F401  (every model mapped before the jury modules inspect them)
from app.accounts import services as account_services
from app.accounts.models import Role, User
from app.accounts.services import create_api_token
from app.core.clock import utcnow
from app.core.mail import queue_email
from app.core.models import OutboxEmail
from app.core.tokens import hash_token
from app.extensions import db
from app.files import exchanges, services, webhooks
from app.files.models import FileStatus, JobAssessorInvitation
from app.jury import cdc, decisions
from app.referential import habilitation
from app.stats import export_jobs
from app.stats.models import ExportJob
from tests import factories
from tests.conftest import CSRF_RE
from tests.files.conftest import PDF, upload
from tests.jury.helpers import decide

JURY_DAY = date(2027, 6, 15)
HABILITATION_ENDS = date(2027, 9, 30)  # the assessors' end: the renewal opens 9 months before, from 2026-12-30
UNKNOWN_TOKEN = "Xy" * 21 + "z"
# The markers of the objects but the file, the candidate and the scan: MARQUEUR-<kind>-<tenant> in their text/bytes.
OBJECT_MARKERS = ("MSG", "PJ", "CORR", "HOOK", "RENOUV", "PIECE", "DEMANDE")

# What each URL parameter is, and how to build the targeted tenant's value: a key of Tenant.ids (_object_key), or a
# constant. Tenant parameters name a tenant's object (or the secretariat's: an account request, a CPF flux): an
# outsider gets no 2xx on a route that has one.
TENANT_PARAMS = {"file_id", "candidate_id", "document_id", "invitation_id", "user_id", "email_id",
                 "siret", "number", "message_id", "webhook_id", "renewal_id", "job_id", "request_id", "export_id"}
# Objects of one user, not of the whole role: another secretariat account's export is not the secretariat's either
# (the matrix's secretariat is an outsider on these routes too).
USER_PARAMS = {"job_id"}
# Shared objects, built from the tenant and checked for markers only: a jury session is public to every role (its
# date and seats, API.md « GET /jury-sessions: any »), its files only to its members and the secretariat; an
# assessor is in the public list of habilitated assessors.
SHARED_PARAMS = {"session_id", "assessor_id"}
CONSTANTS = {"code": "FAB-OPF", "fmt": "csv", "name": "statuts", "batch": "1", "action": "desactiver",
             "filename": "css/app.css", "token": UNKNOWN_TOKEN}
PARAMS = TENANT_PARAMS | SHARED_PARAMS | set(CONSTANTS)
# Kept empty: every parameter names an object the world builds (the matrix fails on one it cannot build).
NOT_BUILT: frozenset[str] = frozenset()

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
OWN_TENANT = {"entreprise_a": "A", "evaluateur_a": "A", "candidat_a": "A", "entreprise_b": "B", "evaluateur_b": "B"}
CDC_SETTINGS = {"CDC_ID_CLIENT": "03VML243", "CDC_ID_CONTRAT": "MCFCER000209"}
# The development mailbox on (as on a demo instance without SMTP): /boite-mail/<email_id> reaches a real email.
DEV_MAILBOX = {"MAIL_DEV_MAILBOX": True, "MAIL_SERVER_CONFIGURED": False}


@dataclass
class Tenant:
    name: str
    ids: dict = field(default_factory=dict)
    markers: tuple[str, ...] = ()


def _today(monkeypatch, value) -> None:
    monkeypatch.setenv("APP_TODAY", str(value))


def _build_tenant(name: str, jury_session, secretariat) -> tuple[Tenant, dict]:
    establishment = factories.make_establishment(name=f"Etablissement Marqueur{name}")
    company = factories.make_user(Role.ENTREPRISE, establishment=establishment)
    assessor = factories.make_assessor(until=HABILITATION_ENDS)  # within the 9 months: its renewal can be filed
    candidate = factories.make_candidate(establishment)
    candidate.set_names("Camille", f"Zyxmarqueur{name}")
    candidate.email = f"candidat.marqueur{name.lower()}@exemple.fr"
    candidate.sex, candidate.birth_place_code, candidate.birth_place = "F", "69123", "Lyon"  # complete for the CPF
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
    # The file's thread: a message of the company with an attachment; a second file under a correction request
    # of its assessor (on a file of its own: an open request holds the workflow's events of its file).
    message = exchanges.post_message(file, company, body=f"Message MARQUEUR-MSG-{name}",
                                     upload=upload(PDF + f"% MARQUEUR-PJ-{name}\n".encode(), name="piece.pdf"))
    corrected = factories.make_file(FileStatus.EN_ATTENTE_EVALUATION, candidate=candidate, assessor=assessor,
                                    cqp_code="FAB-PIF")
    correction = exchanges.request_correction(corrected, assessor.user, message=f"Corriger MARQUEUR-CORR-{name}",
                                              fields=["birth_date"])
    webhook, _secret = webhooks.register_webhook(company, f"http://127.0.0.1:9/crochet-MARQUEUR-HOOK-{name}",
                                                 ["file.status_changed"])
    renewal = habilitation.submit_renewal(
        assessor.user, {kind: upload(PDF + f"% MARQUEUR-PIECE-{name}\n".encode(), name=f"{kind}.pdf")
                        for kind in habilitation.RENEWAL_DOCUMENTS}, f"Renouvellement MARQUEUR-RENOUV-{name}")
    account_request = account_services.request_account(account_services.AccountRequestData(
        siret=factories.valid_siret(), establishment_name=f"Demande MARQUEUR-DEMANDE-{name}",
        address="1 rue de la Paix", postcode="69001", city="Lyon", contact_first_name="Dominique",
        contact_last_name=f"Demandeur{name}", email=f"demande.{name.lower()}@exemple.fr", phone="04 72 00 00 00"))
    db.session.commit()
    decided = factories.make_file(FileStatus.INSCRIPTION_JURY, candidate=candidate, session=jury_session,
                                  cqp_code="FAB-CEF", assessor=assessor)
    email = queue_email("test", company.email, f"Pour Etablissement Marqueur{name}", "account_invitation",
                        user=company, link="http://x", days=1)
    db.session.commit()
    tenant = Tenant(name, markers=(f"Zyxmarqueur{name}", f"Etablissement Marqueur{name}",
                                   f"candidat.marqueur{name.lower()}@exemple.fr", f"MARQUEUR-DOC-{name}",
                                   *(f"MARQUEUR-{kind}-{name}" for kind in OBJECT_MARKERS)))
    tenant.ids = {"file_id": file.id, "candidate_id": candidate.id, "document_id": document.id,
                  "session_id": jury_session.id, "invitation_id": invitation.id, "user_id": company.id,
                  "email_id": email.id, "siret": establishment.siret, "assessor_id": assessor.id,
                  "decided_file_id": decided.id, "message_id": message.id, "corrected_file_id": corrected.id,
                  "correction_id": correction.id, "webhook_id": webhook.id, "renewal_id": renewal.id,
                  "renewal_document_id": renewal.documents[0].id, "account_request_id": account_request.id}
    users = {"company": company, "assessor": assessor.user, "candidate": candidate_user, "token": token,
             "decided": decided, "webhook": webhook}
    return tenant, users


def _world(app, monkeypatch):
    _today(monkeypatch, "2027-05-01")
    for key, value in {**CDC_SETTINGS, **DEV_MAILBOX}.items():
        monkeypatch.setitem(app.config, key, value)
    cqp = factories.get_cqp("FAB-CEF")  # registered in the RNCP: its holders go to the CPF register
    cqp.repertoire, cqp.repertoire_code = "RNCP", "RNCP35842"
    db.session.commit()
    sessions = {name: factories.make_session(on=JURY_DAY, location=f"Salle {name}") for name in "AB"}
    secretariat = factories.make_user(Role.SECRETARIAT)
    tenants, users = {}, {}
    for name in "AB":
        tenants[name], users[name] = _build_tenant(name, sessions[name], secretariat)
    _today(monkeypatch, JURY_DAY)
    for name in "AB":
        decide(users[name]["decided"], secretariat, True)  # the webhook's delivery of the status change
        decisions.publish_session(sessions[name], secretariat)
        db.session.commit()
        tenants[name].ids["number"] = users[name]["decided"].parchment.number
        flux, _incomplete = cdc.create_export(secretariat)  # this tenant's holder only (the other's is not decided)
        db.session.commit()
        assert flux.passages_count == 1, flux.passages_count
        tenants[name].ids["export_id"] = flux.id
        webhooks._disable(users[name]["webhook"], utcnow(), "Essai de la matrice : échecs répétés")  # re-enablable
        db.session.commit()
    # Each tenant's finished export: A's asked for by the matrix's secretariat, B's by another secretariat account.
    owners = {"A": secretariat, "B": factories.make_user(Role.SECRETARIAT)}
    for name in "AB":
        job = export_jobs.start_export(owners[name], "dossiers_xlsx", {"args": {}})
        db.session.commit()
        export_jobs.background_runner(app).jobs.join()
        db.session.expire_all()
        assert db.session.get(ExportJob, job.id).status == "termine", db.session.get(ExportJob, job.id).error
        tenants[name].ids["job_id"] = job.id
    member = factories.make_user(Role.JURY)
    factories.sit_on(sessions["A"], member)
    accounts = {"entreprise_a": users["A"]["company"], "entreprise_b": users["B"]["company"],
                "evaluateur_a": users["A"]["assessor"], "evaluateur_b": users["B"]["assessor"],
                "candidat_a": users["A"]["candidate"], "jury": member, "secretariat": secretariat,
                "partenaire": factories.make_user(Role.PARTENAIRE)}
    return tenants, accounts, users


def _object_key(rule, param: str) -> str | None:
    """The key of Tenant.ids holding the object the route's parameter names (None: the world has none)."""
    path, args = rule.rule, rule.arguments
    if param == "session_id" and path.startswith("/mon-compte/sessions/"):
        return "device_session_id"  # a login session of the tenant's company user, not a jury session
    if param == "file_id":
        if "request_id" in args:
            return "corrected_file_id"  # the correction request's file
        if "parch" in path or "decision" in path:
            return "decided_file_id"
    if param == "document_id" and "renewal_id" in args:
        return "renewal_document_id"
    if param == "request_id":
        if "correction" in path:
            return "correction_id"
        if "demandes-de-compte" in path:
            return "account_request_id"
        return None  # a new kind of request: build one in _build_tenant
    return param


def _param_value(rule, param: str, tenant: Tenant, unbuilt: set | None = None):
    key = _object_key(rule, param)
    if key is not None and key in tenant.ids:
        return tenant.ids[key]
    if param in CONSTANTS:
        return CONSTANTS[param]
    if unbuilt is not None:
        unbuilt.add(f"<{param}> in {rule.rule}")
    return 2**31 - 1  # never an object (counted as unbuilt: the matrix fails)


def _path_order(rule) -> list[str]:
    """The rule's parameters in the order of the path (the last one is the child object)."""
    return [p for p in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule.rule)]


def _url(rule, tenant: Tenant, unbuilt: set, own: Tenant | None = None) -> str:
    """The route's URL with the tenant's objects; with `own`, every parameter but the last one of the path takes
    the value of the caller's own tenant (its file, the other's message)."""
    values = {p: _param_value(rule, p, tenant, unbuilt) for p in rule.arguments}
    if own is not None:
        for param in _path_order(rule)[:-1]:
            values[param] = _param_value(rule, param, own, unbuilt)
    from flask import url_for

    return url_for(rule.endpoint, **values)


def _mixed(rule) -> bool:
    """Routes naming a parent and a child object of a tenant: tried with the caller's parent and the other's child."""
    return sum(p in TENANT_PARAMS for p in rule.arguments) >= 2


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
        ("SELECT id, body, attachment_stored_name FROM file_messages WHERE file_id = :f ORDER BY id",
         {"f": ids["file_id"]}),
        ("SELECT id, message, answer, resolved_at FROM correction_requests WHERE file_id = :f ORDER BY id",
         {"f": ids["corrected_file_id"]}),
        ("SELECT url, events, active, disabled_at FROM webhooks WHERE id = :w", {"w": ids["webhook_id"]}),
        ("SELECT status, decided_at, granted_until, refusal_reason FROM habilitation_renewals WHERE id = :r",
         {"r": ids["renewal_id"]}),
        ("SELECT id, stored_name FROM habilitation_renewal_documents WHERE renewal_id = :r ORDER BY id",
         {"r": ids["renewal_id"]}),
        ("SELECT habilitation_until FROM assessors WHERE id = :a", {"a": ids["assessor_id"]}),
        ("SELECT status, user_id, file_path FROM export_jobs WHERE id = :j", {"j": ids["job_id"]}),
        ("SELECT report_received_at, accepted, rejected, passages_count FROM cdc_exports WHERE id = :x",
         {"x": ids["export_id"]}),
        ("SELECT status FROM cdc_passages WHERE export_id = :x ORDER BY id", {"x": ids["export_id"]}),
        ("SELECT status, decided_at, refusal_reason FROM account_requests WHERE id = :q",
         {"q": ids["account_request_id"]}),
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
    tenants, accounts, users = _world(app, monkeypatch)
    callers = _callers(app, accounts, users)
    from app.accounts.models import UserSession

    for name in "AB":
        tenants[name].ids["device_session_id"] = db.session.scalar(select(UserSession.id).where(
            UserSession.user_id == users[name]["company"].id).order_by(UserSession.id.desc()).limit(1))
    job_assessor_token = users["A"]["token"]
    fingerprints = {name: _fingerprint(t) for name, t in tenants.items()}
    leaks, errors, unbuilt = [], [], set()
    counts = {"GET": 0, "state": 0, "mixed": 0}
    rules = _rules(app)
    pairs = 0
    for rule in rules:
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        pairs += len(methods)
        for role in ROLES:
            caller = callers[role]
            target = tenants[TARGET_OF.get(role, "B")]
            with app.test_request_context():
                urls = [(_url(rule, target, unbuilt), False)]
                if role in OWN_TENANT and _mixed(rule):
                    urls.append((_url(rule, target, unbuilt, own=tenants[OWN_TENANT[role]]), True))
            for url, mixed in urls:
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
                    counts["mixed"] += mixed
                    where = f"{role} {method} {url} ({rule.endpoint}{', mixte' if mixed else ''}) → {answer.status_code}"
                    body = answer.get_data()
                    answer.close()  # send_file's open file
                    if answer.status_code >= 500:
                        errors.append(where)
                        continue
                    if role == "secretariat" and not USER_PARAMS & set(rule.arguments):
                        continue  # the secretariat sees every tenant's data; only another account's own objects not
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
    elapsed = time.monotonic() - started
    controls = _controls(tenants, callers)
    with capsys.disabled():
        print(f"\nMatrice rôles × routes : {len(rules)} routes, {pairs} couples route × méthode, {len(ROLES)} rôles ; "
              f"{counts['GET']} GET et {counts['state']} requêtes modifiantes essayées avec les identifiants de "
              f"l'autre établissement (objets réels, dont {counts['mixed']} mixtes : le parent de l'appelant, "
              f"l'enfant de l'autre) en {elapsed:.0f} s ; fuites : {len(leaks)}, erreurs 5xx : {len(errors)} ; "
              f"paramètres sans objet construit : {', '.join(sorted(unbuilt)) or 'aucun'}")
    assert not NOT_BUILT
    assert not unbuilt, ("Route parameters whose object the matrix's world does not build (tried with an id that is "
                         "nobody's, a 404 that proves nothing): " + "; ".join(sorted(unbuilt)) + ". Build the object "
                         "in _build_tenant (through its service), put its id in tenant.ids and map the parameter in "
                         "_object_key.")
    assert not leaks and not errors, f"{len(leaks)} fuites :\n" + "\n".join(leaks) + "\n5xx :\n" + "\n".join(errors)
    assert all(controls.values()), controls
    assert db.session.scalar(select(OutboxEmail.id).limit(1)) is not None


def _controls(tenants, callers) -> dict[str, bool]:
    """The markers are detected where they must be, and every object the matrix points at is real: its owner (or
    the secretariat) gets it (the test can fail)."""
    a, b = tenants["A"].ids, tenants["B"].ids

    def shows(role, url, marker=None, api=False) -> bool:
        caller = callers[role]
        headers = {"Authorization": f"Bearer {caller.bearer}"} if api else {}
        answer = caller.client.get(url, headers=headers)
        body = answer.get_data()
        answer.close()
        return answer.status_code == 200 and (marker is None or marker.encode() in body)

    return {
        "owner_sees_marker": shows("entreprise_a", f"/dossiers/{a['file_id']}", "ZyxmarqueurA"),
        "secretariat_sees_marker": shows("secretariat", f"/secretariat/candidats/{b['candidate_id']}", "ZyxmarqueurB"),
        "message": shows("entreprise_a", f"/dossiers/{a['file_id']}/messages/{a['message_id']}/piece-jointe",
                         "MARQUEUR-PJ-A"),
        "message_api": shows("evaluateur_a", f"/api/v1/files/{a['file_id']}/messages/{a['message_id']}/attachment",
                             "MARQUEUR-PJ-A", api=True),
        "correction": shows("entreprise_a", f"/dossiers/{a['corrected_file_id']}", "MARQUEUR-CORR-A"),
        "webhook": shows("entreprise_a", f"/webhooks/{a['webhook_id']}", "MARQUEUR-HOOK-A"),
        "webhook_api": shows("entreprise_a", f"/api/v1/webhooks/{a['webhook_id']}", "MARQUEUR-HOOK-A", api=True),
        "renewal": shows("evaluateur_a", f"/api/v1/habilitation-renewals/{a['renewal_id']}", "MARQUEUR-RENOUV-A",
                         api=True),
        "renewal_document": shows("evaluateur_a", f"/renouvellements/{a['renewal_id']}/pieces/"
                                                  f"{a['renewal_document_id']}", "MARQUEUR-PIECE-A"),
        "renewal_secretariat": shows("secretariat", f"/referentiel/renouvellements/{b['renewal_id']}",
                                     "MARQUEUR-RENOUV-B"),
        "account_request": shows("secretariat", f"/secretariat/demandes-de-compte/{b['account_request_id']}",
                                 "MARQUEUR-DEMANDE-B"),
        "cpf_flux": shows("secretariat", f"/secretariat/registre-cpf/flux/{b['export_id']}.xml"),
        "cpf_flux_api": shows("secretariat", f"/api/v1/cdc-exports/{b['export_id']}/flux.xml", api=True),
        "export_job": shows("secretariat", f"/exports/{a['job_id']}/fichier"),
        "dev_mailbox": shows("secretariat", f"/boite-mail/{b['email_id']}", "Etablissement MarqueurB"),
    }
