"""`flask demo`: a small demo data set with one user per role (idempotent). The synthetic branch of
`flask demo --files N` is not the application's: it lives in tests/perf/synthetic.py."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import AccountRequest, Role, User
from app.core.clock import today
from app.extensions import db
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
from app.jury.parchments import new_parchment_number
from app.referential import services as referential
from app.referential.models import Assessor, Cqp

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
    referential.register_demo_cqps()
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
    # The holder's identity the CPF register needs (COG codes); Karim's is left incomplete (cpf_missing).
    identities = [("F", "69123", "Lyon", "France"), (None, None, "Lyon", None), ("F", "75112", "Paris 12e "
                  "Arrondissement", "France"), ("M", "13055", "Marseille", "France"), ("F", "99109", "Berlin",
                  "Allemagne"), ("M", "38185", "Grenoble", "France")]
    steps = ["en_attente_evaluation", "validation_evaluation", "inscription_jury"]
    events = {"en_attente_evaluation": "confirm_assessor", "validation_evaluation": "submit_evaluation",
              "inscription_jury": "register_jury", "valide": "record_decision", "partiel": "record_decision"}
    for index, (first, last, status, age, durations, session_key) in enumerate(plan):
        sex, place_code, place, country = identities[index % len(identities)]
        candidate = Candidate(establishment_id=establishment.id, birth_date=date(1985 + index, 3, 10 + index),
                              birth_place=place, email=f"{first.lower()}.{last.lower()}@exemple.fr",
                              created_at=moment(age), sex=sex, birth_place_code=place_code, birth_country=country)
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
