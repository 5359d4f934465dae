"""The public list of training organisations (« Liste publique des organismes de formation », article
L.6351-7-1 du Code du travail) as data.gouv.fr publishes it: a `;`-separated UTF-8 CSV, one line per
declaration (NDA) of an establishment. `import_public_list` streams it into training_organisations in
batches, inside the caller's transaction (the command commits once): idempotent (upsert by SIRET, the
declaration numbers of an establishment replaced by those of the list), a file it cannot read entirely
(unknown column, broken encoding, a value that is not of its column's form) is refused naming the line and
nothing is replaced; a line whose SIRET is malformed is skipped and counted.

Column names and value forms: those of the published file (data.gouv.fr, camelCase with dots, booleans
`true`/`false`, dates `JJ/MM/AAAA`), also accepted as the DGEFP's Opendatasoft export writes them
(lowercase with underscores, dates `AAAA-MM-JJ`), and with `Oui`/`Non` booleans."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.core.clock import utcnow
from app.core.errors import ValidationFailed
from app.extensions import db
from app.referential.training_org_models import (
    SOURCE_PUBLIC_LIST,
    TrainingOrganisation,
    TrainingOrgNda,
)

BATCH_SIZE = 2000
NDA = "numeroDeclarationActivite"
PREVIOUS_NDAS = "numerosDeclarationActivitePrecedent"
NAME = "denomination"
SIREN = "siren"
SIRET = "siretEtablissementDeclarant"
CERTIFICATIONS = {
    "actions_formation": "certifications.actionsDeFormation",
    "bilans_competences": "certifications.bilansDeCompetences",
    "vae": "certifications.VAE",
    "apprentissage": "certifications.actionsDeFormationParApprentissage",
}
LAST_DECLARATION = "informationsDeclarees.dateDerniereDeclaration"
SPECIALITY = "informationsDeclarees.specialitesDeFormation.{}Specialite{}"
REQUIRED = (NDA, NAME, SIRET, *CERTIFICATIONS.values())
# Published columns read or knowingly ignored (address, foreign organisation represented, trainees…).
PUBLISHED = (
    NDA, PREVIOUS_NDAS, NAME, SIREN, SIRET,
    "adressePhysiqueOrganismeFormation.voie", "adressePhysiqueOrganismeFormation.codePostal",
    "adressePhysiqueOrganismeFormation.ville", "adressePhysiqueOrganismeFormation.codeRegion", "geocodageban",
    *CERTIFICATIONS.values(),
    "organismeEtrangerRepresente.denomination", "organismeEtrangerRepresente.voie",
    "organismeEtrangerRepresente.codePostal", "organismeEtrangerRepresente.ville", "organismeEtrangerRepresente.pays",
    LAST_DECLARATION, "informationsDeclarees.debutExercice", "informationsDeclarees.finExercice",
    *(SPECIALITY.format(kind, n) for n in (1, 2, 3) for kind in ("code", "libelle")),
    "informationsDeclarees.nbStagiaires", "informationsDeclarees.nbStagiairesConfiesParUnAutreOF",
    "informationsDeclarees.effectifFormateurs",
)
# What the Opendatasoft export adds (geographic enrichment, a random id): ignored.
OPENDATASOFT_EXTRAS = ("com_arm_code", "com_arm_name", "epci_code", "epci_name", "dep_code", "dep_name", "reg_name",
                       "reg_code", "toutes_specialites", "organisme_formation_geocode", "certifications", "random_id")
TRUE_WORDS = {"true", "oui", "vrai", "1", "o"}
FALSE_WORDS = {"false", "non", "faux", "0", "n", ""}
DIGITS = re.compile(r"\d+")


def _key(column: str) -> str:
    """A column's name in either published form: certifications.VAE and certifications_vae are one."""
    return column.strip().lower().replace(".", "_")


KNOWN = {_key(name): name for name in (*PUBLISHED, *OPENDATASOFT_EXTRAS)}


class ImportRefused(ValidationFailed):
    """The file cannot be read entirely: nothing is replaced."""


@dataclass
class ImportSummary:
    lines: int = 0
    organisations: int = 0
    created: int = 0
    skipped_siret: int = 0
    skipped_lines: list[int] = field(default_factory=list)
    withdrawn: int = 0

    @property
    def updated(self) -> int:
        return self.organisations - self.created


def _decoded_lines(stream: BinaryIO, progress: Callable[[int], None] | None) -> Iterator[str]:
    """The file's lines as text, strictly UTF-8 (a BOM dropped): a byte that is not names its line."""
    for number, raw in enumerate(stream, start=1):
        if progress is not None:
            progress(len(raw))
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            bad = raw[error.start:error.start + 1].hex()
            raise ImportRefused(
                f"Ligne {number} : le fichier n'est pas en UTF-8 (octet 0x{bad} illisible). La liste publique des "
                "organismes de formation est publiée en UTF-8 : téléchargez-la à nouveau sans la convertir. "
                "Rien n'a été remplacé.") from None
        yield text


def _header(row: list[str]) -> dict[str, int]:
    """Published column name → position; an unknown or missing column refuses the file (line 1)."""
    positions: dict[str, int] = {}
    unknown = []
    for index, column in enumerate(row):
        name = KNOWN.get(_key(column))
        if name is None:
            unknown.append(column.strip())
        else:
            positions[name] = index
    if unknown:
        names = ", ".join(f"« {name} »" for name in unknown[:5])
        raise ImportRefused(
            f"Ligne 1 : {'colonne inconnue' if len(unknown) == 1 else 'colonnes inconnues'} {names} : ce fichier "
            "n'a pas les colonnes de la liste publique des organismes de formation (data.gouv.fr). Rien n'a été "
            "remplacé.")
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise ImportRefused(f"Ligne 1 : {'colonne absente' if len(missing) == 1 else 'colonnes absentes'} "
                            f"{', '.join(missing)}. Rien n'a été remplacé.")
    return positions


def _boolean(value: str, line: int, column: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImportRefused(f"Ligne {line} : la colonne {column} vaut « {value[:40]} » (attendu true/false ou Oui/Non). "
                        "Rien n'a été remplacé.")


def _date(value: str, line: int, column: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ImportRefused(f"Ligne {line} : la colonne {column} vaut « {text[:40]} » (attendu une date JJ/MM/AAAA). "
                            "Rien n'a été remplacé.") from None


_DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]  # the Luhn digit of 2 × d


def _luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        total += _DOUBLED[int(digit)] if position % 2 else int(digit)
    return total % 10 == 0


def valid_siret(value: str) -> str | None:
    """14 digits with their Luhn keys (SIREN and SIRET; La Poste's establishments, SIREN 356000000, by the sum of
    their digits, the head office aside), as python-stdnum's fr.siret checks them: inline, the list has 100,000 of them."""
    digits = "".join(value.split())
    if len(digits) != 14 or not digits.isascii() or not digits.isdigit() or not _luhn(digits[:9]):
        return None
    if digits[:9] == "356000000" and digits != "35600000000048":  # the head office keeps the Luhn key
        return digits if sum(int(d) for d in digits) % 5 == 0 else None
    return digits if _luhn(digits) else None


def _row(values: list[str], columns: dict[str, int], line: int) -> dict | None:
    """One line as an organisation (None: its SIRET is malformed)."""
    def get(name: str) -> str:
        index = columns.get(name)
        return values[index] if index is not None and index < len(values) else ""

    siret = valid_siret(get(SIRET))
    if siret is None:
        return None
    nda = "".join(get(NDA).split())
    specialities = []
    for n in (1, 2, 3):
        code, label = get(SPECIALITY.format("code", n)).strip(), get(SPECIALITY.format("libelle", n)).strip()
        if code or label:
            specialities.append({"code": code[:8], "label": label[:255]})
    row = {
        "siret": siret, "siren": (get(SIREN).strip() or siret[:9])[:9], "name": get(NAME).strip()[:255],
        "last_declaration_on": _date(get(LAST_DECLARATION), line, LAST_DECLARATION),
        "specialities": specialities or None,
        "ndas": {nda: True} if nda else {},
    }
    for category, column in CERTIFICATIONS.items():
        row[f"qualiopi_{category}"] = _boolean(get(column), line, column)
    for previous in DIGITS.findall(get(PREVIOUS_NDAS)):
        row["ndas"].setdefault(previous, False)  # an earlier declaration of the same organisation: lapsed
    return row


def _merge(batch: dict[str, dict], row: dict) -> None:
    """An establishment on several lines (several NDAs): its declarations and certifications add up."""
    same = batch.get(row["siret"])
    if same is None:
        batch[row["siret"]] = row
        return
    for name, value in row.items():
        if name.startswith("qualiopi_"):
            same[name] = same[name] or value
    for number, active in row["ndas"].items():
        same["ndas"][number] = same["ndas"].get(number, False) or active
    same["last_declaration_on"] = max(filter(None, (same["last_declaration_on"], row["last_declaration_on"])),
                                      default=None)


def _insert(table):
    """INSERT … ON CONFLICT of the session's dialect (PostgreSQL or SQLite)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _write(batch: dict[str, dict], stamp: datetime) -> None:
    """One batch: the earlier declarations of the organisations seen for the first time in this import are
    forgotten, the organisations upserted (a second line of the same SIRET in a later batch adds up), their
    declarations inserted."""
    orgs, ndas = TrainingOrganisation.__table__, TrainingOrgNda.__table__
    sirets = list(batch)
    first_seen = select(orgs.c.id).where(orgs.c.siret.in_(sirets), orgs.c.checked_at != stamp)
    db.session.execute(ndas.delete().where(ndas.c.organisation_id.in_(first_seen)))
    rows = [{**{k: v for k, v in row.items() if k != "ndas"}, "source": SOURCE_PUBLIC_LIST, "checked_at": stamp}
            for row in batch.values()]
    statement = _insert(orgs)
    again = orgs.c.checked_at == stamp
    merged = {f"qualiopi_{c}": func.coalesce(orgs.c[f"qualiopi_{c}"] & again, False) | statement.excluded[f"qualiopi_{c}"]
              for c in CERTIFICATIONS}
    statement = statement.on_conflict_do_update(index_elements=[orgs.c.siret], set_={
        "siren": statement.excluded.siren, "name": statement.excluded.name,
        "last_declaration_on": statement.excluded.last_declaration_on, "specialities": statement.excluded.specialities,
        "source": statement.excluded.source, "checked_at": statement.excluded.checked_at, **merged,
    }).returning(orgs.c.id, orgs.c.siret)
    ids = {siret: ident for ident, siret in db.session.execute(statement, rows)}
    declarations = [{"organisation_id": ids[siret], "number": number[:16], "active": active}
                    for siret, row in batch.items() for number, active in row["ndas"].items()]
    if declarations:
        insert_ndas = _insert(ndas)
        insert_ndas = insert_ndas.on_conflict_do_update(
            index_elements=[ndas.c.organisation_id, ndas.c.number],
            set_={"active": ndas.c.active | insert_ndas.excluded.active})
        db.session.execute(insert_ndas, declarations)


def import_public_list(stream: BinaryIO, progress: Callable[[int], None] | None = None,
                       batch_size: int = BATCH_SIZE) -> ImportSummary:
    """Reads the whole list into the session's transaction (the caller commits, or rolls back on
    ImportRefused). An organisation of the list imported earlier and absent from this one has left the public
    list: its declarations become inactive."""
    summary = ImportSummary()
    stamp = utcnow()
    orgs = TrainingOrganisation.__table__
    before = db.session.scalar(select(func.count()).select_from(orgs))
    lines = _decoded_lines(stream, progress)
    reader = csv.reader(lines, delimiter=";")
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused("Ligne 1 : le fichier est vide. Rien n'a été remplacé.") from None
    if len(header) == 1 and "," in header[0]:
        raise ImportRefused("Ligne 1 : les colonnes sont séparées par des virgules ; la liste publique l'est par des "
                            "points-virgules (;). Rien n'a été remplacé.")
    columns = _header(header)
    batch: dict[str, dict] = {}
    try:
        for values in reader:
            if not any(value.strip() for value in values):
                continue  # a blank line (the last one, often) is no row
            summary.lines += 1
            row = _row(values, columns, reader.line_num)
            if row is None:
                summary.skipped_siret += 1
                if len(summary.skipped_lines) < 10:
                    summary.skipped_lines.append(reader.line_num)
                continue
            _merge(batch, row)
            if len(batch) >= batch_size:
                _write(batch, stamp)
                batch = {}
    except csv.Error as error:
        raise ImportRefused(f"Ligne {reader.line_num} : ligne CSV illisible ({error}). Rien n'a été remplacé.") from None
    if batch:
        _write(batch, stamp)
    summary.organisations = db.session.scalar(select(func.count()).select_from(orgs).where(orgs.c.checked_at == stamp))
    summary.created = db.session.scalar(select(func.count()).select_from(orgs)) - before
    summary.withdrawn = _withdraw_absent(stamp)
    return summary


def _withdraw_absent(stamp: datetime) -> int:
    """Organisations of an earlier list absent from this one: no longer on the public list, NDA inactive."""
    orgs, ndas = TrainingOrganisation.__table__, TrainingOrgNda.__table__
    absent = select(orgs.c.id).where(orgs.c.source == SOURCE_PUBLIC_LIST, orgs.c.checked_at != stamp)
    count = db.session.scalar(select(func.count()).select_from(absent.subquery()))
    if count:
        db.session.execute(update(ndas).where(ndas.c.organisation_id.in_(absent), ndas.c.active.is_(True))
                           .values(active=False))
    return count
