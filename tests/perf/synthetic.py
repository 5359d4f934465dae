"""A synthetic branch for the benchmarks and `flask demo --files N`: up to a million files, coherent as
the workflow would have left them (each transition dated, seats never over capacity, the next session
when one is full, R7's 21 days, decisions following R9). Written with PostgreSQL's `COPY … FROM STDIN`
(one COPY per table and batch, on the session's own connection and transaction), with bulk INSERTs on
SQLite.

Not part of the application: it lives beside the benchmarks (tests/perf/bench_stats.py) and is
imported lazily by the `demo` command, from the repository.
"""

from __future__ import annotations

import bisect
import random
import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, insert, select, text
from stdnum import luhn

from app.accounts.models import Establishment, User
from app.core.clock import today
from app.extensions import db
from app.files.models import (
    Candidate,
    CandidateFile,
    Evaluation,
    EvaluationResult,
    JobAssessorInvitation,
    StatusChange,
    file_competences,
    name_key,
    stay_seconds,
)
from app.jury.models import Decision, DecisionResult, JurySession
from app.referential import services as referential
from app.referential.models import Assessor, Competence, Cqp

SYNTH_DEPARTMENTS = ["69", "13", "76", "38", "59", "60", "67", "68", "01", "26", "64", "2A", "2B", "974", "971", "75",
                     "92", "93", "77", "78", "45", "63", "44", "33", "31", "54", "57", "62", "80", "02"]
SYNTH_FIRST = ["Camille", "Léa", "Hugo", "Lucas", "Chloé", "Inès", "Nathan", "Manon", "Yanis", "Sarah", "Louis",
               "Emma", "Adam", "Jade", "Karim", "Élodie", "Thomas", "Julie", "Mehdi", "Océane", "Paul", "Zoé",
               "Rayan", "Anaïs", "Théo", "Lina", "Noah", "Clara", "Bastien", "Fatou"]
SYNTH_LAST = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
              "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
              "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Faure", "André", "Mercier",
              "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
              "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
              "Benali"]
SYNTH_YEARS = 5
SYNTH_BATCH = 5000
SYNTH_OUTCOMES = (("valide", 0.62), ("partiel", 0.27), ("non_valide", 0.11))


def _synthetic_siret(n: int) -> str:
    base = f"{90000000 + n:08d}"
    siren = base + luhn.calc_check_digit(base)
    head = siren + "0001"
    return head + luhn.calc_check_digit(head)


def _synthetic_postcode(rng, department: str) -> str:
    if department in ("2A", "2B"):
        return ("20" if department == "2A" else "20") + (f"{rng.randint(0, 199):03d}" if department == "2A"
                                                          else f"{rng.randint(200, 620):03d}")
    if len(department) == 3:
        return department + f"{rng.randint(0, 99):02d}"
    return department + f"{rng.randint(0, 999):03d}"


class _BulkWriter:
    """Writes lists of row dicts into a table: COPY on PostgreSQL (the server parses while the next rows
    are sent), executemany INSERT elsewhere. Columns a row leaves out get the model's Python default."""

    def __init__(self):
        bind = db.session.get_bind()
        self.copy = bind.dialect.name == "postgresql"
        self.replica = self.copy and bool(
            db.session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")))

    def write(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        table = getattr(model, "__table__", model)
        if not self.copy:
            for start in range(0, len(rows), SYNTH_BATCH):
                db.session.execute(insert(table), rows[start:start + SYNTH_BATCH])
            return
        names = list(rows[0])
        defaults = {}
        for column in table.columns:
            if column.name not in names and column.default is not None and not column.primary_key:
                arg = column.default.arg
                defaults[column.name] = arg(None) if callable(arg) and column.default.is_callable else arg
        columns = names + list(defaults)
        extra = tuple(defaults.values())
        if self.replica:
            # The rows are coherent by construction: no foreign-key trigger per row (a superuser's
            # bulk-load switch, for this transaction only; the caller commits between batches).
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
        connection = db.session.connection().connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row((*row.values(), *extra))


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def generate_branch(n_files: int, *, seed: int = 2026):
    """Generates a realistic branch of `n_files` files with bulk INSERTs, in batches: establishments,
    assessors, jury sessions over SYNTH_YEARS years, candidates, files spread over years, CQPs and
    statuses with a coherent history (each transition dated, seats never over capacity, the later
    session when one is full, R7's 21 days respected), evaluations, decisions and their results.

    A generator: yields the number of files written after each batch (the CLI draws its progress
    bar and commits between batches)."""
    rng = random.Random(seed)
    on = today()
    now = datetime.combine(on, time(12, 0))
    if not referential.list_cqps():
        referential.load_referential()
        db.session.flush()
    cqps = list(db.session.execute(select(Cqp.id).where(Cqp.active.is_(True)).order_by(Cqp.code)).scalars())
    competences: dict[int, list[int]] = {c: [] for c in cqps}
    for cqp_id, comp_id in db.session.execute(
        select(Competence.cqp_id, Competence.id).where(Competence.active.is_(True)).order_by(Competence.position)
    ):
        if cqp_id in competences:
            competences[cqp_id].append(comp_id)
    cqp_weights = [rng.uniform(0.3, 3.0) for _ in cqps]

    # Establishments (about 40 files each), assessors (about 300 files each)
    est_start, user_start, ass_start = _next_id(Establishment), _next_id(User), _next_id(Assessor)
    existing_sirets = set(db.session.scalars(select(Establishment.siret)))
    establishments, n = [], 0
    for i in range(max(5, n_files // 40)):
        siret = _synthetic_siret(est_start * 7 + n)
        while siret in existing_sirets:
            n += 1
            siret = _synthetic_siret(est_start * 7 + n)
        existing_sirets.add(siret)
        n += 1
        department = rng.choice(SYNTH_DEPARTMENTS)
        establishments.append({"id": est_start + i, "siret": siret, "name": f"Chimie {rng.choice(SYNTH_LAST)} {i + 1}",
                               "postcode": _synthetic_postcode(rng, department), "city": "Ville", "created_at": now})
    users, assessors = [], []
    for i in range(max(3, n_files // 300)):
        users.append({"id": user_start + i, "email": f"evaluateur{user_start + i}@synthetique.certifia.fr",
                      "role": "evaluateur", "first_name": rng.choice(SYNTH_FIRST), "last_name": rng.choice(SYNTH_LAST),
                      "active": True, "session_nonce": secrets.token_hex(8), "created_at": now})
        assessors.append({"id": ass_start + i, "user_id": user_start + i, "created_at": now,
                          "habilitation_until": on + timedelta(days=rng.randint(-200, 1500))})
    writer = _BulkWriter()
    for table, rows in ((Establishment, establishments), (User, users), (Assessor, assessors)):
        writer.write(table, rows)

    # Jury sessions: twice a month over the years, sized so that about 1 in 8 files rolls over
    first_day = date(on.year - SYNTH_YEARS + 1, 1, 1)
    session_days = []
    day = first_day
    while day <= on + timedelta(days=240):
        session_days += [day.replace(day=8), day.replace(day=22)]
        day = (day.replace(day=28) + timedelta(days=5)).replace(day=1)
    total_days = max((on - first_day).days, 1)
    per_session = max(2, int(n_files * 1.35 / max(len([d for d in session_days if d <= on + timedelta(days=120)]), 1)))
    sess_start = _next_id(JurySession)
    sessions = []
    for i, day in enumerate(session_days):
        published = day + timedelta(days=1) if day + timedelta(days=2) <= on else None
        if published and day >= on - timedelta(days=20) and rng.random() < 0.5:
            published = None  # a late publication for the secretariat's home page
        sessions.append({"id": sess_start + i, "date": day, "capacity": int(per_session * rng.uniform(0.85, 1.1)),
                         "seats_taken": 0, "location": rng.choice(["Paris", "Lyon", "Rouen", "Marseille"]),
                         "published_at": datetime.combine(published, time(10)) if published else None,
                         "created_at": datetime.combine(day - timedelta(days=120), time(9))})
    writer.write(JurySession, sessions)
    seats = [0] * len(sessions)
    session_dates = [session["date"] for session in sessions]

    # Files, in the order they were created
    created = sorted(datetime.combine(first_day, time(8)) + timedelta(minutes=rng.randint(0, total_days * 24 * 60))
                     for _ in range(n_files))
    file_start, cand_start = _next_id(CandidateFile), _next_id(Candidate)
    eval_start, dec_start = _next_id(Evaluation), _next_id(Decision)
    seen_keys: set = set()
    keys = {name: name_key(name) for name in (*SYNTH_FIRST, *SYNTH_LAST)}  # name_key once per name, not per row
    written = 0
    for batch_start in range(0, n_files, SYNTH_BATCH):
        rows = {k: [] for k in ("candidates", "files", "links", "history", "invitations", "evaluations", "results",
                                "decisions", "decision_results")}
        for index in range(batch_start, min(batch_start + SYNTH_BATCH, n_files)):
            file_id, cand_id = file_start + index, cand_start + index
            est = establishments[rng.randrange(len(establishments))]
            first, last = rng.choice(SYNTH_FIRST), rng.choice(SYNTH_LAST)
            birth = date(1965, 1, 1) + timedelta(days=rng.randint(0, 13000))
            while hash((est["id"], last, first, birth)) in seen_keys:  # a hash: flat memory at 1M
                birth += timedelta(days=1)
            seen_keys.add(hash((est["id"], last, first, birth)))
            rows["candidates"].append({
                "id": cand_id, "establishment_id": est["id"], "first_name": first, "last_name": last,
                "first_name_key": keys[first], "last_name_key": keys[last], "birth_date": birth,
                "birth_place": "Lyon", "birth_place_code": "69123", "birth_country": "France",
                "sex": "MF"[index % 2], "created_at": created[index], "updated_at": created[index]})
            cqp_id = rng.choices(cqps, cqp_weights)[0]
            comps = competences[cqp_id][: rng.randint(3, len(competences[cqp_id]))]
            rows["links"] += [{"file_id": file_id, "competence_id": c} for c in comps]
            assessor = assessors[rng.randrange(len(assessors))]
            start = created[index]
            record = {
                "id": file_id, "candidate_id": cand_id, "establishment_id": est["id"], "cqp_id": cqp_id,
                "status": "en_cours_inscription", "training_path": rng.choice(["formation", "evaluation_directe",
                                                                               "formation_et_evaluation"]),
                "training_scheme": rng.choice(["periode_professionnalisation", "plan_developpement_competences",
                                               "contrat_professionnalisation", "vae", "pro_a"]),
                "assessor_id": assessor["id"], "planned_interview_date": (start + timedelta(days=30)).date(),
                "assessor_confirmed_on": None, "jury_session_id": None, "requested_jury_session_id": None,
                "rolled_over": False, "withdraw_reason": None, "created_at": start, "updated_at": start,
                "status_changed_at": start, "decided_at": None,
            }
            steps: list[tuple[str, str, datetime]] = []  # (to_status, event, at)
            at = start
            abandon_at = rng.randint(0, 40) if rng.random() < 0.07 else None  # a few files are withdrawn
            plan = [("en_attente_evaluation", "confirm_assessor", rng.randint(2, 40)),
                    ("validation_evaluation", "submit_evaluation", rng.randint(10, 60)),
                    ("inscription_jury", "register_jury", rng.randint(1, 30))]
            for position, (to_status, event, days) in enumerate(plan):
                at = at + timedelta(days=days, minutes=rng.randint(0, 600))
                if at > now:
                    break
                if abandon_at is not None and position == abandon_at % 3:
                    steps.append(("abandonne", "withdraw", at))
                    break
                steps.append((to_status, event, at))
            status = steps[-1][0] if steps else "en_cours_inscription"
            session_index = None
            if status == "inscription_jury":
                registered = steps[-1][2]
                wanted = registered.date() + timedelta(days=21)
                asked = bisect.bisect_left(session_dates, wanted)
                for j in range(asked, len(sessions)):
                    if sessions[j]["date"] >= wanted and seats[j] < sessions[j]["capacity"]:
                        session_index = j
                        break
                if session_index is None:  # no seat left anywhere: the file waits in validation
                    steps.pop()
                    status = "validation_evaluation"
                else:
                    seats[session_index] += 1
                    session = sessions[session_index]
                    record["jury_session_id"] = session["id"]
                    record["requested_jury_session_id"] = sessions[asked]["id"]
                    record["rolled_over"] = asked != session_index
                    jury_at = datetime.combine(session["date"], time(15))
                    if jury_at <= now:
                        outcome = rng.choices([o for o, _ in SYNTH_OUTCOMES], [w for _, w in SYNTH_OUTCOMES])[0]
                        steps.append((outcome, "record_decision", jury_at))
                        status = outcome
            previous, began = "en_cours_inscription", start
            for to_status, event, moment in steps:
                rows["history"].append({"file_id": file_id, "from_status": previous, "to_status": to_status,
                                        "event": event, "at": moment, "stay_seconds": stay_seconds(began, moment)})
                previous, began = to_status, moment
                if to_status == "en_attente_evaluation":
                    record["assessor_confirmed_on"] = moment.date()
                    record["planned_interview_date"] = (moment + timedelta(days=rng.randint(3, 20))).date()
            record["status"] = status
            if steps:
                record["status_changed_at"] = record["updated_at"] = steps[-1][2]
            if status == "abandonne":
                record["withdraw_reason"] = "Départ de l'entreprise"
            reached = [s for s, _, _ in steps]
            evaluated = "validation_evaluation" in reached
            if evaluated or (status == "en_attente_evaluation" and rng.random() < 0.5):
                eval_id = eval_start + index
                confirmed = next(m for s, _, m in steps if s == "en_attente_evaluation")
                submitted = next((m for s, _, m in steps if s == "validation_evaluation"), None)
                rows["evaluations"].append({
                    "id": eval_id, "file_id": file_id, "interview_date": record["planned_interview_date"],
                    "candidate_observations": "Entretien constructif." if submitted else None,
                    "updated_at": submitted or confirmed, "submitted_at": submitted})
                for c in comps if submitted else comps[: rng.randint(1, len(comps))]:
                    rows["results"].append({"evaluation_id": eval_id, "competence_id": c,
                                            "acquired": rng.random() < 0.88, "comment": "Observé au poste."})
                rows["invitations"].append({
                    "file_id": file_id, "email": f"metier{file_id}@synthetique.certifia.fr", "first_name": "Jo",
                    "last_name": rng.choice(SYNTH_LAST), "token_hash": f"synth{file_id:059d}",
                    "created_at": confirmed, "expires_at": confirmed + timedelta(days=30),
                    "used_at": (confirmed + timedelta(days=5)) if submitted or rng.random() < 0.5 else None})
            if status in ("valide", "partiel", "non_valide"):
                decided = steps[-1][2]
                record["decided_at"] = decided
                dec_id = dec_start + index
                rows["decisions"].append({"id": dec_id, "file_id": file_id, "session_id": record["jury_session_id"],
                                          "status": status, "decided_at": decided})
                if status == "valide":
                    verdicts = [True] * len(comps)
                elif status == "non_valide":
                    verdicts = [False] * len(comps)
                else:
                    failed = rng.randint(1, len(comps) - 1)
                    verdicts = [True] * (len(comps) - failed) + [False] * failed
                    rng.shuffle(verdicts)
                rows["decision_results"] += [{"decision_id": dec_id, "competence_id": c, "validated": v}
                                             for c, v in zip(comps, verdicts, strict=True)]
            rows["files"].append(record)
        for model, key in ((Candidate, "candidates"), (CandidateFile, "files"), (file_competences, "links"),
                           (StatusChange, "history"), (JobAssessorInvitation, "invitations"),
                           (Evaluation, "evaluations"), (EvaluationResult, "results"), (Decision, "decisions"),
                           (DecisionResult, "decision_results")):
            writer.write(model, rows[key])
        written += len(rows["files"])
        yield written
    # Seats as registered (CHECK seats_taken <= capacity holds by construction)
    for session, taken in zip(sessions, seats, strict=True):
        if taken:
            db.session.execute(JurySession.__table__.update().where(JurySession.id == session["id"])
                               .values(seats_taken=taken))
    if db.session.get_bind().dialect.name == "postgresql":
        # Ids were given explicitly: move the sequences past them.
        for table in ("establishments", "users", "assessors", "jury_sessions", "candidates", "candidate_files",
                      "status_changes", "job_assessor_invitations", "evaluations", "evaluation_results",
                      "decisions", "decision_results"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"))
    db.session.flush()
