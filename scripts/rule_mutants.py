"""Proves that the tests of each rule fail without its guard (`make mutants`).

For every rule of DESIGN.md that a guard implements, the script removes the guard from the source
(one textual change, checked to apply), runs that rule's tests, expects at least one failure, and
puts the source back. Prints one line per rule; exits 1 when a mutant survives (a rule whose
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
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTANTS = [
    Mutant("R1 statut hors ordre", "app/files/workflow.py",
           "    if not machine.events[event].transitions.get(file.status):\n        raise Conflict(",
           "    if False:\n        raise Conflict(",
           ("tests/files/test_rules.py::test_r1_an_event_out_of_order_is_refused_naming_the_status",)),
    Mutant("R2 confirmation de l'évaluateur", "app/files/workflow.py",
           '    _refuse("Impossible de confirmer l\'évaluateur", confirm_assessor_problems(event.model))\n',
           "",
           ("tests/files/test_rules.py", "-k", "r2")),
    Mutant("R3 invitation de l'évaluateur métier", "app/files/workflow.py",
           '    if not file.invitations:\n        problems["job_assessor"] = "L\'évaluateur métier n\'a pas été invité."\n'
           "    elif not file.job_assessor_observations_in:",
           "    if False:\n        pass\n    elif False:",
           ("tests/files/test_rules.py", "-k", "r3 or r6")),
    Mutant("R4 email quand les deux commentaires sont là", "app/files/services.py",
           "    if not (assessor_comments_complete(file) and file.job_assessor_observations_in):\n        return False\n",
           "",
           ("tests/files/test_rules.py", "-k", "r4")),
    Mutant("R5 fenêtre de saisie", "app/files/workflow.py",
           "    if on > closes:\n", "    if False:\n",
           ("tests/files/test_rules.py", "-k", "r5")),
    Mutant("R6 évaluation complète", "app/files/workflow.py",
           "        if result is None or result.acquired is None:\n", "        if False:\n",
           ("tests/files/test_rules.py", "-k", "r6")),
    Mutant("R7 date limite d'inscription", "app/files/workflow.py",
           "    if on > deadline:\n", "    if False:\n",
           ("tests/jury/test_registration.py",)),
    Mutant("R8 session pleine : session suivante", "app/jury/services.py",
           "_sessions.c.seats_taken < _sessions.c.capacity,\n               _sessions.c.cancelled_at",
           "_sessions.c.cancelled_at",
           ("tests/jury/test_registration.py",)),
    Mutant("R9 décision à partir de la date du jury", "app/files/workflow.py",
           "    if on < session.date:\n", "    if False:\n",
           ("tests/jury/test_decisions.py",)),
    Mutant("R9 statut déduit des résultats", "app/files/workflow.py",
           "    if values and all(values):\n        return S.VALIDE\n", "",
           ("tests/jury/test_decisions.py",)),
    Mutant("R10 visibilité avant publication", "app/jury/visibility.py",
           'return getattr(viewer, "role", None) in SEES_UNPUBLISHED or is_published(file)', "return True",
           ("tests/jury/test_publication.py",)),
    Mutant("R12 doublon de candidat", "app/files/services.py",
           "    if _find_duplicate(establishment.id, first_name, last_name, birth_date) is not None:\n",
           "    if False:\n",
           ("tests/files/test_rules.py", "-k", "r12")),
]


def run(mutant: Mutant) -> str:
    path = ROOT / mutant.path
    source = path.read_text()
    if source.count(mutant.old) != 1:
        return f"ÉCHEC   {mutant.rule} : le code à retirer n'est pas trouvé une fois dans {mutant.path}"
    path.write_text(source.replace(mutant.old, mutant.new))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests],
            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "TEST_DATABASE_URL": ""},
        )
    finally:
        path.write_text(source)
    if result.returncode == 1:
        failed = next((line for line in result.stdout.splitlines() if line.startswith("FAILED")), "")
        return f"tué    {mutant.rule} ({failed.removeprefix('FAILED ').split(' - ')[0]})"
    if result.returncode == 0:
        return f"SURVIT {mutant.rule} : les tests passent sans la règle"
    return f"ÉCHEC   {mutant.rule} : pytest a rendu {result.returncode}\n{result.stdout[-2000:]}"


def main() -> int:
    lines = [run(m) for m in MUTANTS ]
    for line in lines:
        print(line, flush=True)
    return 0 if all(line.startswith("tué") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
