"""Live statistics at branch scale: the figures of each filter set kept in Redis for a short while.

Why a cache and not incremental aggregates or materialized views: the page shows medians and 90th
percentiles (time in each status, registration → decision) over any combination of five filters, and a
percentile cannot be summed from partial aggregates; computing them exactly over a million files takes
seconds (measured in tests/perf/bench_stats.py, figures in the README's "Mesures"). So the figures stay
computed by app/stats/figures.py, exactly as defined there, and are reused:

- a request reads the figures of its filter set; once they are older than STATS_FRESH_SECONDS (30 s) the
  first request to see it hands their recomputation to a thread of its process (a lock per filter set, so
  one computation at a time across processes and hosts) and, like every request meanwhile, answers with
  the previous figures: a decision shows within the fresh delay plus one computation (under a minute at a
  million files);
- a filter set with no figures at all (nobody asked for it lately) is computed the same way, in the
  background: the request waits for it at most STATS_MISS_WAIT_SECONDS (0.25 s, enough for a narrow filter
  set) and otherwise answers at once that the figures are being computed (`None`): the page says so and
  reloads itself every few seconds, the API answers 503 with Retry-After. No request holds a web thread for
  the seconds a broad filter set takes at a million files;
- at most STATS_MAX_COMPUTATIONS (2) computations run at once, every process and host together (slots in
  Redis), and a process's thread holds at most QUEUED_MAX of them: many new filter sets asked for at once
  are computed a few at a time as their pages reload, and the database keeps cores for the other pages;
- the worker recomputes every STATS_REFRESH_SECONDS (30 s) the filter sets asked for during the last
  HOT_WINDOW_SECONDS, so that the pages read figures that are already there.

Per-event invalidation was left aside on purpose: at 200 registrations a second the figures would be
invalid all the time. Without Redis (SQLite, `make run`), or while Redis does not answer, every request
computes the figures itself.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import asdict, replace
from datetime import date
from functools import cache

from flask import Flask, current_app

from app.core.background import JobThread, job_thread
from app.core.clock import today
from app.stats.figures import BranchStatistics, branch_statistics
from app.stats.filters import StatsFilters

log = logging.getLogger(__name__)
HOT_WINDOW_SECONDS = 600
HOT_MAX = 20
LOCK_SECONDS = 120
MISS_WAIT_SECONDS = 0.25  # STATS_MISS_WAIT_SECONDS: how long a request waits for figures computed for it
MISS_POLL_SECONDS = 0.05
QUEUED_MAX = 2  # computations running or waiting in a process's thread
MAX_COMPUTATIONS = 2  # STATS_MAX_COMPUTATIONS: computations running at once, every process and host together
RETRY_AFTER_SECONDS = 3  # what the page's reload and the API's Retry-After say while figures are computed
REFRESH_BUDGET_SECONDS = 20  # one refresh job stops there: the worker also sends the emails


@cache
def _client(redis_url: str):
    from redis import Redis

    return Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=5)


def redis_client():
    url = current_app.config.get("REDIS_URL")
    return _client(url) if url else None


def _prefix() -> str:
    return current_app.config["STATS_CACHE_PREFIX"]


def filter_set(filters: StatsFilters) -> str:
    """The cache's name of a filter set. One entry serves the page and the API: it holds every session, and the
    page keeps the latest ones already held (`latest_held`), so a filter set is computed once, not twice."""
    return json.dumps({"filters": filters.as_args()}, sort_keys=True)


def latest_held(stats: BranchStatistics, session_limit: int | None) -> BranchStatistics:
    """The figures with only the `session_limit` latest sessions already held, as session_rows(filters, limit)
    lists them (every session is in date order, the latest first)."""
    if not session_limit:
        return stats
    held = [s for s in stats.sessions if s["date"] <= today()][:session_limit]
    return replace(stats, sessions=held)


def _encode(value):
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(type(value))


def _decode(obj):
    if set(obj) == {"$date"}:
        return date.fromisoformat(obj["$date"])
    return obj


def dumps(stats: BranchStatistics, computed_at: float) -> str:
    figures = asdict(stats)
    figures.pop("filters")
    return json.dumps({"at": computed_at, "figures": figures}, default=_encode)


def loads(raw: bytes | str, filters: StatsFilters) -> tuple[float, BranchStatistics]:
    entry = json.loads(raw, object_hook=_decode)
    return entry["at"], BranchStatistics(filters=filters, **entry["figures"])


def _take_slot(redis) -> str | None:
    """One of the STATS_MAX_COMPUTATIONS computations that may run at once across every process and host (a
    broad filter set keeps a database core busy ~10 s at a million files: the other pages keep the rest), or
    None when they are all taken. A slot left by a dead process expires after LOCK_SECONDS."""
    key, token, now = _prefix() + "running", uuid.uuid4().hex, time.time()
    pipe = redis.pipeline()  # MULTI: the count and the taking are one step
    pipe.zremrangebyscore(key, "-inf", now - LOCK_SECONDS)
    pipe.zadd(key, {token: now})
    pipe.zrank(key, token)
    pipe.expire(key, LOCK_SECONDS)
    rank = pipe.execute()[2]
    if rank is None or rank >= current_app.config.get("STATS_MAX_COMPUTATIONS", MAX_COMPUTATIONS):
        redis.zrem(key, token)
        return None
    return token


def _compute_and_store(redis, name: str, filters: StatsFilters) -> BranchStatistics | None:
    """Computes and stores the figures of `name` (whose lock the caller holds); None, and the lock given back
    for a later request or refresh, when every computation slot is taken."""
    slot = _take_slot(redis)
    if slot is None:
        redis.delete(_prefix() + "lock:" + name)
        return None
    try:
        started = time.time()  # the figures are as old as the moment their reading began
        stats = branch_statistics(filters, None)
        redis.set(_prefix() + "figures:" + name, dumps(stats, started), ex=HOT_WINDOW_SECONDS * 2)
        redis.delete(_prefix() + "lock:" + name)
        return stats
    finally:
        redis.zrem(_prefix() + "running", slot)


def _recompute(name: str, filters: StatsFilters) -> None:
    _compute_and_store(redis_client(), name, filters)


def background_refresher(app: Flask) -> JobThread:
    """The thread that recomputes the stale filter sets handed to it (the lock expires on a failure: the next
    request or the worker tries again)."""
    return job_thread(app, "stats", _recompute, "Statistiques non recalculées (%s)")


def _hand_over(redis, name: str, filters: StatsFilters) -> None:
    """The computation of `name` handed to this process's thread, unless one is already under way (here,
    in another process or in the worker), or the thread already has QUEUED_MAX computations to do: many
    filter sets asked for at once (at ~10 s each at a million files) are then computed a few at a time, as
    their pages reload, instead of queueing minutes of work that nobody may wait for."""
    thread = background_refresher(current_app._get_current_object())
    if thread.jobs.unfinished_tasks >= QUEUED_MAX:
        return
    if redis.set(_prefix() + "lock:" + name, 1, nx=True, ex=LOCK_SECONDS):
        thread.put(name, filters)


def statistics(filters: StatsFilters, session_limit: int | None = 12) -> BranchStatistics | None:
    """The figures of `filters`: the stored ones (a recomputation handed to a thread once they are older
    than STATS_FRESH_SECONDS); when there are none yet, their computation is handed to the thread and
    awaited at most STATS_MISS_WAIT_SECONDS: None means they are being computed (ask again shortly)."""
    redis = redis_client()
    if redis is None:
        return branch_statistics(filters, session_limit)
    from redis.exceptions import RedisError

    name = filter_set(filters)
    key = _prefix() + "figures:" + name
    now = time.time()
    try:
        pipe = redis.pipeline(transaction=False)  # one round trip: noted as asked for, and read
        pipe.zadd(_prefix() + "recent", {name: now})
        pipe.get(key)
        raw = pipe.execute()[1]
        if raw is not None:
            computed_at, stats = loads(raw, filters)
            if now - computed_at >= current_app.config["STATS_FRESH_SECONDS"]:
                _hand_over(redis, name, filters)
            # The previous figures while they are recomputed (here, elsewhere or by the worker).
            return latest_held(stats, session_limit)
        _hand_over(redis, name, filters)
        deadline = now + current_app.config.get("STATS_MISS_WAIT_SECONDS", MISS_WAIT_SECONDS)
        while time.time() < deadline:
            time.sleep(MISS_POLL_SECONDS)
            raw = redis.get(key)
            if raw is not None:
                return latest_held(loads(raw, filters)[1], session_limit)
        return None
    except RedisError as exc:
        log.warning("Statistiques calculées sans Redis (%s)", exc)
        return branch_statistics(filters, session_limit)


def refresh_recent(budget_seconds: float = REFRESH_BUDGET_SECONDS) -> int:
    """Recomputes the filter sets asked for during the last HOT_WINDOW_SECONDS (the most recent first)
    whose figures are older than half of STATS_REFRESH_SECONDS; returns how many were recomputed."""
    redis = redis_client()
    if redis is None:
        return 0
    from app.extensions import db

    now = time.time()
    recent = _prefix() + "recent"
    redis.zremrangebyscore(recent, "-inf", now - HOT_WINDOW_SECONDS)
    names = [n.decode() for n in redis.zrevrange(recent, 0, HOT_MAX - 1)]
    done = 0
    for name in names:
        if time.time() - now > budget_seconds:
            break
        raw = redis.get(_prefix() + "figures:" + name)
        if raw is not None and now - json.loads(raw)["at"] < current_app.config["STATS_REFRESH_SECONDS"] / 2:
            continue
        if not redis.set(_prefix() + "lock:" + name, 1, nx=True, ex=LOCK_SECONDS):
            continue
        spec = json.loads(name)
        computed = _compute_and_store(redis, name, StatsFilters(**_typed(spec["filters"])))
        db.session.rollback()  # each filter set reads the data as committed now
        if computed is None:
            break  # every computation slot taken: the next refresh goes on
        done += 1
    return done


def filter_choices() -> dict[str, list]:
    """The filter form's choices (years, CQPs, domains, departments), kept as long as the figures."""
    from app.stats.filters import filter_choices as compute

    redis = redis_client()
    if redis is None:
        return compute()
    from redis.exceptions import RedisError

    key = _prefix() + "choices"
    try:
        raw = redis.get(key)
        if raw is not None:
            return json.loads(raw)
        choices = compute()
        choices["cqps"] = [list(row) for row in choices["cqps"]]  # (code, title) rows
        redis.set(key, json.dumps(choices), ex=current_app.config["STATS_FRESH_SECONDS"] or 1)
        return choices
    except RedisError:
        return compute()


def _typed(args: dict[str, str]) -> dict:
    return {k: int(v) if k == "year" else v for k, v in args.items()}
