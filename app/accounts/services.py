"""Account operations: establishments, users, company account requests, single-use links
(set / reset password), API tokens, login sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from sqlalchemy import case, func, select, update
from stdnum.fr import siret as siret_checker

from app.accounts.auth import hash_password, password_problems, verify_password
from app.accounts.models import AccountRequest, ApiToken, Establishment, OneTimeToken, Role, User, UserSession
from app.core import audit, clock
from app.core.clock import utcnow
from app.core.errors import Conflict, Gone, NotFound, RuleViolation, ValidationFailed
from app.core.links import SingleUseLinks
from app.core.mail import queue_email
from app.core.tokens import hash_token, new_token
from app.extensions import db

SIRET_MESSAGE = "Le SIRET doit comporter 14 chiffres et une clé de contrôle valide."


def normalize_siret(value: str | None) -> str:
    return "".join((value or "").split())


def check_siret(value: str | None, field: str = "siret") -> str:
    siret = normalize_siret(value)
    if not siret:
        raise ValidationFailed.for_field(field, "Le SIRET est obligatoire.")
    if not siret.isdigit() or len(siret) != 14 or not siret_checker.is_valid(siret):
        raise ValidationFailed.for_field(field, SIRET_MESSAGE)
    return siret


def check_email(value: str | None, field: str = "email") -> str:
    try:
        return validate_email((value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed.for_field(field, "L'adresse email n'est pas valide.") from None


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def find_establishment(siret: str) -> Establishment | None:
    return db.session.scalar(select(Establishment).where(Establishment.siret == normalize_siret(siret)))


def _refuse_taken_siret(siret: str) -> None:
    if find_establishment(siret) is not None:
        raise Conflict.for_field("siret", f"Un établissement existe déjà pour le SIRET {siret}.")


def _refuse_taken_email(email: str) -> None:
    if find_user_by_email(email) is not None:
        raise Conflict.for_field("email", f"Un compte existe déjà pour l'adresse {email}.")


def create_establishment(siret: str, name: str, *, actor=None, address=None, postcode=None, city=None,
                         contact_email=None) -> Establishment:
    """R12: one establishment per SIRET."""
    siret = check_siret(siret)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.for_field("name", "La raison sociale de l'établissement est obligatoire.")
    if contact_email:
        contact_email = check_email(contact_email, "contact_email")
    _refuse_taken_siret(siret)
    establishment = Establishment(siret=siret, name=name, address=address or None, postcode=postcode or None,
                                  city=city or None, contact_email=contact_email or None)
    db.session.add(establishment)
    db.session.flush()
    audit.record("establishment.create", actor, establishment, siret=siret)
    return establishment


def create_user(email: str, role: str, *, password: str | None = None, first_name: str = "", last_name: str = "",
                establishment: Establishment | None = None, actor=None) -> User:
    email = check_email(email)
    if role not in {r.value for r in Role}:
        raise ValidationFailed.for_field(
            "role", f"Rôle inconnu : {role}. Rôles possibles : {', '.join(r.value for r in Role)}."
        )
    if role == Role.ENTREPRISE and establishment is None:
        raise ValidationFailed.for_field("siret", "Un utilisateur entreprise doit être rattaché à un établissement.")
    if password is not None:
        problems = password_problems(password)
        if problems:
            raise ValidationFailed("; ".join(problems), {"password": problems})
    _refuse_taken_email(email)
    user = User(
        email=email,
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        establishment=establishment,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor, user, role=role)
    return user


def set_password(user: User, password: str, *, keep: UserSession | None = None) -> None:
    """A new password ends every session of the user but `keep` (the device that changed it)."""
    problems = password_problems(password)
    if problems:
        raise ValidationFailed("; ".join(problems), {"password": problems})
    user.password_hash = hash_password(password)
    end_sessions(user, keep=keep)
    audit.record("user.password_set", user, user)


def _clear_session() -> None:
    session.clear()
    # Flask-WTF caches the CSRF token of the old session in g: it must not outlive that session
    # (g lives as long as the app context, which tests and the CLI reuse across requests).
    g.pop("csrf_token", None)


def start_session(user: User, remember: bool = False) -> None:
    """Login on this device: a fresh cookie (no fixation) carrying the key of a new device session.
    The user's sessions on other devices stay open."""
    _clear_session()
    key = new_token(32)
    device = UserSession(user_id=user.id, key_hash=hash_token(key),
                         user_agent=(request.user_agent.string or "")[:255] or None,
                         ip=(request.remote_addr or "")[:64] or None)
    db.session.add(device)
    db.session.flush()
    device.key = key
    user.current_session = device
    user.last_login_at = utcnow()
    login_user(user, remember=remember, fresh=True)
    session.permanent = True
    audit.record("user.login", user, user)


def end_session(user: User) -> None:
    """Logout: this device's session ends (a copy of its cookie is dead too); the others stay open."""
    if user.current_session is not None:
        _end(UserSession.id == user.current_session.id)
    audit.record("user.logout", user, user)
    logout_user()
    _clear_session()


def _end(*criteria) -> int:
    return db.session.execute(
        update(UserSession).where(*criteria, UserSession.ended_at.is_(None)).values(ended_at=utcnow())
        .execution_options(synchronize_session="fetch")
    ).rowcount


def end_sessions(user: User, *, keep: UserSession | None = None) -> int:
    """Ends the user's open sessions on every device but `keep`; how many were ended."""
    criteria = [UserSession.user_id == user.id]
    if keep is not None:
        criteria.append(UserSession.id != keep.id)
    return _end(*criteria)


def end_everywhere(user: User) -> int:
    """« Se déconnecter partout »: every session of the user ends, this device's too."""
    ended = end_sessions(user)
    audit.record("user.logout_everywhere", user, user, sessions=ended)
    logout_user()
    _clear_session()
    return ended


def end_other_session(user: User, session_id: int) -> None:
    """Ends one of the user's sessions on another device (a lost phone, a stolen cookie)."""
    device = db.session.get(UserSession, session_id)
    if device is None or device.user_id != user.id or device.ended_at is not None:
        raise NotFound("Cette session n'existe pas ou est déjà terminée.")
    _end(UserSession.id == device.id)
    audit.record("user.session_end", user, user, session=device.id)


def open_sessions(user: User) -> list[UserSession]:
    """The user's open sessions, the most recently seen first."""
    return list(db.session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())))


# ---------------------------------------------------------------- « Mon compte »

CURRENT_PASSWORD_WRONG = "Le mot de passe actuel est incorrect."


def update_profile(user: User, first_name: str, last_name: str, email: str) -> User:
    """The user's own name and address; the address stays unique (a French message on the field)."""
    first_name = _required(first_name, "first_name", "Le prénom est obligatoire.")
    last_name = _required(last_name, "last_name", "Le nom est obligatoire.")
    address = check_email(email)
    if address != user.email.lower():
        taken = find_user_by_email(address)
        if taken is not None and taken.id != user.id:
            raise Conflict.for_field("email", f"L'adresse {address} est déjà celle d'un autre compte.")
    changed = {name: value for name, value in (("first_name", first_name), ("last_name", last_name),
                                               ("email", address)) if getattr(user, name) != value}
    for name, value in changed.items():
        setattr(user, name, value)
    if changed:
        audit.record("user.profile_update", user, user, fields=sorted(changed))
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """The current password is asked again; the new one follows the rule (12 characters at least).
    The user's sessions on other devices end; this one stays open."""
    if not current_password:
        raise ValidationFailed.for_field("current_password", "Saisissez votre mot de passe actuel.")
    problems = password_problems(new_password or "")
    if problems:
        raise ValidationFailed("; ".join(problems), {"password": problems})
    if not verify_password(user, current_password):
        raise ValidationFailed.for_field("current_password", CURRENT_PASSWORD_WRONG)
    set_password(user, new_password, keep=user.current_session)


# ---------------------------------------------------------------- colleagues of a company user


def list_colleagues(user: User) -> list[User]:
    """The company users of the user's establishment, the user included."""
    if not user.is_company or user.establishment_id is None:
        return []
    return list(db.session.scalars(select(User).where(
        User.establishment_id == user.establishment_id, User.role == Role.ENTREPRISE)
        .order_by(User.last_name, User.first_name, User.email)))


def invite_colleague(actor: User, email: str, first_name: str, last_name: str) -> User:
    """A company user opens an account for a colleague: the `entreprise` role for the same
    establishment (no new establishment: R12 unchanged), and a single-use link to choose a password."""
    if not actor.is_company or actor.establishment is None:
        raise RuleViolation("Seul un utilisateur entreprise peut inviter des collègues de son établissement.")
    first_name = _required(first_name, "first_name", "Le prénom est obligatoire.")
    last_name = _required(last_name, "last_name", "Le nom est obligatoire.")
    user = create_user(email, Role.ENTREPRISE, first_name=first_name, last_name=last_name,
                       establishment=actor.establishment, actor=actor)
    _send_colleague_invitation(user, actor)
    return user


def reinvite_colleague(actor: User, colleague_id: int) -> User:
    """A new link for a colleague who has not chosen a password yet (the earlier link dies)."""
    colleague = db.session.get(User, colleague_id)
    if colleague is None or not colleague.belongs_to(actor.establishment_id) or colleague.id == actor.id:
        raise NotFound("Ce collègue n'existe pas dans votre établissement.")
    if colleague.password_hash:
        raise Conflict(f"{colleague.full_name} a déjà choisi son mot de passe : il peut utiliser « Mot de passe "
                       "oublié » s'il l'a perdu.")
    if not colleague.active:
        raise Conflict("Ce compte est désactivé : demandez au secrétariat CQP de le réactiver.")
    _send_colleague_invitation(colleague, actor)
    return colleague


def _send_colleague_invitation(user: User, actor: User) -> None:
    link = issue_password_link(user, SET_PASSWORD)
    queue_email("account_invitation", user.email, "Votre compte Certifia : choisissez votre mot de passe",
                "account_invitation", user=user, link=link, days=7, invited_by=actor)
    audit.record("user.colleague_invited", actor, user)


def create_api_token(user: User, name: str | None = None) -> str:
    token = new_token(32)
    db.session.add(ApiToken(user=user, token_hash=hash_token(token), name=name))
    db.session.flush()
    audit.record("api_token.create", user, user)
    return token


# ---------------------------------------------------------------- single-use links (set / reset password)


def absolute_link(endpoint: str, **values) -> str:
    """BASE_URL + the route's path; works outside a request too (CLI, API, workers)."""
    path = current_app.url_map.bind("certifia").build(endpoint, values)
    return f"{current_app.config['BASE_URL']}{path}"


SET_PASSWORD = "set_password"
RESET_PASSWORD = "reset_password"
TOKEN_LIFETIMES = {SET_PASSWORD: timedelta(days=7), RESET_PASSWORD: timedelta(hours=2)}
GONE_MESSAGE = ("Ce lien a déjà été utilisé ou a expiré. Demandez un nouveau lien depuis la page "
                "« Mot de passe oublié ».")
# One answer for every link that cannot serve: the page does not tell a used link from an expired one.
PASSWORD_LINKS = SingleUseLinks(OneTimeToken, unknown=GONE_MESSAGE, used=GONE_MESSAGE, replaced=GONE_MESSAGE,
                                expired=GONE_MESSAGE)


def issue_password_link(user: User, purpose: str = SET_PASSWORD) -> str:
    """A single-use link to choose the password, returned as the URL to email. A new link replaces the
    earlier unused links of the same purpose: only the last email works."""
    _, token = PASSWORD_LINKS.issue(
        TOKEN_LIFETIMES[purpose], [OneTimeToken.user_id == user.id, OneTimeToken.purpose == purpose],
        user_id=user.id, purpose=purpose)
    return absolute_link("accounts.set_password", token=token)


def find_password_link(token: str) -> OneTimeToken:
    """The live link behind an emailed URL, or Gone (410): used, replaced, expired, of an inactive
    user, and unknown too (a mistyped link gets the same page as a spent one)."""
    try:
        found = PASSWORD_LINKS.find(token, OneTimeToken.purpose.in_((SET_PASSWORD, RESET_PASSWORD)))
    except NotFound:
        raise Gone(GONE_MESSAGE) from None
    if not found.user.active:
        raise Gone(GONE_MESSAGE)
    return found


def set_password_from_link(token: str, password: str) -> User:
    """Spends the link (one conditional UPDATE: two concurrent submissions cannot both win), sets the
    password and ends every session of the user (the view then opens one on this device)."""
    problems = password_problems(password or "")
    if problems:
        raise ValidationFailed("; ".join(problems), {"password": problems})
    found = find_password_link(token)
    PASSWORD_LINKS.spend(found)
    user = found.user
    set_password(user, password)
    audit.record("user.password_link_used", user, user, purpose=found.purpose)
    return user


def request_password_reset(email: str) -> None:
    """Emails a reset link when the address belongs to an active account; says nothing otherwise
    (the page answers the same in both cases, so it does not reveal who has an account)."""
    try:
        address = check_email(email)
    except ValidationFailed:
        return
    user = find_user_by_email(address)
    if user is None or not user.active or user.role == Role.EVALUATEUR_METIER:
        return
    link = issue_password_link(user, RESET_PASSWORD)
    queue_email("password_reset", user.email, "Réinitialisation de votre mot de passe Certifia",
                "password_reset", user=user, link=link, hours=2)
    audit.record("user.password_reset_requested", None, user)


def invite_user(user: User, actor=None) -> str:
    """Emails a new user (or one who lost the first email) the link to choose a password."""
    if not user.active:
        raise Conflict("Ce compte est désactivé : réactivez-le avant d'envoyer un lien.")
    if user.role == Role.EVALUATEUR_METIER:
        raise RuleViolation("Un évaluateur métier n'a pas de mot de passe : il reçoit un lien par dossier.")
    link = issue_password_link(user, SET_PASSWORD)
    queue_email("account_invitation", user.email, "Votre compte Certifia : choisissez votre mot de passe",
                "account_invitation", user=user, link=link, days=7)
    audit.record("user.invited", actor, user)
    return link


# ---------------------------------------------------------------- company account requests

PHONE_RE = re.compile(r"^\+?[0-9 .()-]{10,20}$")
POSTCODE_RE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")


@dataclass
class AccountRequestData:
    siret: str
    establishment_name: str
    address: str
    postcode: str
    city: str
    contact_first_name: str
    contact_last_name: str
    email: str
    phone: str


def _required(value: str | None, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed.for_field(field, message)
    return value


class _FieldErrors:
    """Collects the refusals of several field checks, so that a form is told every mistake at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.first: str | None = None

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)
        self.first = self.first or message

    def check(self, check, *args):
        try:
            return check(*args)
        except ValidationFailed as error:
            for field, messages in error.errors.items():
                for message in messages:
                    self.add(field, message)
            return None

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.first or "", self.errors)


def pending_request_for(siret: str) -> AccountRequest | None:
    return db.session.scalar(select(AccountRequest).where(
        AccountRequest.siret == siret, AccountRequest.status == "pending"))


def secretariat_addresses() -> list[str]:
    return list(db.session.scalars(select(User.email).where(User.role == Role.SECRETARIAT, User.active.is_(True))))


def validate_account_request(data: AccountRequestData) -> tuple[str, str, dict[str, str]]:
    """The request's fields checked and normalized (SIRET, email, the other values), or a
    ValidationFailed naming every field in error at once (the first one's message as the message)."""
    found = _FieldErrors()
    siret = found.check(check_siret, data.siret)
    values = {
        "establishment_name": found.check(_required, data.establishment_name, "establishment_name",
                                          "La raison sociale de l'établissement est obligatoire."),
        "address": found.check(_required, data.address, "address", "L'adresse est obligatoire."),
        "postcode": found.check(_required, data.postcode, "postcode", "Le code postal est obligatoire."),
        "city": found.check(_required, data.city, "city", "La ville est obligatoire."),
        "contact_first_name": found.check(_required, data.contact_first_name, "contact_first_name",
                                          "Le prénom est obligatoire."),
        "contact_last_name": found.check(_required, data.contact_last_name, "contact_last_name",
                                         "Le nom est obligatoire."),
        "phone": found.check(_required, data.phone, "phone", "Le téléphone est obligatoire."),
    }
    if values["postcode"] is not None:
        values["postcode"] = values["postcode"].upper()
        if not POSTCODE_RE.match(values["postcode"]):
            found.add("postcode", "Le code postal doit comporter 5 chiffres.")
    if values["phone"] is not None and (not PHONE_RE.match(values["phone"])
                                        or sum(ch.isdigit() for ch in values["phone"]) < 10):
        found.add("phone", "Le numéro de téléphone doit comporter au moins 10 chiffres.")
    email = found.check(check_email, data.email)
    found.raise_any()  # every field's mistake at once, the first one as the message
    return siret, email, values


def request_account(data: AccountRequestData) -> AccountRequest:
    """A company asks for an account. R12: refused when the SIRET already has an establishment or a
    pending request. The secretariat and the requester each get an email."""
    siret, email, values = validate_account_request(data)
    if find_establishment(siret) is not None:
        raise RuleViolation.for_field(
            "siret", f"Un compte existe déjà pour l'établissement de SIRET {siret} (un seul compte par "
                     "établissement) : demandez à ses utilisateurs de vous donner accès, ou contactez le secrétariat.")
    if pending_request_for(siret) is not None:
        raise RuleViolation.for_field(
            "siret", f"Une demande de création de compte est déjà en cours d'examen pour le SIRET {siret} : "
                     "le secrétariat CQP y répondra par email.")
    if find_user_by_email(email) is not None:
        raise RuleViolation.for_field("email", f"Un compte existe déjà pour l'adresse {email} : connectez-vous, "
                                               "ou utilisez « Mot de passe oublié ».")
    account_request = AccountRequest(siret=siret, email=email, **values)
    db.session.add(account_request)
    db.session.flush()
    queue_email("account_request_received", secretariat_addresses(),
                f"Nouvelle demande de compte entreprise : {account_request.establishment_name}",
                "account_request_received", request=account_request,
                link=absolute_link("accounts.account_request_detail", request_id=account_request.id))
    queue_email("account_request_ack", email, "Votre demande de compte Certifia a bien été reçue",
                "account_request_ack", request=account_request)
    audit.record("account_request.create", None, account_request, siret=siret)
    return account_request


def list_account_requests() -> list[AccountRequest]:
    """Pending first (oldest first, as they wait), then the decided ones, newest decision first."""
    pending_first = case((AccountRequest.status == "pending", 0), else_=1)
    return list(db.session.scalars(select(AccountRequest).order_by(
        pending_first, case((AccountRequest.status == "pending", AccountRequest.created_at), else_=None),
        AccountRequest.decided_at.desc(), AccountRequest.id.desc())))


def get_account_request(request_id: int) -> AccountRequest | None:
    return db.session.get(AccountRequest, request_id)


ALREADY_DECIDED = "Cette demande a déjà été traitée."


def _decide(account_request: AccountRequest, status: str, actor: User, reason: str | None = None) -> None:
    """pending → approved/refused by one conditional UPDATE: two secretaries deciding at once cannot
    both win (the second gets a 409, and nothing is written)."""
    decided = db.session.execute(
        update(AccountRequest)
        .where(AccountRequest.id == account_request.id, AccountRequest.status == "pending")
        .values(status=status, decided_at=clock.now(), decided_by_id=actor.id, refusal_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if decided.rowcount != 1:
        raise Conflict(ALREADY_DECIDED)
    db.session.refresh(account_request)


def approve_account_request(account_request: AccountRequest, actor: User) -> User:
    """Creates the establishment (R12) and its `entreprise` user, and emails the set-password link.
    Every refusal comes before the first write, so that the page showing it shows the request as it
    stands (the request then rolls back); a concurrent approval is refused by `_decide`'s UPDATE."""
    if account_request.status != "pending":
        raise Conflict(ALREADY_DECIDED)
    _refuse_taken_siret(account_request.siret)
    _refuse_taken_email(account_request.email)
    _decide(account_request, "approved", actor)
    establishment = create_establishment(
        account_request.siret, account_request.establishment_name, actor=actor, address=account_request.address,
        postcode=account_request.postcode, city=account_request.city, contact_email=account_request.email,
    )
    user = create_user(account_request.email, Role.ENTREPRISE, first_name=account_request.contact_first_name,
                       last_name=account_request.contact_last_name, establishment=establishment, actor=actor)
    link = issue_password_link(user, SET_PASSWORD)
    queue_email("account_approved", user.email, "Votre compte Certifia est ouvert : choisissez votre mot de passe",
                "account_approved", request=account_request, user=user, link=link, days=7)
    audit.record("account_request.approve", actor, account_request, siret=account_request.siret)
    return user


def refuse_account_request(account_request: AccountRequest, reason: str, actor: User) -> AccountRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.for_field("reason", "Indiquez le motif du refus : il est envoyé au demandeur.")
    _decide(account_request, "refused", actor, reason)
    queue_email("account_refused", account_request.email, "Votre demande de compte Certifia n'a pas été acceptée",
                "account_refused", request=account_request, reason=reason)
    audit.record("account_request.refuse", actor, account_request, reason=reason)
    return account_request


# ---------------------------------------------------------------- users managed by the secretariat

INVITABLE_ROLES = (Role.JURY, Role.PARTENAIRE)


def create_invited_user(email: str, role: str, first_name: str, last_name: str, actor: User) -> User:
    """A jury member or a partner, created by the secretariat; they choose their password from the link."""
    if role not in {r.value for r in INVITABLE_ROLES}:
        raise ValidationFailed.for_field("role", "Choisissez le rôle : membre du jury ou partenaire.")
    first_name = _required(first_name, "first_name", "Le prénom est obligatoire.")
    last_name = _required(last_name, "last_name", "Le nom est obligatoire.")
    user = create_user(email, role, first_name=first_name, last_name=last_name, actor=actor)
    invite_user(user, actor)
    return user


def list_users(role: str | None = None) -> list[User]:
    query = select(User).order_by(User.role, User.last_name, User.first_name, User.email)
    if role:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def set_user_active(user: User, active: bool, actor: User) -> User:
    """Deactivation ends the user's sessions on every device and their API tokens stop working."""
    if user.id == actor.id and not active:
        raise RuleViolation("Vous ne pouvez pas désactiver votre propre compte.")
    user.active = active
    if not active:
        end_sessions(user)
    audit.record("user.activate" if active else "user.deactivate", actor, user)
    return user
