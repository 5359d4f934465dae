"""What a file waits for, from whom, and since when: the one answer that the file page, the file
lists, the homes and the API give.

`next_action(file, viewer)` reads the file as the viewer may see it (R10: an unpublished decision
stays « Inscription au jury » for the company and the candidate) and names who must act: the
company, the assessor, the job assessor, the jury or the secretariat — « vous » when it is the
viewer. None when nothing is awaited (a published decision, an abandoned file).

What a file lacks comes from workflow.confirm_assessor_problems; the jury's session is read through
the file's relationship (this area never imports the jury's modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.accounts.models import Role
from app.core.clock import today
from app.files import workflow
from app.files.models import DECISION_STATUSES, CandidateFile, FileStatus

S = FileStatus
YOU = "vous"
COMPANY = "l'entreprise"
ASSESSOR = "l'évaluateur habilité"
JOB_ASSESSOR = "l'évaluateur métier"
JURY = "le jury"
SECRETARIAT = "le secrétariat"


def since_text(moment: date | datetime | None, on: date | None = None) -> str:
    """« depuis 9 jours » / « depuis 1 jour » / « depuis aujourd'hui »."""
    if moment is None:
        return ""
    days = ((on or today()) - (moment.date() if isinstance(moment, datetime) else moment)).days
    if days <= 0:
        return "depuis aujourd'hui"
    return "depuis 1 jour" if days == 1 else f"depuis {days} jours"


@dataclass
class NextAction:
    """What a file waits for: who, to do what, since when."""

    waiting_for: str  # "vous", "l'entreprise", "l'évaluateur habilité", "l'évaluateur métier", "le jury", "le secrétariat"
    action: str
    since: date | datetime | None
    # What the one awaited still lacks for this step (told to the viewer when it is their turn).
    missing: list[str] = field(default_factory=list)

    @property
    def yours(self) -> bool:
        return self.waiting_for == YOU

    @property
    def text(self) -> str:
        """« À vous : confirmer l'évaluateur (depuis 3 jours) » / « En attente de l'évaluateur métier depuis 9 jours »."""
        since = since_text(self.since)
        if self.yours:
            return f"À vous : {self.action} ({since})" if since else f"À vous : {self.action}"
        return f"En attente {_de(self.waiting_for)} {since}".strip()

    @property
    def summary(self) -> str:
        """Who and what, in a list's cell: « L'évaluateur métier : observations », « Vous : confirmer l'évaluateur »."""
        return f"{self.waiting_for[:1].upper()}{self.waiting_for[1:]} : {self.action}"


def _de(who: str) -> str:
    if who.startswith("le "):
        return "du " + who[3:]
    return "de " + who


def _for(viewer_acts: bool, who: str, yours: str, theirs: str, since) -> NextAction:
    """The viewer reads « vous » and what to do; anyone else reads who and the awaited step."""
    return NextAction(YOU, yours, since) if viewer_acts else NextAction(who, theirs, since)


def _elements(missing: list[str]) -> str:
    plural = "s" if len(missing) > 1 else ""
    return f"{len(missing)} élément{plural} manquant{plural}"


@dataclass(frozen=True)
class Missing:
    """One kind of item a step still lacks, and who must provide it (« vous » when it is the viewer)."""

    who: str
    text: str
    key: str = ""

    @property
    def who_label(self) -> str:
        return f"{self.who[:1].upper()}{self.who[1:]}"


def _codes(codes: list[str]) -> str:
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " et " + codes[-1]


def _per_competence(codes: list[str], singular: str, plural: str) -> str:
    if len(codes) == 1:
        return f"{singular} pour la compétence {codes[0]}."
    return f"{plural} pour les compétences {_codes(codes)}."


def _evaluation_missing(file: CandidateFile) -> list[tuple[str, str, str]]:
    """(key, who, text) of what the evaluation still lacks (R3, R5, R6): one line per kind of item, the
    competences named together; the interview date only when neither the actual nor the planned one is
    known (the planned date stands until the assessor sends the actual one with the results)."""
    problems = workflow.submit_evaluation_problems(file)
    evaluation = file.evaluation
    results = {r.competence_id: r for r in evaluation.results} if evaluation else {}
    no_result, no_comment = [], []
    for competence in file.competences:
        if f"results.{competence.code}" not in problems:
            continue
        result = results.get(competence.id)
        (no_result if result is None or result.acquired is None else no_comment).append(competence.code)
    lines: list[tuple[str, str, str]] = []
    for key, message in problems.items():
        if key == "job_assessor":
            if file.invitations:  # invited: the job assessor's turn
                lines.append((key, JOB_ASSESSOR, "Observations sur les compétences non saisies."))
            else:
                lines.append((key, ASSESSOR, message))
        elif key.startswith("results."):
            continue
        elif key == "interview_date":
            if evaluation is None or evaluation.interview_date is None:
                if file.planned_interview_date is not None:
                    window = workflow.results_window_problems(file, file.planned_interview_date)
                    if window:
                        lines.append((key, ASSESSOR, window["interview_date"]))
                    continue
            lines.append((key, ASSESSOR, message))
        else:
            lines.append((key, ASSESSOR, message))
    at = 1 if lines and lines[0][0] == "job_assessor" else 0
    grouped = []
    if no_result:
        grouped.append(("results", ASSESSOR, _per_competence(no_result, "Résultat non saisi", "Résultats non saisis")))
    if no_comment:
        grouped.append(("comments", ASSESSOR,
                        _per_competence(no_comment, "Commentaire non saisi", "Commentaires non saisis")))
    return lines[:at] + grouped + lines[at:]


def missing_items(file: CandidateFile, viewer) -> list[Missing]:
    """What the file's current step still lacks, one line per kind of item, each naming who must act:
    the company before the assessor is confirmed (R2), then the assessor or the job assessor (R3, R5, R6).
    Empty at the other steps."""
    status = file.status_enum
    if status == S.EN_COURS_INSCRIPTION:
        lines = [(key, COMPANY, message) for key, message in workflow.confirm_assessor_problems(file).items()]
    elif status == S.EN_ATTENTE_EVALUATION:
        lines = _evaluation_missing(file)
    else:
        return []
    is_company = viewer is not None and getattr(viewer, "is_authenticated", True) \
        and viewer.belongs_to(file.establishment_id)
    is_assessor = file.assessor is not None and getattr(viewer, "id", None) is not None \
        and file.assessor.user_id == viewer.id
    mine = {COMPANY: is_company, ASSESSOR: is_assessor}
    return [Missing(YOU if mine.get(who) else who, text, key) for key, who, text in lines]


def _own(file: CandidateFile, viewer) -> list[str]:
    return [m.text for m in missing_items(file, viewer) if m.who == YOU]


def steps_told_missing(viewer) -> tuple[str, ...]:
    """The statuses at which next_action tells `viewer` what the step still lacks (missing_items): a company, its
    files to complete before confirming the assessor (R2); an assessor, the files they evaluate (R3, R5, R6).
    Anyone else is told whose turn it is, not what is missing: their lists need not read what the checks read
    (access.load_checked_steps)."""
    role = getattr(viewer, "role", None)
    if role == Role.ENTREPRISE:
        return (S.EN_COURS_INSCRIPTION.value,)
    if role == Role.EVALUATEUR:
        return (S.EN_ATTENTE_EVALUATION.value,)
    return ()


def next_action(file: CandidateFile, viewer) -> NextAction | None:
    """What `file` waits for, told to `viewer` (any role; None for an anonymous viewer is fine)."""
    status = FileStatus(file.visible_status_for(viewer))
    is_company = viewer is not None and viewer.belongs_to(file.establishment_id)
    correction = file.open_correction_request if not file.is_final else None
    if correction is not None:  # every step waits for the company's answer (app.files.exchanges)
        return _for(is_company, COMPANY, "répondre à la demande de correction",
                    "réponse à la demande de correction", correction.requested_at)
    if status == S.EN_COURS_INSCRIPTION:
        if is_company:
            missing = _own(file, viewer)
            action = (f"compléter le dossier ({_elements(missing)}) puis confirmer l'évaluateur" if missing
                      else "confirmer l'évaluateur")
            return NextAction(YOU, action, file.status_changed_at, missing)
        return NextAction(COMPANY, "confirmation de l'évaluateur", file.status_changed_at)
    if status == S.EN_ATTENTE_EVALUATION:
        invitation = file.current_invitation
        if invitation is not None and invitation.used_at is None:
            return NextAction(JOB_ASSESSOR, "observations", invitation.created_at)
        since = file.status_changed_at if invitation is None else invitation.used_at
        if file.can_evaluate(viewer):
            missing = _own(file, viewer)
            if invitation is None:
                action = "inviter l'évaluateur métier"
            elif missing:
                action = f"saisir l'évaluation ({_elements(missing)}) puis la transmettre"
            else:
                action = "transmettre l'évaluation"
            return NextAction(YOU, action, since, missing)
        if invitation is None:
            return NextAction(ASSESSOR, "invitation de l'évaluateur métier", since)
        return NextAction(ASSESSOR, "saisie et transmission de l'évaluation", since)
    if status == S.VALIDATION_EVALUATION:
        return _for(is_company, COMPANY, "inscrire le candidat à une session de jury",
                    "inscription du candidat à une session de jury", file.status_changed_at)
    session = file.jury_session
    if status == S.INSCRIPTION_JURY:
        if session is not None and session.date > today():
            day = session.date.strftime("%d/%m/%Y")
            sits = viewer is not None and viewer.is_jury_member and file.can_view(viewer)
            return _for(sits, JURY, f"siéger à la session du {day}", f"session du {day}", file.status_changed_at)
        since = session.date if session is not None else file.status_changed_at
        if file.status == S.INSCRIPTION_JURY and getattr(viewer, "sees_unpublished_decisions", False):
            # The jury has sat and no decision is recorded: only those who may see decisions are told so.
            return _for(viewer.is_secretariat, SECRETARIAT, "saisir la décision du jury",
                        "saisie de la décision du jury", since)
        return NextAction(SECRETARIAT, "publication des résultats du jury", since)
    if status in DECISION_STATUSES and not file.is_published:
        # Seen only by those who see unpublished decisions (visible_status_for).
        since = session.date if session is not None else file.decided_at
        return _for(viewer.is_secretariat, SECRETARIAT, "publier les résultats du jury",
                    "publication des résultats du jury", since)
    return None
