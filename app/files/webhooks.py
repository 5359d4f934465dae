"""Webhooks for HR systems and OPCOs: registration (URL checked against server-side request forgery), the workflow
listener that writes one delivery per hook and status change in the change's transaction, and the sender.

Delivery (by the outbox's sender: the RQ worker, the process's sender thread or `flask outbox send`): POST of the
stored JSON body with `X-Certifia-Signature: sha256=<hex HMAC-SHA256(body, secret)>`, a short timeout, no redirect
followed. The host is resolved again at each attempt and the connection goes to the very address that was checked
(DNS rebinding). A failure is retried with exponential backoff (WEBHOOK_BACKOFF_SECONDS × 2^n) for
WEBHOOK_RETRY_HOURS; a delivery still failing then disables its hook and emails the owner."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import or_, select, update

from app.accounts.models import Role, User
from app.core import audit
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.mail import QUEUED_FLAG, queue_email
from app.extensions import db
from app.files import workflow
from app.files.models import CandidateFile
from app.files.webhook_models import WEBHOOK_EVENTS, Webhook, WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)
MAX_URL_LENGTH = 2000
USER_AGENT = "Certifia-Webhooks/1"
SIGNATURE_HEADER = "X-Certifia-Signature"


# ---------------------------------------------------------------- addresses (server-side request forgery)


class RefusedAddress(ValueError):
    """The URL's host is (or resolves to) an address inside: loopback, private, link-local, reserved…"""


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
        ip = ip.ipv4_mapped
    return (not ip.is_global or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int) -> list[tuple]:
    """Every address the host resolves to (socket addresses); raises RefusedAddress when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddress(f"le nom d'hôte « {host} » est introuvable") from exc
    return [info[4] for info in infos]


def checked_addresses(host: str, port: int, *, allow_private: bool) -> list[tuple]:
    addresses = resolve(host, port)
    if not allow_private:
        for sockaddr in addresses:
            if is_internal(sockaddr[0]):
                raise RefusedAddress(f"« {host} » désigne une adresse interne ({sockaddr[0]}), refusée")
    return addresses


def _parts(url: str):
    parts = urlsplit(url)
    port = parts.port  # ValueError when not a number in range
    return parts, port or (443 if parts.scheme == "https" else 80)


def check_url(url, *, field: str = "url") -> str:
    """The URL as registered; ValidationFailed (422) naming what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed.for_field(field, "L'adresse (URL) du webhook est obligatoire.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed.for_field(field, f"L'adresse du webhook dépasse {MAX_URL_LENGTH} caractères.")
    try:
        parts, port = _parts(url)
    except ValueError:
        raise ValidationFailed.for_field(field, "Le port de l'adresse du webhook n'est pas valide.") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationFailed.for_field(field, "L'adresse du webhook doit commencer par http:// ou https://.")
    if not parts.hostname:
        raise ValidationFailed.for_field(field, "L'adresse du webhook n'indique pas de nom d'hôte.")
    if parts.username or parts.password:
        raise ValidationFailed.for_field(field, "L'adresse du webhook ne doit pas contenir d'identifiants "
                                                "(utilisateur:mot de passe@).")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ValidationFailed.for_field(field, "L'adresse du webhook contient des espaces ou des caractères de "
                                                "contrôle.")
    if not current_app.config["WEBHOOK_ALLOW_PRIVATE"]:
        try:
            checked_addresses(parts.hostname, port, allow_private=False)
        except RefusedAddress as exc:
            raise ValidationFailed.for_field(field, f"Adresse du webhook refusée : {exc}.") from None
    return url


def check_events(events) -> list[str]:
    if not isinstance(events, list) or not events:
        raise ValidationFailed.for_field("events", "Choisissez au moins un évènement (file.status_changed).")
    unknown = [str(e) for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationFailed.for_field("events", f"Évènement inconnu : {', '.join(unknown)} "
                                                   f"(possibles : {', '.join(WEBHOOK_EVENTS)}).")
    return sorted(set(events))


# ---------------------------------------------------------------- registration


def visible_webhooks(user):
    """A company's users see their establishment's hooks; the secretariat sees its own (every file)."""
    query = select(Webhook).order_by(Webhook.id)
    if user.role == Role.SECRETARIAT:
        return query.where(Webhook.establishment_id.is_(None))
    if user.role == Role.ENTREPRISE and user.establishment_id:
        return query.where(Webhook.establishment_id == user.establishment_id)
    return query.where(False)


def list_webhooks(user) -> list[Webhook]:
    return list(db.session.scalars(visible_webhooks(user)))


def get_webhook(user, webhook_id) -> Webhook:
    webhook = db.session.scalar(visible_webhooks(user).where(Webhook.id == webhook_id))
    if webhook is None:
        raise NotFound("Ce webhook n'existe pas.")
    return webhook


def register_webhook(user, url, events) -> tuple[Webhook, str]:
    """Creates the hook; returns it with its secret (shown this once)."""
    problems: dict[str, list[str]] = {}
    checked = {}
    for field, check, value in (("url", check_url, url), ("events", check_events, events)):
        try:
            checked[field] = check(value)
        except ValidationFailed as error:
            problems.update(error.errors)
    if problems:
        raise ValidationFailed("Webhook refusé : " + " ".join(m for ms in problems.values() for m in ms), problems)
    secret = secrets.token_hex(32)
    webhook = Webhook(owner_id=user.id, url=checked["url"], events=",".join(checked["events"]), secret=secret,
                      establishment_id=None if user.role == Role.SECRETARIAT else user.establishment_id)
    db.session.add(webhook)
    db.session.flush()
    audit.record("webhook.create", user, webhook, url=webhook.url, events=webhook.events)
    return webhook, secret


def delete_webhook(user, webhook: Webhook) -> None:
    audit.record("webhook.delete", user, webhook, url=webhook.url)
    db.session.delete(webhook)
    db.session.flush()


def enable_webhook(user, webhook: Webhook) -> Webhook:
    webhook.active, webhook.disabled_at, webhook.disabled_reason, webhook.consecutive_failures = True, None, None, 0
    audit.record("webhook.enable", user, webhook)
    return webhook


def deliveries(webhook: Webhook, limit: int = 100) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                                   .order_by(WebhookDelivery.id.desc()).limit(limit)))


# ---------------------------------------------------------------- events: one delivery per hook, same transaction


def status_changed_body(file: CandidateFile, from_status: str) -> str:
    at = file.status_changed_at.replace(microsecond=0).isoformat() + "Z"
    return json.dumps({"event": "file.status_changed", "file_id": file.id, "from": from_status, "to": file.status,
                       "at": at}, ensure_ascii=False, separators=(",", ":"))


@workflow.on(*workflow.machine.events)
def file_status_changed(file: CandidateFile, event: str, from_status: str, actor, data: dict) -> None:
    if from_status == file.status:  # a corrected decision that keeps the status: no change to tell
        return
    hooks = db.session.scalars(select(Webhook).where(
        Webhook.active.is_(True),
        or_(Webhook.establishment_id.is_(None), Webhook.establishment_id == file.establishment_id)))
    body = None
    for hook in hooks:
        if "file.status_changed" not in hook.event_list:
            continue
        body = body or status_changed_body(file, from_status)
        db.session.add(WebhookDelivery(webhook_id=hook.id, event="file.status_changed", file_id=file.id, body=body,
                                       next_attempt_at=utcnow()))
        db.session.info[QUEUED_FLAG] = True  # handed to the outbox's sender after the commit


# ---------------------------------------------------------------- delivery


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to a second resolution of the name."""

    def __init__(self, host, port, sockaddr, **kwargs):
        super().__init__(host, port, **kwargs)
        self._sockaddr = sockaddr

    def connect(self):
        self.sock = socket.create_connection(self._sockaddr[:2], self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, sockaddr, **kwargs):
        super().__init__(host, port, **kwargs)
        self._sockaddr = sockaddr

    def connect(self):
        sock = socket.create_connection(self._sockaddr[:2], self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


TOTAL_TIMEOUT_FACTOR = 3  # the whole call, however slowly a server drips its answer: 3 × the socket timeout


def _abort(connection: http.client.HTTPConnection, fired: threading.Event) -> None:
    """The whole call took too long (a server dripping bytes just under the socket timeout): cut it. A cut
    socket reads as the end of the answer, so the caller checks `fired`, never what was read."""
    fired.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool) -> int:
    """POSTs and returns the HTTP status; raises RefusedAddress or OSError/HTTPException. Each socket operation
    waits at most `timeout`, the whole call TOTAL_TIMEOUT_FACTOR × `timeout`."""
    parts, port = _parts(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress("adresse non http(s)")
    sockaddr = checked_addresses(parts.hostname, port, allow_private=allow_private)[0]
    cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = cls(parts.hostname, port, sockaddr, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    fired = threading.Event()
    watchdog = threading.Timer(timeout * TOTAL_TIMEOUT_FACTOR, _abort, args=(connection, fired))
    watchdog.daemon = True
    too_long = TimeoutError(f"pas de réponse complète en {timeout * TOTAL_TIMEOUT_FACTOR:g} s")
    watchdog.start()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(4096)
    except (OSError, http.client.HTTPException):
        if fired.is_set():
            raise too_long from None
        raise
    else:
        if fired.is_set():
            raise too_long
        return response.status
    finally:
        watchdog.cancel()
        connection.close()


def _attempt(delivery: WebhookDelivery, at: datetime) -> WebhookAttempt:
    config = current_app.config
    body = delivery.body.encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               SIGNATURE_HEADER: signature(body, delivery.webhook.secret),
               "X-Certifia-Event": delivery.event, "X-Certifia-Delivery": str(delivery.id)}
    started = time.monotonic()
    attempt = WebhookAttempt(at=at)
    try:
        attempt.status_code = post(delivery.webhook.url, body, headers, timeout=config["WEBHOOK_TIMEOUT_SECONDS"],
                                   allow_private=config["WEBHOOK_ALLOW_PRIVATE"])
        if not 200 <= attempt.status_code < 300:
            attempt.error = f"réponse HTTP {attempt.status_code}"
    except RefusedAddress as exc:
        attempt.error = f"adresse refusée : {exc}"
    except (OSError, http.client.HTTPException) as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"[:2000]
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.attempt_log.append(attempt)
    return attempt


def _disable(webhook: Webhook, at: datetime, reason: str) -> None:
    webhook.active, webhook.disabled_at, webhook.disabled_reason = False, at, reason
    db.session.execute(update(WebhookDelivery)
                       .where(WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.status == "pending")
                       .values(status="failed", last_error="webhook désactivé")
                       .execution_options(synchronize_session=False))
    owner = db.session.get(User, webhook.owner_id)
    queue_email("webhook_disabled", owner.email if owner and owner.active else [],
                "Certifia : votre webhook est désactivé après des échecs répétés", "webhook_disabled",
                webhook=webhook, reason=reason)


def deliver_pending(now: datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Posts every delivery due at `now` (default: the real time); each committed on its own."""
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    config = current_app.config
    query = (select(WebhookDelivery.id)
             .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= (now or utcnow()))
             .order_by(WebhookDelivery.id))
    if limit:
        query = query.limit(limit)
    for delivery_id in db.session.scalars(query).all():
        delivery = db.session.execute(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending")
            .with_for_update(skip_locked=True)).scalar_one_or_none()
        if delivery is None:
            db.session.rollback()
            continue
        at = now or utcnow()
        webhook = delivery.webhook
        attempt = _attempt(delivery, at)
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = attempt.status_code, attempt.error
        if attempt.error is None:
            delivery.status, delivery.delivered_at = "delivered", at
            webhook.consecutive_failures = 0
            counts["delivered"] += 1
        else:
            webhook.consecutive_failures += 1
            retry_at = at + timedelta(seconds=config["WEBHOOK_BACKOFF_SECONDS"] * 2 ** (delivery.attempts - 1))
            if retry_at > delivery.created_at + timedelta(hours=config["WEBHOOK_RETRY_HOURS"]):
                delivery.status = "failed"
                counts["failed"] += 1
                _disable(webhook, at, f"la livraison {delivery.id} a échoué pendant {config['WEBHOOK_RETRY_HOURS']} h "
                                      f"({delivery.attempts} tentatives ; dernière erreur : {attempt.error})")
            else:
                delivery.next_attempt_at = retry_at
                counts["retry"] += 1
            log.warning("Webhook %s : livraison %s échouée (%s)", webhook.id, delivery.id, attempt.error)
        db.session.commit()
    return counts


def pending_count() -> int:
    return db.session.query(WebhookDelivery).filter(WebhookDelivery.status == "pending").count()
