"""Property (hypothesis): after every event of a random history the branch's figures (app/stats/figures.py, and
the same figures once through the Redis cache's encoding) equal a naive recomputation in Python from the rows:
files created at any step, withdrawals, unregistrations, decisions, corrections before publication,
publications, rectifications after publication (R15) and new attempts with carried-over competences (R13).

STATS_PROPERTY_EXAMPLES (default 10) random histories per run; SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import app.models  # noqa: F401  (every model mapped before app.jury.parchments builds its loader options)
from app.core.errors import DomainError
from app.extensions import db
from app.files import services as file_services
from app.files.models import CandidateFile, Evaluation, StatusChange
from app.jury import decisions, registration
from app.jury.models import Decision, JurySession
from app.stats import cache
from app.stats.figures import TOP_COMPETENCES_PER_CQP, branch_statistics
from app.stats.filters import StatsFilters
from tests import factories
from tests.carry_over_helpers import next_file, to_jury
from tests.conftest import KEEP_TABLES
from tests.jury.helpers import decide

TODAY = date(2027, 6, 15)
DECISIONS = ("valide", "partiel", "non_valide")
EVENTS = ("new", "new", "withdraw", "unregister", "decide", "decide", "correct", "publish", "rectify", "rectify",
          "carry_over", "carry_over")
# Each history starts from a published session holding a partial and a full decision, so that rectifications
# and carried-over attempts have something to apply to from the first random event.
START = [("new", 3, [True, False, True]), ("new", 8, [True] * 3), ("decide", 0, [True, False, True]),
         ("decide", 0, [True] * 3), ("publish", 0, [True] * 3)]
FILTERS = [StatsFilters(), StatsFilters(year=2027), StatsFilters(cqp="FAB-OPF"), StatsFilters(domain="Fabrication"),
           StatsFilters(region="69"), StatsFilters(year=2027, cqp="CND-CLC"), StatsFilters(year=2026)]


# ---------------------------------------------------------------- the naive figures


def _region(postcode: str | None) -> str | None:
    if not postcode or len(postcode) < 2:
        return None
    if postcode[:2] == "97":
        return postcode[:3]
    if postcode[:2] == "20":
        return "2A" if postcode < "20200" else "2B"
    return postcode[:2]


def _kept(file: CandidateFile, f: StatsFilters) -> bool:
    return ((not f.year or file.created_at.year == f.year) and (not f.cqp or file.cqp.code == f.cqp)
            and (not f.domain or file.cqp.domain == f.domain)
            and (not f.siret or file.establishment.siret == f.siret)
            and (not f.region or _region(file.establishment.postcode) == f.region))


def _percentile(values: list[float], k: int, d: int) -> float:
    ordered = sorted(values)
    h = (len(ordered) - 1) * k / d
    low = int(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def _share(part: int, whole: int):
    return round(100.0 * part / whole, 1) if whole else None


def _top(counts: dict, competences: dict) -> list[dict]:
    per_cqp = defaultdict(list)
    for competence_id, (assessed, failures) in counts.items():
        if failures:
            c = competences[competence_id]
            per_cqp[c.cqp.code].append((-failures, c.position, c.code, c, assessed, failures))
    out = []
    for cqp_code in sorted(per_cqp):
        for *_key, c, assessed, failures in sorted(per_cqp[cqp_code], key=lambda t: t[:3])[:TOP_COMPETENCES_PER_CQP]:
            out.append({"cqp_code": cqp_code, "competence_code": c.code, "competence_title": c.title,
                        "failures": failures, "assessed": assessed, "failure_rate": _share(failures, assessed)})
    return out


def naive(f: StatsFilters) -> dict:
    files = [file for file in db.session.scalars(select(CandidateFile)) if _kept(file, f)]
    ids = {file.id for file in files}
    by_status = Counter(file.status for file in files)
    history = [h for h in db.session.scalars(select(StatusChange)) if h.file_id in ids]
    steps = {"en_attente_evaluation": ("en_attente_evaluation",), "validation_evaluation": ("validation_evaluation",),
             "inscription_jury": ("inscription_jury",), "decision": DECISIONS}
    funnel = {"en_cours_inscription": len(files)}
    funnel.update({step: len({h.file_id for h in history if h.to_status in statuses})
                   for step, statuses in steps.items()})
    by_cqp = []
    for code in sorted({file.cqp.code for file in files}):
        mine = [file for file in files if file.cqp.code == code]
        counts = Counter(file.status for file in mine)
        decided = sum(counts[s] for s in DECISIONS)
        by_cqp.append({"cqp_code": code, "files": len(mine), "decided": decided, "abandonne": counts["abandonne"],
                       **{s: counts[s] for s in DECISIONS}, **{f"{s}_rate": _share(counts[s], decided) for s in DECISIONS}})
    stays = defaultdict(list)
    for h in history:
        if h.from_status is not None and h.stay_seconds is not None:
            stays[h.from_status].append(h.stay_seconds / 86400.0)
    time_in = {s: (len(v), round(_percentile(v, 1, 2), 1), round(_percentile(v, 9, 10), 1)) for s, v in stays.items()}
    days = [(file.decided_at - file.created_at).total_seconds() / 86400.0 for file in files
            if file.status in DECISIONS and file.decided_at is not None]
    sessions = [s for s in db.session.scalars(select(JurySession)) if s.cancelled_at is None]
    placed = Counter(file.jury_session_id for file in files if file.jury_session_id is not None)
    rolled = Counter(file.jury_session_id for file in files if file.jury_session_id is not None and file.rolled_over)
    if f.active:
        sessions = [s for s in sessions if placed[s.id]]
    rows = sorted(((s.date, s.id, s) for s in sessions if s.date <= TODAY), reverse=True)[:12]
    from app.referential.models import Competence

    competences = {c.id: c for c in db.session.scalars(select(Competence))}
    acquired, validated = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for evaluation in db.session.scalars(select(Evaluation)):
        if evaluation.file_id in ids and evaluation.submitted_at is not None:
            for r in evaluation.results:
                acquired[r.competence_id][0] += 1
                acquired[r.competence_id][1] += r.acquired is False
    for decision in db.session.scalars(select(Decision)):
        if decision.file_id in ids:
            for r in decision.results:
                validated[r.competence_id][0] += 1
                validated[r.competence_id][1] += r.validated is False
    return {
        "total": len(files), "by_status": {s: n for s, n in by_status.items() if n}, "funnel": funnel, "by_cqp": by_cqp,
        "time_in_status": time_in,
        "time_to_decision": (len(days), round(_percentile(days, 1, 2), 1) if days else None,
                             round(_percentile(days, 9, 10), 1) if days else None),
        "sessions_summary": {"sessions": len(sessions), "capacity": sum(s.capacity for s in sessions),
                             "seats_taken": sum(s.seats_taken for s in sessions),
                             "files": sum(placed[s.id] for s in sessions), "rolled_over": sum(rolled[s.id] for s in sessions)},
        "sessions": [(s.id, placed[s.id], rolled[s.id], s.seats_taken) for _d, _i, s in rows],
        "not_acquired": _top(acquired, competences), "not_validated": _top(validated, competences),
    }


def _close(a, b) -> bool:
    """Days rounded to one decimal: SQLite (julianday) and PostgreSQL (epoch) may round a .x5 apart."""
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 0.11)


def assert_same(f: StatsFilters) -> None:
    stats = branch_statistics(f)
    expected = naive(f)
    assert stats.total_files == expected["total"]
    assert {s: n for s, n in stats.files_by_status.items() if n} == expected["by_status"]
    assert {step["step"]: step["files"] for step in stats.funnel} == expected["funnel"]
    assert [{k: v for k, v in c.items() if k != "cqp_title"} for c in stats.by_cqp] == expected["by_cqp"]
    got = {t["status"]: (t["stays"], t["median_days"], t["p90_days"]) for t in stats.time_in_status}
    assert got.keys() == expected["time_in_status"].keys()
    for status, (n, median, p90) in expected["time_in_status"].items():
        assert got[status][0] == n and _close(got[status][1], median) and _close(got[status][2], p90), status
    n, median, p90 = expected["time_to_decision"]
    assert stats.time_to_decision["files"] == n
    assert _close(stats.time_to_decision["median_days"], median) and _close(stats.time_to_decision["p90_days"], p90)
    summary = {k: v for k, v in stats.sessions_summary.items() if k != "fill_rate"}
    assert summary == expected["sessions_summary"]
    assert [(s["id"], s["files"], s["rolled_over"], s["seats_taken"]) for s in stats.sessions] == expected["sessions"]
    assert stats.competences_not_acquired == expected["not_acquired"]
    assert stats.competences_not_validated == expected["not_validated"]
    assert cache.loads(cache.dumps(stats, 0.0), f)[1] == stats  # what Redis keeps is the same figures


# ---------------------------------------------------------------- random histories through the services


class World:
    def __init__(self):
        self.actor = factories.make_user("secretariat")
        self.establishments = [factories.make_establishment(postcode=p) for p in ("69007", "20100", "75011")]
        self.session = self._new_session()

    def _new_session(self) -> JurySession:
        return factories.make_session(on=TODAY - timedelta(days=1), capacity=500)

    def _pick(self, pick: int, condition):
        files = [f for f in db.session.scalars(select(CandidateFile).order_by(CandidateFile.id)) if condition(f)]
        return files[pick % len(files)] if files else None

    def apply(self, kind: str, pick: int, verdicts: list[bool]) -> bool:
        """Applies the event through the services; False when there was nothing to apply it to."""
        actor = self.actor
        if kind == "new":
            status = ("en_cours_inscription", "en_attente_evaluation", "validation_evaluation",
                      "inscription_jury", "inscription_jury")[pick % 5]
            if self.session.published_at is not None:
                self.session = self._new_session()
            factories.make_file(status, establishment=self.establishments[pick % 3],
                                cqp_code=("FAB-OPF", "CND-CLC")[pick % 2], competences=2 + pick % 3,
                                assessor=factories.make_assessor(), session=self.session)
        elif kind == "withdraw":
            file = self._pick(pick, lambda f: f.status not in (*DECISIONS, "abandonne"))
            if not file:
                return False
            file_services.withdraw(file, actor, "Départ de l'entreprise")
        elif kind == "unregister":
            file = self._pick(pick, lambda f: f.status == "inscription_jury")
            if not file:
                return False
            registration.unregister_from_jury(file, actor)
        elif kind in ("decide", "correct", "rectify"):
            wanted = {"decide": lambda f: f.status == "inscription_jury",
                      "correct": lambda f: f.status in DECISIONS and f.jury_session.published_at is None,
                      "rectify": lambda f: f.status in DECISIONS and f.jury_session.published_at is not None}[kind]
            file = self._pick(pick, wanted)
            if not file:
                return False
            decide(file, actor, (verdicts * 3)[:len(file.competences)],
                   **({"reason": "Erreur de saisie du jury"} if kind == "rectify" else {}))
        elif kind == "publish":
            decisions.publish_session(self.session, actor)
        elif kind == "carry_over":
            first = self._pick(pick, lambda f: f.status == "partiel" and f.jury_session.published_at is not None)
            if not first:
                return False
            acquired = {r.competence_id for r in first.decision.results if r.validated}
            codes = [c.code for c in first.cqp.active_competences if c.id not in acquired][:3]
            file = next_file(first, codes, actor=actor)
            to_jury(file, TODAY - timedelta(days=1))
            decide(file, actor, (verdicts * 3)[:len(file.competences)])
        return True


def _wipe() -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in KEEP_TABLES:
            db.session.execute(table.delete())
    from app.referential.services import load_referential, reset_registrations

    load_referential()
    reset_registrations()
    db.session.commit()


@pytest.fixture
def today(app_ctx, monkeypatch):
    monkeypatch.setenv("APP_TODAY", TODAY.isoformat())


@settings(max_examples=int(os.environ.get("STATS_PROPERTY_EXAMPLES", "10")), deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(events=st.lists(st.tuples(st.sampled_from(EVENTS), st.integers(0, 1000), st.lists(st.booleans(), min_size=3,
                                                                                         max_size=3)),
                       min_size=3, max_size=14),
       filters=st.sampled_from(FILTERS))
def test_the_figures_equal_a_naive_recomputation_after_every_event(today, events, filters):
    try:
        world = World()
        for kind, pick, verdicts in START + events:
            try:
                applied = world.apply(kind, pick, verdicts)
                db.session.commit()
            except DomainError:  # a refused event (a rule, a deadline) changes nothing
                db.session.rollback()
                applied = False
                event(f"{kind} refusé")
            if applied:
                event(f"{kind} appliqué")  # pytest --hypothesis-show-statistics
            assert_same(filters)
            assert_same(StatsFilters())
    finally:
        _wipe()
