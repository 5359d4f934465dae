"""Login throttling that slows guessing down without letting anyone lock a user out.

Only failed attempts count (a wrong password or an unknown address), in three counters of the rate
limiter's storage (Redis when REDIS_URL is set, so shared by every worker and host; memory otherwise):

- the (account, address) pair: `LOGIN_RATE_LIMIT` failures (10 per 15 minutes) and that address may
  not try that account any more until the window passes; other addresses may;
- the address: `LOGIN_ADDRESS_RATE_LIMIT`, a higher bound (100 per 15 minutes), since a whole company
  may sit behind one NAT address;
- the account, across addresses: past `LOGIN_DELAY_AFTER` failures, each new failure doubles a delay
  (1 s, 2 s, 4 s … up to `LOGIN_DELAY_MAX_SECONDS`) during which the addresses that have themselves
  failed `LOGIN_DELAY_FREE_FAILURES` times on the account must wait. An address with fewer failures on
  it (the user at their desk, on a new network) is never delayed: the correct password from there is
  checked and accepted, whatever an attacker does elsewhere.

A success clears its pair's count. The client address is `request.remote_addr`, which ProxyFix sets from
X-Forwarded-For when `TRUSTED_PROXIES` proxies stand in front of the app."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from app.extensions import limiter

log = logging.getLogger(__name__)
ACCOUNT_COUNTER = "100000 per 15 minutes"  # a counter, never a limit: the delay grows with its value
_fallback = FixedWindowRateLimiter(MemoryStorage())  # while Redis does not answer: limits stay on, per process


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is not checked, for how long (seconds), in French."""

    retry_after: int
    message: str


def _strategy() -> RateLimiter:
    try:
        return limiter.limiter
    except (AssertionError, RuntimeError):  # the extension not initialised (outside an app)
        return _fallback


def _guarded(operation, default=None):
    """A storage failure (Redis down) falls back to this process's memory instead of a 500."""
    try:
        return operation(_strategy())
    except Exception:  # noqa: BLE001 (redis, connection and timeout errors alike)
        log.warning("Compteurs de connexion indisponibles : repli en mémoire", exc_info=True)
        try:
            return operation(_fallback)
        except Exception:  # noqa: BLE001
            log.exception("Compteurs de connexion en mémoire indisponibles")
            return default


def _minutes(seconds: float) -> str:
    if seconds < 60:
        count = max(1, math.ceil(seconds))
        return f"{count} seconde{'s' if count > 1 else ''}"
    count = math.ceil(seconds / 60)
    return f"{count} minute{'s' if count > 1 else ''}"


class LoginAttempt:
    """One login attempt: `refusal()` before checking the password, then `failed()` or `succeeded()`."""

    def __init__(self, email: str | None, address: str | None):
        self.email = (email or "").strip().lower() or "-"
        self.address = address or "-"
        config = current_app.config
        self.pair_limit = parse(config["LOGIN_RATE_LIMIT"])
        self.address_limit = parse(config["LOGIN_ADDRESS_RATE_LIMIT"])
        self.account_counter = parse(ACCOUNT_COUNTER)
        self.delay_after = int(config["LOGIN_DELAY_AFTER"])
        self.free_failures = int(config["LOGIN_DELAY_FREE_FAILURES"])
        self.max_delay = int(config["LOGIN_DELAY_MAX_SECONDS"])

    # ------------------------------------------------------------ keys

    @property
    def _pair(self) -> tuple:
        return ("login-pair", self.email, self.address)

    @property
    def _address(self) -> tuple:
        return ("login-address", self.address)

    @property
    def _account(self) -> tuple:
        return ("login-account", self.email)

    @property
    def _delay_key(self) -> str:
        return f"LIMITER/login-delay/{self.email}"

    def _failures(self, strategy: RateLimiter, item, identifiers: tuple) -> int:
        return item.amount - strategy.get_window_stats(item, *identifiers).remaining

    # ------------------------------------------------------------ the three steps

    def refusal(self) -> Refusal | None:
        """None when the password may be checked; else why not, and until when."""
        return _guarded(self._refusal)

    def _refusal(self, strategy: RateLimiter) -> Refusal | None:
        now = time.time()
        if not strategy.test(self.address_limit, *self._address):
            reset = strategy.get_window_stats(self.address_limit, *self._address).reset_time
            return Refusal(int(max(reset - now, 1)), "Trop de tentatives de connexion depuis votre adresse réseau : "
                           f"réessayez dans {_minutes(reset - now)}.")
        if not strategy.test(self.pair_limit, *self._pair):
            reset = strategy.get_window_stats(self.pair_limit, *self._pair).reset_time
            return Refusal(int(max(reset - now, 1)), "Trop de tentatives pour ce compte depuis votre adresse "
                           f"réseau : réessayez dans {_minutes(reset - now)}, ou depuis un autre appareil.")
        if self._failures(strategy, self.pair_limit, self._pair) >= self.free_failures:
            storage = strategy.storage
            if storage.get(self._delay_key) > 0:
                wait = storage.get_expiry(self._delay_key) - now
                if wait > 0:
                    return Refusal(int(math.ceil(wait)), "Trop de tentatives pour ce compte : réessayez dans "
                                   f"{_minutes(wait)}.")
        return None

    def failed(self) -> None:
        _guarded(self._failed)

    def _failed(self, strategy: RateLimiter) -> None:
        strategy.hit(self.pair_limit, *self._pair)
        strategy.hit(self.address_limit, *self._address)
        strategy.hit(self.account_counter, *self._account)
        failures = self._failures(strategy, self.account_counter, self._account)
        if failures > self.delay_after:
            delay = min(2 ** (failures - self.delay_after - 1), self.max_delay)
            strategy.storage.clear(self._delay_key)
            strategy.storage.incr(self._delay_key, delay)

    def succeeded(self) -> None:
        """The right password from this address: its earlier typos no longer count against it."""
        _guarded(lambda strategy: strategy.clear(self.pair_limit, *self._pair))
