"""Live statistics (app/stats/cache.py) on the real Redis (127.0.0.1:6379, database 9, a key prefix per test):
figures reused while fresh, a decision in the figures once they are older than STATS_FRESH_SECONDS or once
the worker's refresh ran, and Redis down means computed figures, never an error. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import timedelta

import pytest
from redis import Redis

import app.models  # noqa: F401  (every model mapped before app.jury.parchments builds its loader options)
from app.core.clock import today
from app.extensions import db
from app.jury.decisions import record_decision
from app.stats import cache, jobs
from app.stats.figures import branch_statistics
from app.stats.filters import StatsFilters, filter_choices
from tests.factories import get_cqp, make_file, make_session, make_user
from tests.stats.dataset import build_branch

REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture
def redis_stats(app, monkeypatch):
    prefix = f"test-stats-{os.getpid()}-{uuid.uuid4().hex[:8]}:"
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "STATS_CACHE_PREFIX", prefix)
    # A first request waits for its figures (computed by the background thread), whatever the machine's load;
    # the tests of a request that does not wait set it to 0.
    monkeypatch.setitem(app.config, "STATS_MISS_WAIT_SECONDS", 60)
    redis = Redis.from_url(REDIS_URL)
    yield redis
    keys = list(redis.scan_iter(prefix + "*"))
    if keys:
        redis.delete(*keys)


@pytest.fixture
def secretariat_api(app_ctx, api_as):
    return api_as(make_user("secretariat"))


def _decided(body) -> int:
    return sum(body["decisions"].values())


def _file_to_decide():
    jury = make_session(on=today() - timedelta(days=1))
    file = make_file("inscription_jury", session=jury)
    return file, make_user("secretariat")


def test_a_decision_shows_once_the_figures_are_older_than_the_fresh_delay(app, redis_stats, secretariat_api,
                                                                        monkeypatch):
    file, actor = _file_to_decide()
    first = secretariat_api.get("/stats").get_json()
    assert _decided(first) == 0 and redis_stats.exists(app.config["STATS_CACHE_PREFIX"] + "recent")

    record_decision(file, actor, {c.id: True for c in file.competences})
    db.session.commit()
    # Still fresh (30 s by default): the same figures, read from Redis without a query.
    assert _decided(secretariat_api.get("/stats").get_json()) == 0
    # Once they are older than STATS_FRESH_SECONDS, the next request answers at once with them and hands
    # their recomputation to its process's thread; the requests after it read the new figures.
    monkeypatch.setitem(app.config, "STATS_FRESH_SECONDS", 0)
    assert _decided(secretariat_api.get("/stats").get_json()) == 0
    cache.background_refresher(app).jobs.join()
    monkeypatch.setitem(app.config, "STATS_FRESH_SECONDS", 30)
    after = secretariat_api.get("/stats").get_json()
    assert after["decisions"]["valide"] == 1 and after["files_by_status"]["inscription_jury"] == 0


def test_the_workers_refresh_puts_a_decision_in_the_figures_of_each_recent_filter_set(app, redis_stats,
                                                                                      secretariat_api, monkeypatch):
    from app import worker

    file, actor = _file_to_decide()
    for url in ("/stats", "/stats?cqp=FAB-OPF", f"/stats?year={file.created_at.year}"):
        assert _decided(secretariat_api.get(url).get_json()) == 0
    record_decision(file, actor, {c.id: c.position != 1 for c in file.competences})
    db.session.commit()
    monkeypatch.setitem(app.config, "STATS_REFRESH_SECONDS", 0)  # every figure is due for the refresh
    monkeypatch.setattr(worker, "worker_app", lambda: app)
    monkeypatch.setattr(worker, "_schedule_from_worker_app", lambda: None)
    counts = jobs.refresh_statistics_job()
    assert counts["refreshed"] == 3  # the three filter sets asked for
    for url in ("/stats", "/stats?cqp=FAB-OPF", f"/stats?year={file.created_at.year}"):
        assert secretariat_api.get(url).get_json()["decisions"]["partiel"] == 1, url
    assert secretariat_api.get("/stats?cqp=CND-CLC").get_json()["decisions"]["partiel"] == 0


def test_the_page_reads_the_same_figures_and_choices_as_computed(app, app_ctx, redis_stats, client, login_as):
    build_branch()
    login_as(make_user("secretariat"))
    client.get("/statistiques")  # the login's welcome message shown
    html = client.get("/statistiques?region=69").get_data(as_text=True)
    cached = client.get("/statistiques?region=69").get_data(as_text=True)
    assert cached == html and "Statistiques de la branche" in html  # the second one from Redis
    name = cache.filter_set(StatsFilters(region="69"))
    raw = redis_stats.get(app.config["STATS_CACHE_PREFIX"] + "figures:" + name)
    _at, stats = cache.loads(raw, StatsFilters(region="69"))
    assert stats == branch_statistics(StatsFilters(region="69"), None)  # dates, floats and None survive the trip
    # One entry for the page and the API: every session stored, the page's 12 latest held ones taken from them.
    assert cache.latest_held(stats, 12) == branch_statistics(StatsFilters(region="69"), 12)
    assert cache.latest_held(stats, 1).sessions == branch_statistics(StatsFilters(region="69"), 1).sessions
    expected = filter_choices()
    assert cache.filter_choices() == {**expected, "cqps": [list(row) for row in expected["cqps"]]}
    assert redis_stats.ttl(app.config["STATS_CACHE_PREFIX"] + "choices") <= app.config["STATS_FRESH_SECONDS"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_redis_down_means_computed_figures(app, app_ctx, secretariat_api, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/0")
    file, actor = _file_to_decide()
    record_decision(file, actor, {c.id: False for c in file.competences})
    db.session.commit()
    response = secretariat_api.get("/stats")
    assert response.status_code == 200 and response.get_json()["decisions"]["non_valide"] == 1
    assert "Statistiques calculées sans Redis" in caplog.text


def test_without_redis_every_request_computes(app, app_ctx, secretariat_api):
    assert app.config["REDIS_URL"] is None
    file, actor = _file_to_decide()
    assert _decided(secretariat_api.get("/stats").get_json()) == 0
    record_decision(file, actor, {c.id: True for c in file.competences})
    db.session.commit()
    assert secretariat_api.get("/stats").get_json()["decisions"]["valide"] == 1


def test_a_stale_filter_set_being_recomputed_elsewhere_is_served_as_it_is(app, app_ctx, redis_stats,
                                                                          secretariat_api, monkeypatch):
    file, actor = _file_to_decide()
    secretariat_api.get("/stats?cqp=FAB-OPF")
    record_decision(file, actor, {c.id: True for c in file.competences})
    db.session.commit()
    monkeypatch.setitem(app.config, "STATS_FRESH_SECONDS", 0)
    name = cache.filter_set(StatsFilters(cqp=get_cqp("FAB-OPF").code))
    redis_stats.set(app.config["STATS_CACHE_PREFIX"] + "lock:" + name, 1, ex=60)  # the worker is at it
    assert _decided(secretariat_api.get("/stats?cqp=FAB-OPF").get_json()) == 0
    assert cache.background_refresher(app).jobs.unfinished_tasks == 0  # nothing handed over twice
    redis_stats.delete(app.config["STATS_CACHE_PREFIX"] + "lock:" + name)
    assert _decided(secretariat_api.get("/stats?cqp=FAB-OPF").get_json()) == 0  # stale, recomputation handed over
    cache.background_refresher(app).jobs.join()
    assert secretariat_api.get("/stats?cqp=FAB-OPF").get_json()["decisions"]["valide"] == 1
    cache.background_refresher(app).jobs.join()
    assert not redis_stats.exists(app.config["STATS_CACHE_PREFIX"] + "lock:" + name)  # released once stored


def test_a_filter_set_nobody_asked_for_is_computed_in_the_background_while_the_request_answers_at_once(
        app, app_ctx, redis_stats, secretariat_api, client, login_as, monkeypatch):
    file, actor = _file_to_decide()
    record_decision(file, actor, {c.id: True for c in file.competences})
    db.session.commit()
    monkeypatch.setitem(app.config, "STATS_MISS_WAIT_SECONDS", 0)
    prefix = app.config["STATS_CACHE_PREFIX"]
    name = cache.filter_set(StatsFilters(cqp=file.cqp.code))  # the page's and the API's
    redis_stats.set(prefix + "lock:" + name, 1, ex=60)  # being computed elsewhere (another process, the worker)

    response = secretariat_api.get(f"/stats?cqp={file.cqp.code}")
    assert response.status_code == 503 and response.headers["Retry-After"] == str(cache.RETRY_AFTER_SECONDS)
    assert response.mimetype == "application/problem+json"
    assert "Statistiques en cours de calcul (CQP " + file.cqp.code + ")" in response.get_json()["detail"]
    login_as(make_user("secretariat"))
    client.get("/statistiques")  # the login's welcome message shown
    cache.background_refresher(app).jobs.join()  # (its figures, the whole branch's, computed meanwhile)
    page = client.get(f"/statistiques?cqp={file.cqp.code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Refresh"] == str(cache.RETRY_AFTER_SECONDS)
    assert "Calcul en cours des chiffres de : CQP " + file.cqp.code in html
    assert "Dossiers par statut" not in html and 'name="cqp"' in html  # no figures, the filter form
    assert cache.background_refresher(app).jobs.unfinished_tasks == 0  # nothing computed twice

    redis_stats.delete(prefix + "lock:" + name)
    assert secretariat_api.get(f"/stats?cqp={file.cqp.code}").status_code == 503  # handed to the thread
    assert client.get(f"/statistiques?cqp={file.cqp.code}").headers.get("Refresh")
    cache.background_refresher(app).jobs.join()
    body = secretariat_api.get(f"/stats?cqp={file.cqp.code}").get_json()
    assert body["decisions"]["valide"] == 1 and body["filters"] == {"cqp": file.cqp.code}
    page = client.get(f"/statistiques?cqp={file.cqp.code}")
    assert "Refresh" not in page.headers and "Dossiers par statut" in page.get_data(as_text=True)


def test_a_narrow_filter_set_computed_within_the_wait_is_answered_by_the_same_request(app, app_ctx, redis_stats,
                                                                                      secretariat_api):
    file, _actor = _file_to_decide()
    response = secretariat_api.get(f"/stats?year={file.created_at.year}")  # STATS_MISS_WAIT_SECONDS: 60 here
    assert response.status_code == 200 and response.get_json()["files_by_status"]["inscription_jury"] == 1


def test_a_thread_with_enough_to_do_takes_no_more_filter_sets_until_a_later_request(app, app_ctx, redis_stats,
                                                                                    secretariat_api, monkeypatch):
    make_file("en_cours_inscription")
    monkeypatch.setitem(app.config, "STATS_MISS_WAIT_SECONDS", 0)
    monkeypatch.setattr(cache, "QUEUED_MAX", 0)  # as if the thread already had its share of computations
    name = cache.filter_set(StatsFilters(region="69"))
    assert secretariat_api.get("/stats?region=69").status_code == 503
    assert not redis_stats.exists(app.config["STATS_CACHE_PREFIX"] + "lock:" + name)  # left to a later request
    assert cache.background_refresher(app).jobs.unfinished_tasks == 0
    monkeypatch.setattr(cache, "QUEUED_MAX", 2)
    assert secretariat_api.get("/stats?region=69").status_code == 503
    assert redis_stats.exists(app.config["STATS_CACHE_PREFIX"] + "lock:" + name)
    cache.background_refresher(app).jobs.join()
    assert secretariat_api.get("/stats?region=69").status_code == 200


def test_no_computation_starts_while_every_slot_is_taken(app, app_ctx, redis_stats, secretariat_api, monkeypatch):
    from app import worker

    make_file("en_cours_inscription")
    monkeypatch.setitem(app.config, "STATS_MISS_WAIT_SECONDS", 0)
    monkeypatch.setitem(app.config, "STATS_MAX_COMPUTATIONS", 1)
    prefix = app.config["STATS_CACHE_PREFIX"]
    redis_stats.zadd(prefix + "running", {"another-host": time.time()})  # the one slot taken
    name = cache.filter_set(StatsFilters(region="69"))
    assert secretariat_api.get("/stats?region=69").status_code == 503
    cache.background_refresher(app).jobs.join()
    assert not redis_stats.exists(prefix + "figures:" + name)  # not computed...
    assert not redis_stats.exists(prefix + "lock:" + name)  # ...and handed back for a later request
    monkeypatch.setattr(worker, "worker_app", lambda: app)
    monkeypatch.setattr(worker, "_schedule_from_worker_app", lambda: None)
    assert jobs.refresh_statistics_job()["refreshed"] == 0  # nor by the worker
    redis_stats.zrem(prefix + "running", "another-host")
    assert secretariat_api.get("/stats?region=69").status_code == 503
    cache.background_refresher(app).jobs.join()
    assert secretariat_api.get("/stats?region=69").status_code == 200
    assert redis_stats.zcard(prefix + "running") == 0  # the slot given back
