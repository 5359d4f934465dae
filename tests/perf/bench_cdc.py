"""Benchmark of the CPF register's flux (`make bench`): 50,000 holders written by app.jury.cdc.write_flux
(lxml.etree.xmlfile, one passage at a time), each checked first as create_export checks it (missing_of,
against the bundled geographic code). Prints the time and the tracemalloc peak for 5,000 and 50,000 holders:
the peak must not grow with the count (flat memory), and 50,000 must take at most 30 s. The 5,000-holder flux
is validated against the Caisse des Dépôts' XSD (tests/data/cdc/cpf.xsd).

The holders come from a generator (not the database): the database side streams them the same way
(`yield_per`), see app/jury/cdc.py `_ready_holders`.

    .venv/bin/python tests/perf/bench_cdc.py
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

HOLDERS = int(os.environ.get("BENCH_CDC_HOLDERS", "50000"))
MAX_SECONDS = 30.0
PLACES = [("69123", "Lyon", None), ("75115", "Paris 15e Arrondissement", None), ("2A004", "Ajaccio", None),
          ("99109", "Berlin", "Allemagne"), ("97411", "Saint-Denis", None)]
SCHEMES = ["contrat_professionnalisation", "vae", "plan_developpement_competences", None]


def holders(n: int):
    from app.jury.cdc import Holder, _cached_lookup, missing_of

    lookup = _cached_lookup()  # as create_export looks the codes up
    for i in range(n):
        code, place, country = PLACES[i % len(PLACES)]
        item = Holder(
            file_id=i + 1, candidate_id=i + 1, number=f"CQP-2027-{i + 1:06d}", version=1,
            holder={"first_name": "Élodie" if i % 2 else "Jean-François", "last_name": f"D'Aubigné{i}",
                    "usage_name": "Martin" if i % 3 == 0 else None,
                    "other_first_names": ["Zoé", "Anaïs"] if i % 7 == 0 else [],
                    "birth_date": date(1970 + i % 35, 1 + i % 12, 1 + i % 28).isoformat(),
                    "sex": "F" if i % 2 else "M", "birth_place_code": code, "birth_place": place,
                    "birth_country": country},
            jury_date=date(2027, 6, 15), cqp_code=f"CQP{i * 4 // n}", repertoire="RNCP",
            repertoire_code=f"RNCP3584{i * 4 // n}", training_scheme=SCHEMES[i % len(SCHEMES)])
        item.missing = missing_of(item.holder, lookup)
        assert not item.missing, item.missing
        yield item


def build(n: int, path: Path, *, trace: bool) -> tuple[float, int]:
    """(seconds, tracemalloc peak in bytes, or 0 untraced): tracing slows every allocation down, so the time
    is measured on an untraced run and the memory on a traced one."""
    from app.jury.cdc import write_flux

    holders(1).__next__()  # the geographic code loaded before measuring
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    with open(path, "wb") as out:
        count = write_flux(out, "bench-flux", "03VML243", "MCFCER000209",
                           holders(n), "https://certifia.example",
                           timestamp=datetime(2027, 6, 20, 10, 0))
    elapsed = time.perf_counter() - start
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert count == n, count
    return elapsed, peak


def main() -> int:
    from lxml import etree

    from app import create_app

    app = create_app({"APP_ENV": "testing", "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    schema = etree.XMLSchema(etree.parse(str(Path(__file__).resolve().parents[1] / "data" / "cdc" / "cpf.xsd")))
    with app.app_context(), tempfile.TemporaryDirectory() as tmp:
        _, small_peak = build(HOLDERS // 10, Path(tmp) / "small.xml", trace=True)
        if not schema.validate(etree.parse(str(Path(tmp) / "small.xml"))):
            print(schema.error_log, file=sys.stderr)
            return 1
        _, big_peak = build(HOLDERS, Path(tmp) / "big.xml", trace=True)
        big_time, _ = build(HOLDERS, Path(tmp) / "big.xml", trace=False)
        size = (Path(tmp) / "big.xml").stat().st_size
    print(f"Flux CPF, {HOLDERS // 10} titulaires : pic mémoire Python {small_peak / 1e3:.0f} Ko (valide selon le XSD)")
    print(f"Flux CPF, {HOLDERS} titulaires : {big_time:.1f} s, pic mémoire Python {big_peak / 1e3:.0f} Ko, "
          f"fichier {size / 1e6:.0f} Mo ; mémoire résidente maximale du processus "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} Mo (lxml compris)")
    ok = big_time <= MAX_SECONDS and big_peak <= 2 * small_peak + 1_000_000
    if not ok:
        print(f"ÉCHEC : au plus {MAX_SECONDS:.0f} s et une mémoire plate sont attendus.", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
