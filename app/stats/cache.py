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
  million files), and a page waits for a computation only for a filter set nobody asked for lately;
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
from dataclasses import asdict
from datetime import date
from functools import cache

from flask import Flask, current_app

from app.core.background import JobThread, job_thread
from app.stats.figures import BranchStatistics, branch_statistics
from app.stats.filters import StatsFilters

log = logging.getLogger(__name__)
HOT_WINDOW_SECONDS = 600
HOT_MAX = 20
LOCK_SECONDS = 120
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


def filter_set(filters: StatsFilters, session_limit: int | None) -> str:
    """The cache's name of a filter set (and of the number of sessions listed)."""
    return json.dumps({"filters": filters.as_args(), "sessions": session_limit}, sort_keys=True)


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


def _compute_and_store(redis, name: str, filters: StatsFilters, session_limit: int | None) -> BranchStatistics:
    started = time.time()  # the figures are as old as the moment their reading began
    stats = branch_statistics(filters, session_limit)
    redis.set(_prefix() + "figures:" + name, dumps(stats, started), ex=HOT_WINDOW_SECONDS * 2)
    redis.delete(_prefix() + "lock:" + name)
    return stats


def _recompute(name: str, filters: StatsFilters, session_limit: int | None) -> None:
    _compute_and_store(redis_client(), name, filters, session_limit)


def background_refresher(app: Flask) -> JobThread:
    """The thread that recomputes the stale filter sets handed to it (the lock expires on a failure: the next
    request or the worker tries again)."""
    return job_thread(app, "stats", _recompute, "Statistiques non recalculées (%s)")


def statistics(filters: StatsFilters, session_limit: int | None = 12) -> BranchStatistics:
    """The figures of `filters`: the stored ones (a recomputation handed to a thread once they are older
    than STATS_FRESH_SECONDS), computed here only when there are none yet."""
    redis = redis_client()
    if redis is None:
        return branch_statistics(filters, session_limit)
    from redis.exceptions import RedisError

    name = filter_set(filters, session_limit)
    now = time.time()
    try:
        redis.zadd(_prefix() + "recent", {name: now})
        raw = redis.get(_prefix() + "figures:" + name)
        if raw is not None:
            computed_at, stats = loads(raw, filters)
            if now - computed_at < current_app.config["STATS_FRESH_SECONDS"]:
                return stats
            if redis.set(_prefix() + "lock:" + name, 1, nx=True, ex=LOCK_SECONDS):
                app = current_app._get_current_object()
                background_refresher(app).put(name, filters, session_limit)
            return stats  # the previous figures while they are recomputed (here, elsewhere or by the worker)
        return _compute_and_store(redis, name, filters, session_limit)
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
        _compute_and_store(redis, name, StatsFilters(**_typed(spec["filters"])), spec["sessions"])
        db.session.rollback()  # each filter set reads the data as committed now
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
