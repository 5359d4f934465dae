"""The candidate file's state machine: the only place a file's status changes.

One module-level `transitions.Machine` (model=None, no auto transitions) shared by every file, fired
through `fire(file, event, actor, **data)`. Guards implement the branch's rules R1–R10 and refuse
with a French message naming what is missing. `after_state_change` writes the history row and calls
the listeners that areas register (emails, seat bookkeeping), in the same transaction.

This module imports no other area: what a guard needs from the jury (the session placed into, its
date and deadline) comes in as event data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from transitions import EventData, Machine, MachineError

from app.core.clock import now, today
from app.core.errors import Conflict, RuleViolation
from app.files import carry_over
from app.files.exchange_models import open_correction_request
from app.files.independence import independence_problem
from app.files.models import (
    DECISION_STATUSES,
    FINAL_STATUSES,
    CandidateFile,
    FileStatus,
    StatusChange,
    stay_seconds,
)

S = FileStatus
RESULTS_WINDOW_DAYS = 8  # R5: results between the interview day and 8 days after it

EVENT_LABELS = {
    "confirm_assessor": "Confirmation de l'évaluateur",
    "submit_evaluation": "Transmission de l'évaluation",
    "register_jury": "Inscription au jury",
    "unregister_jury": "Désinscription du jury",
    "record_decision": "Décision du jury",
    "correct_decision": "Correction de la décision",
    "rectify_decision": "Rectification de la décision",
    "rectify_identity": "Rectification de l'état civil",  # not a transition: written by app.jury.record (R15)
    "withdraw": "Abandon",
    # Not transitions: written by app.files.exchanges (the status stays).
    "correction_request": "Demande de correction",
    "correction_answer": "Réponse à la demande de correction",
    "relaunch": "Relance du dossier",
    "take_freed_seat": "Place libérée prise (session demandée)",  # written by app.jury.seat_moves
}

Listener = Callable[[CandidateFile, str, str, Any, dict], None]
_listeners: dict[str, list[Listener]] = defaultdict(list)


def on(*events: str) -> Callable[[Listener], Listener]:
    """Registers a listener called after a transition: listener(file, event, from_status, actor, data)."""

    def decorator(func: Listener) -> Listener:
        for event in events:
            if func not in _listeners[event]:
                _listeners[event].append(func)
        return func

    return decorator


class GuardRefused(RuleViolation):
    pass


def _refuse(prefix: str, problems: dict[str, str]) -> None:
    if problems:
        items = list(problems.values())
        message = f"{prefix} : " + " ".join(items) if prefix else " ".join(items)
        raise GuardRefused(message, {field: [msg] for field, msg in problems.items()})


# ---------------------------------------------------------------- what each step needs (R2–R9)


def confirm_assessor_problems(file: CandidateFile, on: date | None = None) -> dict[str, str]:
    """R2: everything the company must have filled in before the assessor is confirmed."""
    on = on or today()
    problems: dict[str, str] = {}
    candidate = file.candidate
    if candidate is None or not (candidate.first_name and candidate.last_name and candidate.birth_date):
        problems["candidate"] = "L'état civil du candidat (nom, prénom, date de naissance) est incomplet."
    if file.cqp is None:
        problems["cqp_code"] = "Le CQP n'est pas choisi."
    elif not file.competences:
        problems["competence_codes"] = "Aucune compétence du CQP n'est choisie."
    elif any(c.cqp_id != file.cqp_id for c in file.competences):
        problems["competence_codes"] = "Une compétence choisie n'appartient pas au CQP du dossier."
    if not file.training_path:
        problems["training_path"] = "Le parcours de formation n'est pas renseigné."
    if not file.training_scheme:
        problems["training_scheme"] = "Le dispositif de formation n'est pas renseigné."
    if file.establishment_id is None:
        problems["establishment"] = "L'établissement n'est pas renseigné."
    if file.assessor is None:
        problems["assessor_id"] = "L'évaluateur habilité n'est pas choisi."
    elif not file.assessor.is_habilitated(on, file.cqp):
        problems["assessor_id"] = (
            f"L'habilitation de l'évaluateur {file.assessor.name} n'est pas valide à cette date "
            f"(fin le {file.assessor.habilitation_until.strftime('%d/%m/%Y')})."
            if file.assessor.habilitation_until < on
            else f"L'évaluateur {file.assessor.name} n'est pas habilité pour ce CQP."
        )
    if file.planned_interview_date is None:
        problems["interview_date"] = "La date d'entretien prévue n'est pas renseignée."
    elif file.planned_interview_date < on:
        problems["interview_date"] = "La date d'entretien prévue est passée."
    if "assessor_id" not in problems and (independence := independence_problem(file)):
        problems["assessor_id"] = independence
    return problems


def results_window(interview_date: date) -> tuple[date, date]:
    return interview_date, interview_date + timedelta(days=RESULTS_WINDOW_DAYS)


def results_window_problems(file: CandidateFile, interview_date: date | None, on: date | None = None) -> dict[str, str]:
    """R5: results are entered from the interview day to 8 days after it, the interview being
    on or after the confirmation of the assessor."""
    on = on or today()
    if interview_date is None:
        return {"interview_date": "La date de l'entretien n'est pas renseignée."}
    if file.assessor_confirmed_on and interview_date < file.assessor_confirmed_on:
        return {"interview_date": (
            f"La date d'entretien ne peut pas précéder la confirmation de l'évaluateur "
            f"({file.assessor_confirmed_on.strftime('%d/%m/%Y')})."
        )}
    opens, closes = results_window(interview_date)
    if on < opens:
        return {"interview_date": (
            f"La saisie des résultats ouvre le jour de l'entretien ({opens.strftime('%d/%m/%Y')})."
        )}
    if on > closes:
        return {"interview_date": (
            f"La saisie des résultats est close depuis le {closes.strftime('%d/%m/%Y')} "
            f"({RESULTS_WINDOW_DAYS} jours après l'entretien)."
        )}
    return {}


def observations_window_problems(file: CandidateFile, on: date | None = None) -> dict[str, str]:
    """R5b: the job assessor's observations follow the results window: from the interview day (the date
    sent with the results once they exist, else the planned one) to 8 days after it."""
    on = on or today()
    interview = file.interview_date
    if interview is None:
        return {"observations": (
            "Les observations pourront être saisies à partir du jour de l'entretien, dont la date n'est pas "
            "encore fixée."
        )}
    opens, closes = results_window(interview)
    if on < opens:
        return {"observations": (
            f"Les observations pourront être saisies à partir du {opens.strftime('%d/%m/%Y')}, jour de "
            f"l'entretien, et jusqu'au {closes.strftime('%d/%m/%Y')}."
        )}
    if on > closes:
        return {"observations": (
            f"La saisie des observations est close depuis le {closes.strftime('%d/%m/%Y')} "
            f"({RESULTS_WINDOW_DAYS} jours après l'entretien du {interview.strftime('%d/%m/%Y')}). "
            "Si l'entretien a eu lieu à une autre date, l'évaluateur habilité enregistre la date réelle de "
            f"l'entretien dans son évaluation : la saisie rouvre alors jusqu'à {RESULTS_WINDOW_DAYS} jours "
            "après cette date."
        )}
    return {}


def submit_evaluation_problems(file: CandidateFile, on: date | None = None) -> dict[str, str]:
    """R3 and R6 (and R5 for the date of submission)."""
    problems: dict[str, str] = {}
    if not file.invitations:
        problems["job_assessor"] = "L'évaluateur métier n'a pas été invité."
    elif not file.job_assessor_observations_in:
        problems["job_assessor"] = "Les observations de l'évaluateur métier ne sont pas saisies."
    evaluation = file.evaluation
    results = {r.competence_id: r for r in evaluation.results} if evaluation else {}
    for competence in file.competences:
        result = results.get(competence.id)
        if result is None or result.acquired is None:
            problems[f"results.{competence.code}"] = f"Le résultat de la compétence {competence.code} n'est pas saisi."
        elif not (result.comment or "").strip():
            problems[f"results.{competence.code}"] = f"Le commentaire de la compétence {competence.code} n'est pas saisi."
    if evaluation is None or not (evaluation.candidate_observations or "").strip():
        problems["candidate_observations"] = "Les observations du candidat ne sont pas saisies."
    if not any(d.kind == "guide_evaluation" for d in file.documents):
        problems["guide_evaluation"] = "Le guide d'évaluation scanné (outil n°4) n'est pas déposé."
    problems.update(results_window_problems(file, evaluation.interview_date if evaluation else None, on))
    return problems


def register_jury_problems(file: CandidateFile, session, on: date | None = None) -> dict[str, str]:
    """R7: the evaluation is validated (source state) and the session's deadline not passed."""
    on = on or today()
    if session is None:
        return {"jury_session_id": "Aucune session de jury n'est choisie."}
    if getattr(session, "cancelled_at", None) is not None:
        return {"jury_session_id": "Cette session de jury est annulée."}
    deadline = session.registration_deadline
    if on > deadline:
        return {"jury_session_id": (
            f"Les inscriptions à la session du {session.date.strftime('%d/%m/%Y')} sont closes depuis le "
            f"{deadline.strftime('%d/%m/%Y')} (3 semaines avant le jury)."
        )}
    return {}


def unregister_jury_problems(file: CandidateFile, session, on: date | None = None) -> dict[str, str]:
    on = on or today()
    if session is not None and on > session.registration_deadline:
        return {"jury_session_id": (
            f"La désinscription n'est plus possible depuis le {session.registration_deadline.strftime('%d/%m/%Y')} "
            "(date limite d'inscription de la session)."
        )}
    return {}


def decision_problems(file: CandidateFile, session, results: dict[int, bool], on: date | None = None) -> dict[str, str]:
    """R9: on or after the jury date, one result per competence of the file."""
    on = on or today()
    problems: dict[str, str] = {}
    if session is None:
        return {"jury_session_id": "Le dossier n'est inscrit à aucune session de jury."}
    if on < session.date:
        problems["date"] = (
            f"La décision ne peut être enregistrée qu'à partir de la date du jury ({session.date.strftime('%d/%m/%Y')})."
        )
    wanted = {c.id: c for c in file.competences}
    for competence_id, competence in wanted.items():
        if competence_id not in results:
            problems[f"results.{competence.code}"] = f"La décision pour la compétence {competence.code} n'est pas saisie."
    if set(results) - set(wanted):
        problems["results"] = "Une décision porte sur une compétence qui n'est pas celle du dossier."
    return problems


def derived_decision(results: dict[int, bool], carried: bool = False, completes_cqp: bool = True) -> FileStatus:
    """R9 read with R13: all validated → valide (for a file carrying acquired competences, only when they and
    this jury's make every competence of the CQP), none → partiel when the file carries acquired competences,
    else non_valide; otherwise partiel."""
    values = list(results.values())
    if values and all(values):
        return S.VALIDE if completes_cqp or not carried else S.PARTIEL
    if not any(values):
        return S.PARTIEL if carried else S.NON_VALIDE
    return S.PARTIEL


# ---------------------------------------------------------------- guards (conditions)


def _guard_confirm_assessor(event: EventData) -> bool:
    _refuse("Impossible de confirmer l'évaluateur", confirm_assessor_problems(event.model))
    return True


def _guard_submit_evaluation(event: EventData) -> bool:
    _refuse("Impossible de transmettre l'évaluation", submit_evaluation_problems(event.model))
    return True


def _guard_register_jury(event: EventData) -> bool:
    _refuse("Inscription au jury impossible", register_jury_problems(event.model, event.kwargs.get("session")))
    return True


def _guard_unregister_jury(event: EventData) -> bool:
    _refuse("", unregister_jury_problems(event.model, event.kwargs.get("session")))
    return True


def _guard_decision(event: EventData) -> bool:
    kwargs = event.kwargs
    _refuse("Décision impossible", decision_problems(event.model, kwargs.get("session"), kwargs.get("results") or {}))
    if event.event.name == "correct_decision" and kwargs.get("published"):
        raise Conflict("La session est publiée : la décision ne peut plus être corrigée, seulement rectifiée.")
    if event.event.name == "rectify_decision":
        if not kwargs.get("published"):
            raise Conflict("La session n'est pas publiée : corrigez la décision directement.")
        if not (kwargs.get("reason") or "").strip():
            raise RuleViolation.for_field("reason", "Le motif de la rectification est obligatoire.")
    return True


def _guard_withdraw(event: EventData) -> bool:
    if not (event.kwargs.get("reason") or "").strip():
        raise RuleViolation.for_field("reason", "Le motif de l'abandon est obligatoire.")
    return True


def _decides(status: FileStatus) -> Callable[[EventData], bool]:
    def condition(event: EventData) -> bool:
        file = event.model
        return derived_decision(event.kwargs.get("results") or {}, bool(carry_over.counted(file)),
                                carry_over.completes_cqp(file)) == status

    condition.__name__ = f"decides_{status.value}"
    return condition


def _write_history(event: EventData) -> None:
    file: CandidateFile = event.model
    data = event.kwargs
    comment = data.get("comment") or data.get("reason")
    began = file.status_changed_at or file.created_at  # when the stay that ends now began
    file.status_changed_at = now()  # the one clock: a demo or test moved in time keeps a coherent history
    if event.transition.dest in {s.value for s in DECISION_STATUSES}:
        file.decided_at = file.status_changed_at
    file.history.append(StatusChange(
        from_status=event.transition.source,
        to_status=event.transition.dest,
        event=event.event.name,
        actor_id=getattr(data.get("actor"), "id", None),
        at=file.status_changed_at,
        stay_seconds=stay_seconds(began, file.status_changed_at),
        comment=comment,
    ))
    for listener in _listeners[event.event.name]:
        listener(file, event.event.name, event.transition.source, data.get("actor"), data)


def _transitions() -> list[dict]:
    decision_dests = [(S.VALIDE, _decides(S.VALIDE)), (S.PARTIEL, _decides(S.PARTIEL)),
                      (S.NON_VALIDE, _decides(S.NON_VALIDE))]
    transitions = [
        {"trigger": "confirm_assessor", "source": S.EN_COURS_INSCRIPTION, "dest": S.EN_ATTENTE_EVALUATION,
         "conditions": [_guard_confirm_assessor]},
        {"trigger": "submit_evaluation", "source": S.EN_ATTENTE_EVALUATION, "dest": S.VALIDATION_EVALUATION,
         "conditions": [_guard_submit_evaluation]},
        {"trigger": "register_jury", "source": S.VALIDATION_EVALUATION, "dest": S.INSCRIPTION_JURY,
         "conditions": [_guard_register_jury]},
        {"trigger": "unregister_jury", "source": S.INSCRIPTION_JURY, "dest": S.VALIDATION_EVALUATION,
         "conditions": [_guard_unregister_jury]},
        {"trigger": "withdraw", "source": [s for s in S if s not in FINAL_STATUSES], "dest": S.ABANDONNE,
         "conditions": [_guard_withdraw]},
    ]
    for dest, condition in decision_dests:
        transitions.append({"trigger": "record_decision", "source": S.INSCRIPTION_JURY, "dest": dest,
                            "conditions": [_guard_decision, condition]})
        for trigger in ("correct_decision", "rectify_decision"):
            transitions.append({"trigger": trigger, "source": list(DECISION_STATUSES), "dest": dest,
                                "conditions": [_guard_decision, condition]})
    for t in transitions:
        t["source"] = [s.value for s in t["source"]] if isinstance(t["source"], list) else t["source"].value
        t["dest"] = t["dest"].value
    return transitions


machine = Machine(
    model=None,
    states=[s.value for s in FileStatus],
    transitions=_transitions(),
    initial=None,
    auto_transitions=False,
    send_event=True,
    model_attribute="status",
    after_state_change=[_write_history],
)


def allowed_events(file: CandidateFile) -> list[str]:
    return sorted({t for t in machine.events if machine.events[t].transitions.get(file.status)})


def fire(file: CandidateFile, event: str, actor, **data) -> CandidateFile:
    """Fires `event` on the file; raises Conflict (wrong status) or RuleViolation (a rule not met)."""
    if event not in machine.events:
        raise ValueError(f"Unknown workflow event {event!r}")
    if not machine.events[event].transitions.get(file.status):
        raise Conflict(
            f"Action impossible : le dossier est au statut « {file.status_label} ».",
            {"status": [file.status]},
        )
    if event != "withdraw" and (request := open_correction_request(file)) is not None:
        message = (f"{EVENT_LABELS.get(event, event)} impossible : {request.reference} attend la réponse de "
                   f"l'entreprise (« {request.message} »). Seul l'abandon du dossier reste possible d'ici là.")
        raise Conflict(message, {"correction_request": [message]})
    try:
        done = machine.events[event].trigger(file, actor=actor, **data)
    except MachineError as exc:  # the status changed under us
        raise Conflict(f"Action impossible : le dossier est au statut « {file.status_label} ».") from exc
    if not done:
        raise RuleViolation(f"{EVENT_LABELS.get(event, event)} : les conditions ne sont pas remplies.")
    return file


def next_step_problems(file: CandidateFile) -> list[str]:
    """What is still missing for the file's next step, for the file page (nothing is raised)."""
    status = file.status_enum
    if status == S.EN_COURS_INSCRIPTION:
        return list(confirm_assessor_problems(file).values())
    if status == S.EN_ATTENTE_EVALUATION:
        return list(submit_evaluation_problems(file).values())
    return []
