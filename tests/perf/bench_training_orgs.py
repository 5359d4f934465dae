"""Benchmark of `flask training-orgs import FILE` (`make bench`): a generated public list of training organisations
(data.gouv.fr's columns, 100,000 lines by default, a few establishments on two lines, a few malformed SIRETs)
imported by the real command in a child process, first into an empty table then again (the idempotent re-import
that updates every row). Prints the time and the child's peak RSS for 10,000 and 100,000 lines: the import must
take at most 60 s for 100,000 lines and its memory must stay flat (the peak at 100,000 within 1.5× of the peak
at 10,000).

SQLite by default (a temporary file); PostgreSQL with BENCH_TRAINING_ORGS_DATABASE_URL (a database it WIPES:
its public schema is dropped, then migrated).

    .venv/bin/python tests/perf/bench_training_orgs.py
    BENCH_TRAINING_ORGS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/certifia_imports_bench \\
        .venv/bin/python tests/perf/bench_training_orgs.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

LINES = int(os.environ.get("BENCH_TRAINING_ORGS_LINES", "100000"))
MAX_SECONDS = 60.0
FLAT = 1.5


def generate(path: Path, n: int) -> None:
    from stdnum import luhn

    from app.referential.training_orgs import PUBLISHED

    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(";".join(PUBLISHED) + "\n")
        for i in range(n):
            base = f"{30000000 + i // 2 if i % 50 == 0 else 30000000 + i:08d}"  # every 50th shares its SIRET
            siren = base + luhn.calc_check_digit(base)
            nic = "0001"
            siret = siren + nic + luhn.calc_check_digit(siren + nic)
            if i % 997 == 0:
                siret = siret[:-1] + str((int(siret[-1]) + 1) % 10)  # a malformed SIRET, skipped
            values = dict.fromkeys(PUBLISHED, "")
            values.update({
                "numeroDeclarationActivite": f"{11000000000 + i}", "denomination": f"ORGANISME DE FORMATION {i}",
                "siren": siren, "siretEtablissementDeclarant": siret,
                "adressePhysiqueOrganismeFormation.voie": f"{i % 200} rue de la Chimie",
                "adressePhysiqueOrganismeFormation.codePostal": "69001",
                "adressePhysiqueOrganismeFormation.ville": "LYON",
                "certifications.actionsDeFormation": "true" if i % 3 else "false",
                "certifications.bilansDeCompetences": "true" if i % 5 == 0 else "false",
                "certifications.VAE": "false", "certifications.actionsDeFormationParApprentissage": "false",
                "informationsDeclarees.dateDerniereDeclaration": f"{1 + i % 28:02d}/0{1 + i % 9}/2026",
                "informationsDeclarees.specialitesDeFormation.codeSpecialite1": "222",
                "informationsDeclarees.specialitesDeFormation.libelleSpecialite1": "Transformations chimiques",
                "informationsDeclarees.nbStagiaires": str(i % 500),
            })
            out.write(";".join(values[name] for name in PUBLISHED) + "\n")


def migrate(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    run(url, ["db", "upgrade"])


def run(url: str, args: list[str]) -> tuple[float, int, str, float]:
    """(seconds, peak RSS in kB of the child, its output, its CPU seconds): /usr/bin/time measures the child
    alone (on a machine shared with other work, the CPU time says what the wall clock cannot)."""
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "app", "APP_ENV": "development"}
    command = ["/usr/bin/time", "-f", "%M %U %S", str(ROOT / ".venv/bin/flask"), *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"échec de flask {' '.join(args)} :\n{done.stdout}\n{done.stderr}")
    peak, user, system = done.stderr.strip().splitlines()[-1].split()
    return seconds, int(peak), done.stdout.strip(), float(user) + float(system)


def main() -> None:
    url = os.environ.get("BENCH_TRAINING_ORGS_DATABASE_URL", "").strip()
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        print(f"Base : {url.split('@')[-1]}")
        results = {}
        for n in (LINES // 10, LINES):
            path = Path(folder) / f"liste-{n}.csv"
            generate(path, n)
            migrate(url)
            first = run(url, ["training-orgs", "import", str(path)])
            again = run(url, ["training-orgs", "import", str(path)])
            results[n] = (first, again)
            size = path.stat().st_size / 1e6
            print(f"{n:>7} lignes ({size:.1f} Mo) : import {first[0]:.1f} s (CPU {first[3]:.1f} s), pic RSS "
                  f"{first[1] / 1024:.0f} Mo ; réimport {again[0]:.1f} s (CPU {again[3]:.1f} s), pic RSS "
                  f"{again[1] / 1024:.0f} Mo")
            print(f"         {first[2].splitlines()[0]}")
        small, large = results[LINES // 10][0], results[LINES][0]
        slowest = max(results[LINES][0][0], results[LINES][1][0])
        ok_time = slowest <= MAX_SECONDS
        ok_memory = large[1] <= small[1] * FLAT
        print(f"{'OK' if ok_time else 'TROP LENT'} : {slowest:.1f} s pour {LINES} lignes (objectif {MAX_SECONDS:.0f} s)")
        print(f"{'OK' if ok_memory else 'MÉMOIRE CROISSANTE'} : pic {large[1] / 1024:.0f} Mo à {LINES} lignes, "
              f"{small[1] / 1024:.0f} Mo à {LINES // 10} (≤ {FLAT}×)")
        if not (ok_time and ok_memory):
            sys.exit(1)


if __name__ == "__main__":
    main()
