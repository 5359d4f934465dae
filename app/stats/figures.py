"""The branch's figures, computed in SQL (GROUP BY, window functions): never by loading files. Each
takes the filters of app.stats.filters; `branch_statistics` bundles them for the page and the API in a
fixed number of queries whatever the data.

Percentiles (median, 90th percentile) are the linear interpolation of `percentile_cont`, written
portably (ROW_NUMBER and COUNT windows, integer arithmetic for the ranks) so that SQLite and
PostgreSQL give the same figures.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Float, case, cast, distinct, func, literal, select, text
from sqlalchemy.sql.elements import ColumnElement

from app.core.clock import today
from app.extensions import db
from app.files.models import (
    DECISION_STATUSES,
    STATUS_LABELS,
    CandidateFile,
    Evaluation,
    EvaluationResult,
    FileStatus,
    StatusChange,
)
from app.jury.models import Decision, DecisionResult, JurySession
from app.referential.models import Competence, Cqp
from app.stats.filters import StatsFilters, file_conditions

DECISIONS = tuple(s.value for s in DECISION_STATUSES)
TOP_COMPETENCES_PER_CQP = 3

# The funnel: how many files reached each step (from the history), the first being every file.
FUNNEL_STEPS = (
    ("en_cours_inscription", "Dossiers créés", None),
    ("en_attente_evaluation", "Évaluateur confirmé", (FileStatus.EN_ATTENTE_EVALUATION.value,)),
    ("validation_evaluation", "Évaluation transmise", (FileStatus.VALIDATION_EVALUATION.value,)),
    ("inscription_jury", "Inscrits au jury", (FileStatus.INSCRIPTION_JURY.value,)),
    ("decision", "Décision du jury", DECISIONS),
)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _days_between(start: ColumnElement, end: ColumnElement) -> ColumnElement:
    if _dialect() == "postgresql":
        # date_part gives a double directly; EXTRACT gives a numeric (exact but ~2× slower per row).
        return func.date_part("epoch", end - start) / 86400.0
    return cast(func.julianday(end) - func.julianday(start), Float)


PERCENTILES = {"median": (1, 2), "p90": (9, 10)}


def _percentile_statement(values, group):
    """The query of, per group, n, median and p90 of `values.c.v` (percentile_cont, portable).

    With n values sorted (0-based index i), the percentile k/d lies at h = (n-1)·k/d:
    v[floor(h)] + (h - floor(h))·(v[floor(h)+1] - v[floor(h)]). floor(h) and its fraction are
    computed with integer division and modulo, the same on SQLite and PostgreSQL."""
    if _dialect() == "postgresql":
        # The same linear interpolation, computed by PostgreSQL's ordered-set aggregate (faster).
        columns = [group(values).label("grp"), func.count().label("n")]
        for name, (k, d) in PERCENTILES.items():
            columns.append(func.percentile_cont(k / d).within_group(values.c.v).label(name))
        return select(*columns).group_by(group(values))
    n = func.count().over(partition_by=group(values))
    i = func.row_number().over(partition_by=group(values), order_by=values.c.v) - 1
    ranked = select(group(values).label("grp"), values.c.v, i.label("i"), n.label("n")).subquery()
    columns = [ranked.c.grp, func.max(ranked.c.n).label("n")]
    for name, (k, d) in PERCENTILES.items():
        scaled = (ranked.c.n - 1) * k
        low = scaled // d
        frac = cast(scaled % d, Float) / d
        columns.append(func.sum(case(
            (ranked.c.i == low, ranked.c.v * (1 - frac)),
            (ranked.c.i == low + 1, ranked.c.v * frac),
            else_=0.0,
        )).label(name))
    return select(*columns).group_by(ranked.c.grp)


def _percentile_rows(values, group) -> list:
    return db.session.execute(_percentile_statement(values, group)).all()


def _round(value) -> float | None:
    return None if value is None else round(float(value), 1)


# ------------------------------------------------------------------ the figures


def files_by_status(filters: StatsFilters) -> dict[str, int]:
    rows = db.session.execute(
        select(CandidateFile.status, func.count()).where(*file_conditions(filters)).group_by(CandidateFile.status)
    ).all()
    counts = {s.value: 0 for s in FileStatus}
    counts.update({status: n for status, n in rows})
    return counts


def funnel(filters: StatsFilters, total: int) -> list[dict]:
    """How many files reached each step at least once, from the history (a file sent back by
    unregister_jury counts once)."""
    sc = StatusChange
    conditions = file_conditions(filters)

    def reached(statuses):
        stmt = select(func.count(distinct(sc.file_id))).where(sc.to_status.in_(statuses))
        if conditions:
            stmt = stmt.join(CandidateFile, CandidateFile.id == sc.file_id).where(*conditions)
        return stmt.scalar_subquery()

    # One scalar sub-select per step: each reads the (to_status, file_id) index in order.
    row = db.session.execute(select(*[reached(statuses).label(key)
                                      for key, _label, statuses in FUNNEL_STEPS[1:]])).one()
    counts = dict(row._mapping)
    counts["en_cours_inscription"] = total
    steps = []
    for key, label, _statuses in FUNNEL_STEPS:
        n = counts[key] or 0
        steps.append({"step": key, "label": label, "files": n, "share": share(n, total)})
    return steps


def share(part: int, whole: int) -> float | None:
    """part as a percentage of whole, to one decimal; None for an empty whole."""
    return round(100.0 * part / whole, 1) if whole else None


def by_cqp(filters: StatsFilters) -> list[dict]:
    """Counted per cqp_id first (a small integer key), then named from the referential."""
    f = CandidateFile
    counted = (
        select(f.cqp_id, func.count().label("files"),
               *[func.count().filter(f.status == s).label(s) for s in (*DECISIONS, "abandonne")])
        .where(*file_conditions(filters)).group_by(f.cqp_id).subquery()
    )
    rows = db.session.execute(
        select(Cqp.code, Cqp.title, counted.c.files, *[counted.c[s] for s in (*DECISIONS, "abandonne")])
        .join(counted, counted.c.cqp_id == Cqp.id).order_by(Cqp.code)
    ).all()
    result = []
    for row in rows:
        decided = sum(row._mapping[s] or 0 for s in DECISIONS)
        entry = {"cqp_code": row.code, "cqp_title": row.title, "files": row.files, "decided": decided,
                 "abandonne": row.abandonne or 0}
        for s in DECISIONS:
            entry[s] = row._mapping[s] or 0
            entry[f"{s}_rate"] = share(entry[s], decided)
        result.append(entry)
    return result


def _time_in_status_statement(filters: StatsFilters):
    """Days spent in each status: each history row closes the stay in its `from_status` and carries
    its length (`stay_seconds`, written by the workflow), so the stays are read without pairing
    every row with the previous one; the files are joined only when a filter asks for them."""
    sc = StatusChange
    values = select(sc.from_status.label("status"), (sc.stay_seconds / 86400.0).label("v")).where(
        sc.from_status.is_not(None), sc.stay_seconds.is_not(None))
    conditions = file_conditions(filters)
    if conditions:
        values = values.join(CandidateFile, CandidateFile.id == sc.file_id).where(*conditions)
    values = values.subquery()
    return _percentile_statement(values, lambda v: v.c.status)


def _time_in_status_result(rows) -> list[dict]:
    found = {row.grp: row for row in rows}
    result = []
    for status in FileStatus:
        row = found.get(status.value)
        if row is None:
            continue
        result.append({"status": status.value, "label": STATUS_LABELS[status], "stays": row.n,
                       "median_days": _round(row.median), "p90_days": _round(row.p90)})
    return result


def time_in_status(filters: StatsFilters) -> list[dict]:
    return _time_in_status_result(db.session.execute(_time_in_status_statement(filters)).all())


def _apart(engine, statement) -> list:
    """Runs one read-only statement on a connection of its own (PostgreSQL, another core)."""
    with engine.connect() as connection:
        connection.execute(_WORK_MEM)
        return connection.execute(statement).all()


def time_to_decision(filters: StatsFilters) -> dict:
    """Days from the file's creation (registration) to the jury's decision."""
    f = CandidateFile
    values = (
        select(literal("all").label("grp"), _days_between(f.created_at, f.decided_at).label("v"))
        .where(f.status.in_(DECISIONS), f.decided_at.is_not(None), *file_conditions(filters)).subquery()
    )
    rows = _percentile_rows(values, lambda v: v.c.grp)
    if not rows:
        return {"files": 0, "median_days": None, "p90_days": None}
    return {"files": rows[0].n, "median_days": _round(rows[0].median), "p90_days": _round(rows[0].p90)}


def _session_counts(filters: StatsFilters):
    f = CandidateFile
    return (
        select(f.jury_session_id.label("session_id"), func.count().label("files"),
               func.sum(case((f.rolled_over.is_(True), 1), else_=0)).label("rolled_over"))
        .where(f.jury_session_id.is_not(None), *file_conditions(filters))
        .group_by(f.jury_session_id).subquery()
    )


def sessions_statement(filters: StatsFilters):
    """One row per (not cancelled) session: date, seats offered and taken, the filtered files
    placed in it and how many came by roll-over. With filters, only sessions holding one."""
    counts = _session_counts(filters)
    s = JurySession
    stmt = select(
        s.id, s.date, s.location, s.capacity, s.seats_taken, s.published_at,
        func.coalesce(counts.c.files, 0).label("files"), func.coalesce(counts.c.rolled_over, 0).label("rolled_over"),
    ).where(s.cancelled_at.is_(None))
    if filters.active:
        stmt = stmt.join(counts, counts.c.session_id == s.id)
    else:
        stmt = stmt.outerjoin(counts, counts.c.session_id == s.id)
    return stmt.order_by(s.date.desc(), s.id.desc())


def sessions_summary(filters: StatsFilters) -> dict:
    rows = sessions_statement(filters).order_by(None).subquery()
    row = db.session.execute(select(
        func.count().label("sessions"), func.coalesce(func.sum(rows.c.capacity), 0).label("capacity"),
        func.coalesce(func.sum(rows.c.seats_taken), 0).label("seats_taken"),
        func.coalesce(func.sum(rows.c.files), 0).label("files"),
        func.coalesce(func.sum(rows.c.rolled_over), 0).label("rolled_over"),
    )).one()
    return {"sessions": row.sessions, "capacity": int(row.capacity), "seats_taken": int(row.seats_taken),
            "fill_rate": share(int(row.seats_taken), int(row.capacity)), "files": int(row.files),
            "rolled_over": int(row.rolled_over)}


def session_rows(filters: StatsFilters, limit: int | None = None) -> list[dict]:
    """All sessions (API, export); with a limit (the page), the latest ones already held, whose
    fill rate is final."""
    stmt = sessions_statement(filters)
    if limit:
        stmt = stmt.where(JurySession.date <= today()).limit(limit)
    return [session_dict(row) for row in db.session.execute(stmt)]


def session_dict(row) -> dict:
    return {"id": row.id, "date": row.date, "location": row.location, "capacity": row.capacity,
            "seats_taken": row.seats_taken, "fill_rate": share(row.seats_taken, row.capacity),
            "files": row.files, "rolled_over": row.rolled_over, "published": row.published_at is not None}


def _top_competences(counted, filters: StatsFilters) -> list[dict]:
    """The TOP_COMPETENCES_PER_CQP competences with the most failures per CQP (ties by code)."""
    ranked = select(
        counted,
        func.row_number().over(partition_by=counted.c.cqp_code,
                               order_by=(counted.c.failures.desc(), counted.c.position, counted.c.code)).label("rank"),
    ).subquery()
    rows = db.session.execute(
        select(ranked).where(ranked.c.rank <= TOP_COMPETENCES_PER_CQP).order_by(ranked.c.cqp_code, ranked.c.rank)
    ).all()
    return [{"cqp_code": r.cqp_code, "competence_code": r.code, "competence_title": r.title, "failures": r.failures,
             "assessed": r.assessed, "failure_rate": share(r.failures, r.assessed)} for r in rows]


def _counts_per_competence(results, failed, parent=None, parent_id=None, parent_conditions=(), conditions=()):
    """assessed and failures per competence_id, over the results whose parent meets the conditions."""
    stmt = select(results.competence_id, func.count().label("assessed"), func.count().filter(failed).label("failures"))
    if parent is not None:
        stmt = stmt.join(parent, parent.id == parent_id).where(*parent_conditions)
        if conditions:
            stmt = stmt.join(CandidateFile, CandidateFile.id == parent.file_id).where(*conditions)
    return stmt.group_by(results.competence_id)


def _failures_per_competence(results, failed, parent, parent_id, left_out, filters: StatsFilters) -> list[dict]:
    """Counts per competence (aggregated on ids first, then joined to the referential's names), over
    the results whose parent is not `left_out` (None: every parent counts).

    Without filters the results are counted alone (one scan, no join), minus the counts of the few
    left-out parents (draft evaluations): the same figures, without joining the hundreds of
    thousands of results to their parent."""
    conditions = file_conditions(filters)
    if conditions:
        parent_conditions = [] if left_out is None else [~left_out]
        counted = _counts_per_competence(results, failed, parent, parent_id, parent_conditions, conditions).subquery()
    elif left_out is None:
        counted = _counts_per_competence(results, failed).subquery()
    else:
        every = _counts_per_competence(results, failed).subquery()
        removed = _counts_per_competence(results, failed, parent, parent_id, [left_out]).subquery()
        counted = (
            select(every.c.competence_id,
                   (every.c.assessed - func.coalesce(removed.c.assessed, 0)).label("assessed"),
                   (every.c.failures - func.coalesce(removed.c.failures, 0)).label("failures"))
            .outerjoin(removed, removed.c.competence_id == every.c.competence_id)
            .subquery()
        )
    named = (
        select(Cqp.code.label("cqp_code"), Competence.code, Competence.title, Competence.position,
               counted.c.assessed, counted.c.failures)
        .join(Competence, Competence.id == counted.c.competence_id).join(Cqp, Cqp.id == Competence.cqp_id)
        .where(counted.c.failures > 0)
        .subquery()
    )
    return _top_competences(named, filters)


def competences_not_acquired(filters: StatsFilters) -> list[dict]:
    """From submitted evaluations (drafts left out): evaluation_results.acquired = false."""
    r = EvaluationResult
    return _failures_per_competence(r, r.acquired.is_(False), Evaluation, r.evaluation_id,
                                    Evaluation.submitted_at.is_(None), filters)


def competences_not_validated(filters: StatsFilters) -> list[dict]:
    """From the jury's decisions: decision_results.validated = false (every result has its decision:
    decision_id is a NOT NULL foreign key)."""
    r = DecisionResult
    return _failures_per_competence(r, r.validated.is_(False), Decision, r.decision_id, None, filters)


@dataclass
class BranchStatistics:
    filters: StatsFilters
    total_files: int
    files_by_status: dict[str, int]
    decisions: dict[str, int]
    funnel: list[dict]
    by_cqp: list[dict]
    time_in_status: list[dict]
    time_to_decision: dict
    sessions_summary: dict
    sessions: list[dict]
    competences_not_acquired: list[dict]
    competences_not_validated: list[dict]


STATS_WORK_MEM = "64MB"
_WORK_MEM = text(f"SET LOCAL work_mem = '{STATS_WORK_MEM}'")


def _reporting_memory() -> None:
    """PostgreSQL: more sort memory for this transaction only (SET LOCAL), so that the sorts
    behind the percentiles and DISTINCT counts stay in memory instead of spilling to disk."""
    if _dialect() == "postgresql":
        db.session.execute(_WORK_MEM)


def branch_statistics(filters: StatsFilters, session_limit: int | None = 12) -> BranchStatistics:
    """Every figure of the statistics page: a fixed number of queries whatever the data."""
    _reporting_memory()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The costliest figure (every stay sorted for its percentiles) runs on PostgreSQL on a
        # connection of its own while this one computes the others: the page waits for the longer
        # of the two, not their sum. It reads committed data, as any other page would.
        stays_statement = _time_in_status_statement(filters)
        stays = pool.submit(_apart, db.engine, stays_statement) if _dialect() == "postgresql" else None
        by_status = files_by_status(filters)
        total = sum(by_status.values())
        figures = dict(
            funnel=funnel(filters, total),
            by_cqp=by_cqp(filters),
            time_to_decision=time_to_decision(filters),
            sessions_summary=sessions_summary(filters),
            sessions=session_rows(filters, session_limit),
            competences_not_acquired=competences_not_acquired(filters),
            competences_not_validated=competences_not_validated(filters),
        )
        stay_rows = stays.result() if stays is not None else db.session.execute(stays_statement).all()
    time_in = _time_in_status_result(stay_rows)
    return BranchStatistics(
        filters=filters,
        total_files=total,
        files_by_status=by_status,
        decisions={s: by_status[s] for s in DECISIONS},
        time_in_status=time_in,
        **figures,
    )
