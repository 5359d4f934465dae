"""Candidates in bulk from a company's HR export: a CSV (`;` or `,`, UTF-8 with or without BOM, or
Windows-1252) or an XLSX, its first row naming the columns (the candidate's field names, or their French
labels). Every row is checked by the same rules as the form and the API (app/files/identity.py); `preview`
lists every mistake (row, field, message) and writes nothing; `import_candidates` writes all rows or none.
A row naming a candidate the establishment already has (R12: same names and birth date), or one met
earlier in the file, is « already present », not an error. Row numbers are the spreadsheet's: the header
is row 1."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import has_request_context, request
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.core.clock import now as app_now
from app.core.clock import utcnow
from app.core.errors import Conflict, ValidationFailed
from app.core.models import AuditEntry
from app.extensions import db
from app.files.identity import (
    CONTACT_FIELDS,
    FIELD_NAMES_FR,
    IDENTITY_FIELDS,
    FieldErrors,
    clean_contact,
    clean_identity,
)
from app.files.models import Candidate, name_key

MAX_ROWS = 10_000
FIELDS = (*IDENTITY_FIELDS, *CONTACT_FIELDS)
REQUIRED = ("last_name", "first_name", "birth_date")
# French labels of the template, then other words HR exports use; compared without accents, case or punctuation.
LABELS = {
    "last_name": ("Nom de naissance", "Nom", "Nom de famille"),
    "first_name": ("Prénom", "Premier prénom"),
    "birth_date": ("Date de naissance", "Né le", "Née le"),
    "sex": ("Sexe", "Genre"),
    "usage_name": ("Nom d'usage", "Nom marital"),
    "other_first_names": ("Autres prénoms",),
    "birth_place_code": ("Code INSEE du lieu de naissance", "Code du lieu de naissance", "Code INSEE de naissance"),
    "birth_place": ("Commune de naissance", "Lieu de naissance", "Ville de naissance"),
    "birth_country": ("Pays de naissance",),
    "email": ("Adresse email", "Email", "E-mail", "Courriel", "Mail"),
    "phone": ("Téléphone", "Tél", "Portable"),
    "address": ("Adresse postale", "Adresse"),
    "job_title": ("Emploi occupé", "Emploi", "Poste", "Fonction", "Intitulé du poste"),
    "highest_diploma": ("Diplôme le plus élevé", "Diplôme"),
}
TEMPLATE_EXAMPLE = {"last_name": "Martin", "first_name": "Camille", "birth_date": "17/05/1990", "sex": "F",
                    "usage_name": "", "other_first_names": "Marie", "birth_place_code": "69123",
                    "birth_place": "Lyon", "birth_country": "France", "email": "camille.martin@exemple.fr",
                    "phone": "04 72 00 00 00", "address": "", "job_title": "Opératrice de fabrication",
                    "highest_diploma": "Bac professionnel"}
# The template's columns: the required ones first.
TEMPLATE_ORDER = ("last_name", "first_name", "birth_date", "sex", "usage_name", "other_first_names", "birth_place_code",
                  "birth_place", "birth_country", *CONTACT_FIELDS)
FRENCH_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def _word(text: str) -> str:
    """A column's name compared without accents, case, spaces or punctuation."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", plain)


COLUMNS = {_word(name): name for name in FIELDS} | {
    _word(label): name for name, labels in LABELS.items() for label in labels}


@dataclass
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class Preview:
    """What the file would do: the rows to create, those already present, every mistake."""

    columns: list[str] = field(default_factory=list)
    to_create: list[tuple[int, dict]] = field(default_factory=list)
    already_present: list[tuple[int, str]] = field(default_factory=list)  # (row, « Prénom NOM »)
    errors: list[RowError] = field(default_factory=list)

    rows: int = 0  # data rows read (empty rows aside)

    @property
    def error_rows(self) -> int:
        """Data rows with a mistake (the header's mistakes apart)."""
        return len({e.row for e in self.errors if e.row > 1})

    @property
    def header_errors(self) -> list[RowError]:
        return [e for e in self.errors if e.row == 1]


class ImportRefused(ValidationFailed):
    """Some rows are wrong: nothing is written. `row_errors` lists each one."""

    def __init__(self, preview: Preview):
        count = len({e.row for e in preview.errors})
        super().__init__(f"Le fichier contient des erreurs ({count} ligne{'s' if count > 1 else ''}) : "
                         "aucun candidat n'a été créé. Corrigez-les puis déposez le fichier à nouveau.",
                         {"file": [f"Ligne {e.row}, {FIELD_NAMES_FR.get(e.field, e.field)} : {e.message}"
                                   for e in preview.errors[:50]]})
        self.row_errors = preview.errors


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed.for_field("file", message)


# ---------------------------------------------------------------- reading the file


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict") if _is_utf8(data[3:]) else _cp1252(data[3:])
    return data.decode("utf-8") if _is_utf8(data) else _cp1252(data)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise _refuse(f"Ligne {line} : le fichier n'est ni en UTF-8 ni en Windows-1252 (octet 0x"
                      f"{data[error.start:error.start + 1].hex()} illisible). Enregistrez-le en CSV UTF-8.") from None


def _csv_rows(data: bytes) -> list[list]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise _refuse(f"Le fichier CSV est illisible ({error}).") from None


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _refuse("Le classeur XLSX est illisible : enregistrez-le à nouveau depuis votre tableur, ou en "
                      "CSV.") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for _, row in zip(range(MAX_ROWS + 2), sheet.iter_rows(values_only=True), strict=False)]
    finally:
        workbook.close()


def read_rows(data: bytes, filename: str = "") -> list[list]:
    """The file's rows (header first), CSV or XLSX told by its content."""
    if not data:
        raise _refuse("Le fichier est vide.")
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0") or b"\x00" in data[:4096]:
        raise _refuse("Ce format n'est pas reconnu : déposez un fichier CSV (séparé par ; ou ,) ou XLSX.")
    return _csv_rows(data)


# ---------------------------------------------------------------- checking the rows


def _cell(value) -> str | date | None:
    """A cell as text (an XLSX number or date as the spreadsheet shows it)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _birth_date(value):
    """A French HR export writes JJ/MM/AAAA, or AAAA-MM-JJ, or has a date cell: the date, for the identity rules
    to judge (plausible, not in the future…). A text that is no date of the calendar: ValidationFailed."""
    if not isinstance(value, str) or not value.strip():
        return value
    text = value.strip()
    match = FRENCH_DATE.fullmatch(text)
    try:
        if match:
            day, month, year = match.groups()
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.for_field("birth_date", f"La date de naissance « {text[:20]} » n'est pas une date du "
                                         "calendrier (JJ/MM/AAAA ou AAAA-MM-JJ).") from None


def _header(row: list, preview: Preview) -> list[str | None]:
    names: list[str | None] = []
    for value in row:
        text = _cell(value) or ""
        name = COLUMNS.get(_word(text)) if text else None
        if text and name is None:
            preview.errors.append(RowError(1, str(text)[:60], f"Colonne inconnue « {str(text)[:60]} » : les colonnes "
                                           "sont celles du modèle (nom de naissance, prénom, date de naissance…)."))
        elif name is not None and name in names:
            preview.errors.append(RowError(1, name, f"La colonne « {text} » est en double."))
        names.append(name)
    for required in REQUIRED:
        if required not in names:
            preview.errors.append(RowError(1, required, f"La colonne « {LABELS[required][0]} » est obligatoire."))
    preview.columns = [n for n in names if n]
    return names


def _known_keys(establishment_id: int) -> set[tuple]:
    return {tuple(row) for row in db.session.execute(
        select(Candidate.last_name_key, Candidate.first_name_key, Candidate.birth_date)
        .where(Candidate.establishment_id == establishment_id))}


def preview(establishment, data: bytes, filename: str = "") -> Preview:
    """Reads and checks every row; writes nothing."""
    rows = read_rows(data, filename)
    result = Preview()
    if not rows or not any(_cell(v) for v in rows[0]):
        raise _refuse("La première ligne doit nommer les colonnes (nom de naissance, prénom, date de naissance…).")
    names = _header(rows[0], result)
    if any(error.field in REQUIRED for error in result.errors):
        return result  # without a required column every row would say so: the header's mistakes alone
    if len(rows) - 1 > MAX_ROWS:
        raise _refuse(f"Le fichier compte plus de {MAX_ROWS} lignes : découpez-le en plusieurs fichiers.")
    known = _known_keys(establishment.id)
    for number, values in enumerate(rows[1:], start=2):
        cells = {name: _cell(value) for name, value in zip(names, values, strict=False) if name}
        if not any(cells.values()):
            continue  # an empty row of the spreadsheet
        result.rows += 1
        errors = FieldErrors()
        cells["birth_date"] = errors.run(_birth_date, cells.get("birth_date"))
        code = cells.get("birth_place_code")
        if isinstance(code, str) and code.isdigit() and len(code) == 4:
            cells["birth_place_code"] = code.zfill(5)  # a spreadsheet's number lost the leading zero (01053)
        for name in REQUIRED:
            cells.setdefault(name, None)
        identity = clean_identity({k: v for k, v in cells.items() if k in IDENTITY_FIELDS
                                   and k not in errors}, errors)
        contact = clean_contact({k: v for k, v in cells.items() if k in CONTACT_FIELDS}, errors)
        if errors:
            result.errors.extend(RowError(number, name, message) for name, messages in errors.items()
                                 for message in messages)
            continue
        key = (name_key(identity["last_name"]), name_key(identity["first_name"]), identity["birth_date"])
        if key in known:
            result.already_present.append((number, f"{identity['first_name']} {identity['last_name']}"))
            continue
        known.add(key)
        result.to_create.append((number, {**identity, **contact}))
    return result


def import_candidates(establishment, actor, data: bytes, filename: str = "") -> Preview:
    """Creates every new candidate of the file, or none (ImportRefused naming each mistake)."""
    result = preview(establishment, data, filename)
    if result.errors:
        raise ImportRefused(result)
    if result.to_create:
        _insert(establishment.id, actor, [fields_ for _, fields_ in result.to_create])
    return result


def _insert(establishment_id: int, actor, rows: list[dict]) -> None:
    """One multi-row INSERT of the candidates (their ids returned), one of their audit entries: thousands of rows
    without an ORM object each."""
    now, stamp = app_now(), utcnow()
    values = []
    for row in rows:
        first_name, last_name = row["first_name"].strip(), row["last_name"].strip()
        values.append({**dict.fromkeys(FIELDS), **row, "establishment_id": establishment_id, "first_name": first_name,
                       "last_name": last_name, "first_name_key": name_key(first_name),
                       "last_name_key": name_key(last_name), "created_at": now, "updated_at": now})
    try:
        with db.session.begin_nested():
            ids = db.session.scalars(insert(Candidate).returning(Candidate.id, sort_by_parameter_order=True),
                                     values).all()
    except IntegrityError:  # R12's unique constraint: the same candidate created meanwhile (another request)
        raise Conflict.for_field("file", "Un des candidats du fichier vient d'être créé par ailleurs : déposez le "
                                         "fichier à nouveau (il sera compté comme déjà présent).") from None
    page = f"{request.method} {request.path}"[:255] if has_request_context() else None
    ip = request.remote_addr if has_request_context() else None
    db.session.execute(insert(AuditEntry), [
        {"action": "candidate.create", "actor_id": getattr(actor, "id", None), "object_type": "Candidate",
         "object_id": str(ident), "details": {"source": "import"}, "ip": ip, "candidate_id": ident, "page": page,
         "at": stamp} for ident in ids])


# ---------------------------------------------------------------- the template


def template_header() -> list[str]:
    return [LABELS[name][0] for name in TEMPLATE_ORDER]


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(template_header())
    writer.writerow([TEMPLATE_EXAMPLE[name] for name in TEMPLATE_ORDER])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Candidats"
    sheet.append(template_header())
    sheet.append([TEMPLATE_EXAMPLE[name] for name in TEMPLATE_ORDER])
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = max(14, len(str(column[0].value)) + 2)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
