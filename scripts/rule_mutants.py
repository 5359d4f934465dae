"""Proves that the tests of each rule fail without its guard (`make mutants`).

For every rule of docs/design.md that a guard implements, the script removes the guard from the source
(each textual edit checked to apply exactly once; a rule enforced in two places loses both), runs
that rule's tests, expects at least one failure, and puts the sources back. Prints one line per rule; exits 1 when a mutant survives (a rule whose
removal no test notices).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    rule: str
    edits: tuple[tuple[str, str, str], ...]  # (path, code removed, code put instead)
    tests: tuple[str, ...]


# The files area's rule tests, one module per module of app/files (tests mirror the code).
WORKFLOW_TESTS = "tests/files/test_workflow.py"
SERVICES_TESTS = "tests/files/test_services.py"
EVALUATION_TESTS = "tests/files/test_evaluation.py"
CANDIDATES_TESTS = "tests/files/test_candidates.py"
WORKFLOW = "app/files/workflow.py"
JURY_MODELS = "app/jury/models.py"
REGISTRATION = "app/jury/registration.py"
DECISIONS = "app/jury/decisions.py"

MUTANTS = [
    # The Machine itself refuses an event from a wrong status: the mutant lets one event start from one more.
    Mutant("R1 étapes dans l'ordre", (
        (WORKFLOW, '{"trigger": "confirm_assessor", "source": S.EN_COURS_INSCRIPTION,',
         '{"trigger": "confirm_assessor", "source": [S.EN_COURS_INSCRIPTION, S.EN_ATTENTE_EVALUATION],'),
    ), (WORKFLOW_TESTS, SERVICES_TESTS, EVALUATION_TESTS, "-k", "r1")),
    Mutant("R2 confirmation de l'évaluateur", (
        (WORKFLOW, '    _refuse("Impossible de confirmer l\'évaluateur", confirm_assessor_problems(event.model))\n', ""),
    ), (WORKFLOW_TESTS, SERVICES_TESTS, "-k", "r2")),
    Mutant("R3 invitation de l'évaluateur métier", (
        (WORKFLOW, '    if not file.invitations:\n        problems["job_assessor"] = "L\'évaluateur métier n\'a pas été invité."\n'
                   "    elif not file.job_assessor_observations_in:", "    if False:\n        pass\n    elif False:"),
    ), (EVALUATION_TESTS, "-k", "r3 or r6")),
    Mutant("R4 email quand les deux commentaires sont là", (
        ("app/files/evaluation.py",
         "    if not (assessor_comments_complete(file) and file.job_assessor_observations_in):\n        return False\n", ""),
    ), (EVALUATION_TESTS, "-k", "r4")),
    Mutant("R5 fenêtre de saisie", ((WORKFLOW, '    if on > closes:\n        return {"interview_date": (',
                                      '    if False:\n        return {"interview_date": ('),),
           (WORKFLOW_TESTS, EVALUATION_TESTS, "-k", "r5")),
    # R5b: the job assessor's link follows the results window (both ends: the service and the page refuse outside it).
    Mutant("R5b fenêtre des observations de l'évaluateur métier", (
        (WORKFLOW, '    if on < opens:\n        return {"observations": (', '    if False:\n        return {"observations": ('),
        (WORKFLOW, '    if on > closes:\n        return {"observations": (', '    if False:\n        return {"observations": ('),
    ), (EVALUATION_TESTS, "tests/files/test_views.py", "-k", "r5b")),
    Mutant("R6 évaluation complète", (
        (WORKFLOW, "        if result is None or result.acquired is None:\n", "        if False:\n"),
    ), (EVALUATION_TESTS, "-k", "r6")),
    # The deadline is checked by the guard and by the open sessions (the hybrid, in Python and in SQL): all go.
    Mutant("R7 date limite d'inscription", (
        (WORKFLOW, "    if on > deadline:\n", "    if False:\n"),
        (JURY_MODELS, "and self.published_at is None and today() <= self.registration_deadline",
         "and self.published_at is None"),
        (JURY_MODELS, "cls.published_at.is_(None), cls.date >= last_date)", "cls.published_at.is_(None))"),
    ), ("tests/jury/test_registration.py",)),
    # The seat is taken by the conditional UPDATE; the sessions tried are those that had a seat: both go.
    Mutant("R8 session pleine : session suivante", (
        (REGISTRATION, "_sessions.c.seats_taken < _sessions.c.capacity,\n               _sessions.c.cancelled_at",
         "_sessions.c.cancelled_at"),
        (REGISTRATION, "_open_sessions(after).where(JurySession.seats_left > 0)", "_open_sessions(after)"),
    ), ("tests/jury/test_registration.py",)),
    Mutant("R9 décision à partir de la date du jury", ((WORKFLOW, "    if on < session.date:\n", "    if False:\n"),),
           ("tests/jury/test_decisions.py",)),
    Mutant("R9 statut déduit des résultats", (
        (WORKFLOW, "    if values and all(values):\n        return S.VALIDE\n", ""),
    ), ("tests/jury/test_decisions.py",)),
    Mutant("R10 visibilité avant publication", (
        ("app/files/models.py", 'return bool(getattr(user, "sees_unpublished_decisions", False)) or self.is_published',
         "return True"),
    ), ("tests/jury/test_decisions.py",)),
    Mutant("R10 publication : toutes les décisions, à partir de la date du jury", (
        (DECISIONS, "    if not jury_session.is_held:\n", "    if False:\n"),
        (DECISIONS, "    if undecided:\n", "    if False:\n"),
    ), ("tests/jury/test_decisions.py",)),
    # Late in Python (the session's page) and in SQL (the calendar, the reminder): both go.
    Mutant("R10 publication en retard signalée", (
        (JURY_MODELS, "and self.published_at is None and self.publication_due_at < app_now()",
         "and self.published_at is None and False"),
        (JURY_MODELS, "cls.published_at.is_(None), held_before)", "cls.published_at.is_(None), false())"),
    ), ("tests/jury/test_sessions.py",)),
    Mutant("R11 numéros de parchemin sans caractère ambigu", (
        ("app/jury/parchments.py", 'PARCHMENT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"',
         'PARCHMENT_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"'),
    ), ("tests/jury/test_parchments.py",)),
    # The check and the unique constraint that backs it (model and migration) all go.
    Mutant("R12 doublon de candidat", (
        ("app/files/candidates.py", "    if _find_duplicate(establishment.id, first_name, last_name, birth_date) is not None:\n",
         "    if False:\n"),
        ("app/files/candidates.py",
         "    if _find_duplicate(candidate.establishment_id, first_name, last_name, birth_date, candidate.id) is not None:",
         "    if False:"),
        ("app/files/models.py", '        UniqueConstraint("establishment_id", "last_name_key", "first_name_key", "birth_date"),\n', ""),
        ("migrations/versions/45c4331cf1c8_initial_schema.py",
         "    sa.UniqueConstraint('establishment_id', 'last_name_key', 'first_name_key', 'birth_date', "
         "name=op.f('uq_candidates_establishment_id_last_name_key_first_name_key_birth_date'))", ""),
    ), (CANDIDATES_TESTS, "-k", "r12")),
    # The service's check (create, change of CQP, the first step of the web form) and the partial unique
    # index that backs it (model and migration) all go.
    Mutant("R12b un seul dossier ouvert par candidat et CQP", (
        ("app/files/services.py", "    if open_file is not None:\n", "    if False:\n"),
        ("app/files/models.py",
         '        Index("uq_candidate_files_open_per_cqp", "candidate_id", "cqp_id", unique=True,\n'
         '              sqlite_where=text("status NOT IN " + _status_in(*FINAL_STATUSES)),\n'
         '              postgresql_where=text("status NOT IN " + _status_in(*FINAL_STATUSES))),\n', ""),
        ("migrations/versions/e8b2d5f41a97_one_open_file_per_candidate_and_cqp.py",
         "    op.create_index('uq_candidate_files_open_per_cqp', 'candidate_files', ['candidate_id', 'cqp_id'], "
         "unique=True,\n                    sqlite_where=OPEN, postgresql_where=OPEN)", "    pass"),
    ), (SERVICES_TESTS, "tests/files/test_views.py", "-k", "r12b")),
]


def run(mutant: Mutant) -> str:
    originals: dict[Path, str] = {}
    try:
        for relative, old, new in mutant.edits:
            path = ROOT / relative
            if path not in originals:
                originals[path] = path.read_text()
            source = path.read_text()  # a second edit of one file applies over the first
            if source.count(old) != 1:
                return f"ÉCHEC  {mutant.rule} : le code à retirer n'est pas trouvé une fois dans {relative}"
            path.write_text(source.replace(old, new))
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests],
            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "TEST_DATABASE_URL": ""},
        )
    finally:
        for path, source in originals.items():
            path.write_text(source)
    if result.returncode == 1:
        failed = next((line for line in result.stdout.splitlines() if line.startswith("FAILED")), "")
        return f"tué   {mutant.rule} ({failed.removeprefix('FAILED ').split(' - ')[0].split('[')[0]})"
    if result.returncode == 0:
        return f"SURVIT {mutant.rule} : les tests passent sans la règle"
    return f"ÉCHEC  {mutant.rule} : pytest a rendu {result.returncode}\n{result.stdout[-2000:]}"


def main() -> int:
    lines = [run(m) for m in MUTANTS ]
    for line in lines:
        print(line, flush=True)
    return 0 if all(line.startswith("tué") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
