"""`flask demo`: a small demo data set with one user per role (idempotent)."""

from __future__ import annotations

from datetime import date, timedelta

from app.accounts import services as accounts
from app.accounts.models import Role
from app.core.clock import today
from app.extensions import db
from app.referential import services as referential

DEMO_PASSWORD = "Certifia-demo-2026"
DEMO_SIRET = "73282932000074"
DEMO_USERS = [
    (Role.SECRETARIAT, "secretariat@certifia-demo.fr", "Sophie", "Martin"),
    (Role.ENTREPRISE, "rh@chimie-demo.fr", "Claire", "Dubois"),
    (Role.EVALUATEUR, "evaluateur@certifia-demo.fr", "Marc", "Lefèvre"),
    (Role.JURY, "jury@certifia-demo.fr", "Nadia", "Benali"),
    (Role.PARTENAIRE, "opco@certifia-demo.fr", "Olivier", "Petit"),
]


def load_demo() -> list[tuple[str, str, str]]:
    if not referential.list_cqps():
        referential.load_referential()
    establishment = accounts.find_establishment(DEMO_SIRET) or accounts.create_establishment(
        DEMO_SIRET, "Chimie Démo SAS", address="12 rue des Alambics", postcode="69007", city="Lyon",
        contact_email="contact@chimie-demo.fr",
    )
    logins = []
    for role, email, first, last in DEMO_USERS:
        user = accounts.find_user_by_email(email)
        if user is None:
            if role == Role.EVALUATEUR:
                assessor = referential.create_assessor(email, first, last, today() + timedelta(days=3 * 365))
                user = assessor.user
                accounts.set_password(user, DEMO_PASSWORD)
            else:
                accounts.create_user(email, role, password=DEMO_PASSWORD, first_name=first, last_name=last,
                                     establishment=establishment if role == Role.ENTREPRISE else None)
        logins.append((role.value, email, DEMO_PASSWORD))
    _load_demo_files(establishment)
    return logins


DEMO_REQUEST_SIRET = "35600000000048"  # La Poste's rule (digit sum divisible by 5): a valid SIRET


def _load_demo_files(establishment) -> None:
    """A few files of the demo company, one per status, as the workflow would have left them
    (history rows dated, seats taken, decisions with their results), so that every home page
    shows something. Idempotent: nothing is added once the demo company has files."""
    from datetime import datetime, time

    from sqlalchemy import func, select

    from app.accounts.models import AccountRequest, User
    from app.files.models import (
        Candidate,
        CandidateFile,
        Evaluation,
        EvaluationResult,
        JobAssessorInvitation,
        JobAssessorObservation,
        StatusChange,
        stay_seconds,
    )
    from app.jury.models import Decision, DecisionResult, JurySession, Parchment, jury_members
    from app.jury.services import new_parchment_number
    from app.referential.models import Assessor, Cqp

    if db.session.scalar(select(func.count()).where(CandidateFile.establishment_id == establishment.id)):
        return
    on = today()

    def moment(days_ago: int, hour: int = 10) -> datetime:
        return datetime.combine(on - timedelta(days=days_ago), time(hour))

    assessor = db.session.scalar(select(Assessor).join(User).where(User.email == "evaluateur@certifia-demo.fr"))
    company_user = db.session.scalar(select(User).where(User.email == "rh@chimie-demo.fr"))
    jury_user = db.session.scalar(select(User).where(User.email == "jury@certifia-demo.fr"))
    cqp = db.session.scalar(select(Cqp).where(Cqp.code == "FAB-OPF"))
    competences = cqp.active_competences[:4]
    sessions = {
        "past": JurySession(date=on - timedelta(days=20), capacity=20, location="Paris",
                            published_at=moment(19)),
        "late": JurySession(date=on - timedelta(days=4), capacity=20, location="Lyon"),
        "next": JurySession(date=on + timedelta(days=45), capacity=20, location="Paris"),
    }
    db.session.add_all(sessions.values())
    db.session.flush()
    db.session.execute(jury_members.insert(), [{"session_id": sessions[k].id, "user_id": jury_user.id}
                                               for k in ("late", "next")])
    # (first name, last name, status, days since creation, days of each step, session)
    plan = [
        ("Julie", "Moreau", "en_cours_inscription", 2, [], None),
        ("Karim", "Haddad", "en_attente_evaluation", 25, [13], None),
        ("Léa", "Fontaine", "validation_evaluation", 60, [10, 47], None),
        ("Hugo", "Bernard", "inscription_jury", 90, [10, 40, 30], "next"),
        ("Chloé", "Garnier", "valide", 150, [15, 45, 50, 20], "past"),
        ("Thomas", "Petit", "partiel", 130, [12, 40, 50, 24], "late"),
    ]
    steps = ["en_attente_evaluation", "validation_evaluation", "inscription_jury"]
    events = {"en_attente_evaluation": "confirm_assessor", "validation_evaluation": "submit_evaluation",
              "inscription_jury": "register_jury", "valide": "record_decision", "partiel": "record_decision"}
    for index, (first, last, status, age, durations, session_key) in enumerate(plan):
        candidate = Candidate(establishment_id=establishment.id, birth_date=date(1985 + index, 3, 10 + index),
                              birth_place="Lyon", email=f"{first.lower()}.{last.lower()}@exemple.fr",
                              created_at=moment(age))
        candidate.set_names(first, last)
        created = moment(age)
        file = CandidateFile(candidate=candidate, establishment_id=establishment.id, cqp=cqp,
                             competences=list(competences), training_path="formation",
                             training_scheme="plan_developpement_competences", assessor=assessor,
                             planned_interview_date=on + timedelta(days=10), created_by_id=company_user.id,
                             created_at=created, status="en_cours_inscription", status_changed_at=created)
        db.session.add(file)
        reached = steps[: len(durations)] + ([status] if status in ("valide", "partiel") else [])
        at, previous = created, "en_cours_inscription"
        for to_status, days in zip(reached, durations, strict=True):
            began, at = at, at + timedelta(days=days)
            actor = assessor.user_id if to_status == "validation_evaluation" else company_user.id
            file.history.append(StatusChange(from_status=previous, to_status=to_status, event=events[to_status],
                                             actor_id=actor, at=at, stay_seconds=stay_seconds(began, at)))
            previous = to_status
            if to_status == "en_attente_evaluation":
                file.assessor_confirmed_on = at.date()
                file.planned_interview_date = on - timedelta(days=1) if status == to_status else at.date() + \
                    timedelta(days=7)
        file.status, file.status_changed_at = status, at
        session = sessions.get(session_key)
        if session is not None:
            file.jury_session_id = session.id
            file.requested_jury_session_id = session.id
            session.seats_taken += 1
        db.session.flush()
        if status == "en_attente_evaluation":
            db.session.add(JobAssessorInvitation(
                file=file, email="chef.equipe@chimie-demo.fr", first_name="Paul", last_name="Roux",
                token_hash=f"demo{file.id:060d}", invited_by_id=assessor.user_id, created_at=moment(9),
                expires_at=moment(-21)))
        elif len(durations) >= 2:
            submitted = file.history[1].at
            invitation = JobAssessorInvitation(
                file=file, email="chef.equipe@chimie-demo.fr", first_name="Paul", last_name="Roux",
                token_hash=f"demo{file.id:060d}", invited_by_id=assessor.user_id,
                created_at=submitted - timedelta(days=8), expires_at=submitted + timedelta(days=22),
                used_at=submitted - timedelta(days=3))
            for competence in competences:
                invitation.observations.append(JobAssessorObservation(competence=competence,
                                                                      comment="Maîtrisé au poste."))
            evaluation = Evaluation(file=file, interview_date=file.planned_interview_date,
                                    candidate_observations="Entretien constructif.", submitted_at=submitted,
                                    updated_at=submitted)
            for position, competence in enumerate(competences):
                acquired = not (status == "partiel" and position == 2)
                evaluation.results.append(EvaluationResult(competence=competence, acquired=acquired,
                                                           comment="Acquis." if acquired else "À consolider."))
            db.session.add_all([invitation, evaluation])
        if status in ("valide", "partiel"):
            file.decided_at = at
            decision = Decision(file_id=file.id, session_id=session.id, status=status, decided_at=at)
            for position, competence in enumerate(competences):
                decision.results.append(DecisionResult(competence=competence,
                                                       validated=not (status == "partiel" and position == 2)))
            db.session.add(decision)
            db.session.add(Parchment(file_id=file.id, number=new_parchment_number(),
                                     kind="parchemin" if status == "valide" else "attestation"))
    if db.session.scalar(select(func.count()).where(AccountRequest.siret == DEMO_REQUEST_SIRET)) == 0:
        db.session.add(AccountRequest(
            siret=DEMO_REQUEST_SIRET, establishment_name="Laboratoire Démo Marseille", postcode="13008",
            city="Marseille", contact_first_name="Inès", contact_last_name="Mercier",
            email="ines.mercier@labo-demo.fr", created_at=moment(3)))
    db.session.flush()


# ------------------------------------------------------------------ a synthetic branch (`flask demo --files N`)

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
    from stdnum import luhn

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


def _next_id(model) -> int:
    from sqlalchemy import func, select

    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def generate_branch(n_files: int, *, seed: int = 2026):
    """Generates a realistic branch of `n_files` files with bulk INSERTs, in batches: establishments,
    assessors, jury sessions over SYNTH_YEARS years, candidates, files spread over years, CQPs and
    statuses with a coherent history (each transition dated, seats never over capacity, the later
    session when one is full, R7's 21 days respected), evaluations, decisions and their results.

    A generator: yields the number of files written after each batch (the CLI draws its progress
    bar and commits between batches)."""
    import bisect
    import random
    import secrets as _secrets
    from datetime import date, datetime, time

    from sqlalchemy import insert, select, text

    from app.accounts.models import Establishment, User
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
    from app.referential.models import Assessor, Competence, Cqp

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
                      "active": True, "session_nonce": _secrets.token_hex(8), "created_at": now})
        assessors.append({"id": ass_start + i, "user_id": user_start + i, "created_at": now,
                          "habilitation_until": on + timedelta(days=rng.randint(-200, 1500))})
    for table, rows in ((Establishment, establishments), (User, users), (Assessor, assessors)):
        for start in range(0, len(rows), SYNTH_BATCH):
            db.session.execute(insert(table), rows[start:start + SYNTH_BATCH])

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
    db.session.execute(insert(JurySession), sessions)
    seats = [0] * len(sessions)
    session_dates = [session["date"] for session in sessions]

    # Files, in the order they were created
    created = sorted(datetime.combine(first_day, time(8)) + timedelta(minutes=rng.randint(0, total_days * 24 * 60))
                     for _ in range(n_files))
    file_start, cand_start = _next_id(CandidateFile), _next_id(Candidate)
    eval_start, dec_start = _next_id(Evaluation), _next_id(Decision)
    seen_keys: set = set()
    written = 0
    for batch_start in range(0, n_files, SYNTH_BATCH):
        rows = {k: [] for k in ("candidates", "files", "links", "history", "invitations", "evaluations", "results",
                                "decisions", "decision_results")}
        for index in range(batch_start, min(batch_start + SYNTH_BATCH, n_files)):
            file_id, cand_id = file_start + index, cand_start + index
            est = establishments[rng.randrange(len(establishments))]
            first, last = rng.choice(SYNTH_FIRST), rng.choice(SYNTH_LAST)
            birth = date(1965, 1, 1) + timedelta(days=rng.randint(0, 13000))
            while (est["id"], name_key(last), name_key(first), birth) in seen_keys:
                birth += timedelta(days=1)
            seen_keys.add((est["id"], name_key(last), name_key(first), birth))
            rows["candidates"].append({
                "id": cand_id, "establishment_id": est["id"], "first_name": first, "last_name": last,
                "first_name_key": name_key(first), "last_name_key": name_key(last), "birth_date": birth,
                "birth_place": "Lyon", "created_at": created[index], "updated_at": created[index]})
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
            if rows[key]:
                db.session.execute(insert(model), rows[key])
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
