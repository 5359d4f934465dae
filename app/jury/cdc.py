"""The CPF register (R16): which holders go to the Caisse des Dépôts, the XML flux (valid against the CDC's
XSD, namespace urn:cdc:cpf:pc5:schema:1.0.0, written incrementally so that thousands of holders take flat
memory) and the import of the CDC's processing report. Every function flushes, never commits."""

from __future__ import annotations

import calendar
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date
from itertools import groupby
from pathlib import Path

from flask import current_app, g
from lxml import etree
from sqlalchemy import and_, exists, func, insert, select

from app.core.clock import now, today
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.templating import PARIS, pluriel
from app.extensions import db
from app.files.models import CandidateFile, FileStatus
from app.jury.cdc_models import CdcExport, CdcPassage
from app.jury.models import Decision, JurySession, Parchment, ParchmentVersion
from app.referential.models import Cqp

CPF_NS = "urn:cdc:cpf:pc5:schema:1.0.0"
REPORT_NS = "urn:cdc:cpf:pc5:rapport:schema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"cpf": CPF_NS, "xsi": XSI_NS}
MAX_TEXT = 60  # nomNaissance, nomUsage, prenom1..3, libellés: at most 60 characters in the XSD

# The file's training scheme -> the XSD's modaliteAcces.
ACCESS_MODES = {
    "contrat_professionnalisation": "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION",
    "vae": "VAE",
    "apprentissage": "FORMATION_INITIALE_APPRENTISSAGE",
    "periode_professionnalisation": "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "plan_developpement_competences": "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "pro_a": "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "autre": "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
}

FIELD_LABELS = {
    "sex": "sexe",
    "last_name": "nom de naissance",
    "usage_name": "nom d'usage",
    "first_name": "prénom",
    "other_first_names": "autres prénoms",
    "birth_date": "date de naissance",
    "birth_place_code": "code INSEE du lieu de naissance",
    "birth_place": "commune de naissance",
    "birth_country": "pays de naissance",
}

STATUS_LABELS = {
    "a_transmettre": "À transmettre",
    "transmis": "Transmis",
    "accepte": "Accepté",
    "rejete": "Rejeté",
}

CHUNK = 1000


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deadline_of(jury_date: date) -> date:
    """R16: within 3 months of the jury date."""
    return add_months(jury_date, 3)


# ---------------------------------------------------------------- identity as the XSD wants it


def _place(code: str):
    from app.referential import geography

    return geography.lookup(code)


def missing_of(holder: dict, place_lookup=_place) -> list[str]:
    """What the XSD (and the CDC) would refuse of this frozen identity: the fields missing or invalid
    (empty when it can be sent)."""
    missing: list[str] = []

    def text(name: str, required: bool) -> None:
        value = (holder.get(name) or "").strip()
        if (required and not value) or len(value) > MAX_TEXT:
            missing.append(name)

    if holder.get("sex") not in ("M", "F"):
        missing.append("sex")
    text("last_name", True)
    text("usage_name", False)
    text("first_name", True)
    others = holder.get("other_first_names") or []
    if len(others) > 2 or any(not str(o).strip() or len(str(o).strip()) > MAX_TEXT for o in others):
        missing.append("other_first_names")
    birth = holder.get("birth_date")
    try:
        born = date.fromisoformat(birth) if birth else None
    except (TypeError, ValueError):
        born = None
    if born is None or not 1900 <= born.year <= 2099:
        missing.append("birth_date")
    code = (holder.get("birth_place_code") or "").strip().upper()
    abroad = code.startswith("99")
    if len(code) != 5 or place_lookup(code) is None:
        missing.append("birth_place_code")
    text("birth_place", bool(code) and not abroad)
    text("birth_country", abroad)
    return missing


def describe_missing(missing: Iterable[str]) -> str:
    return ", ".join(FIELD_LABELS.get(name, name) for name in missing)


# ---------------------------------------------------------------- who is to be sent


@dataclass
class Holder:
    """A holder to send (or to complete before sending), as the register page and the flux see them."""

    file_id: int
    candidate_id: int
    number: str
    version: int | None
    holder: dict
    jury_date: date
    cqp_code: str
    repertoire: str
    repertoire_code: str
    training_scheme: str | None
    status: str = "a_transmettre"
    error: str | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def deadline(self) -> date:
        return deadline_of(self.jury_date)

    @property
    def overdue(self) -> bool:
        return self.status in ("a_transmettre", "rejete") and self.deadline < today()

    @property
    def name(self) -> str:
        h = self.holder
        return " ".join(p for p in (h.get("first_name"), h.get("usage_name") or h.get("last_name")) if p)


def _registered_valide() -> select:
    """(file, parchment, current version, jury session, cqp) of every `valide` file of a published session
    on a CQP registered in the RNCP or the RS, ordered by CQP then file."""
    latest = (select(ParchmentVersion.parchment_id, func.max(ParchmentVersion.version).label("version"))
              .group_by(ParchmentVersion.parchment_id).subquery())
    return (
        select(CandidateFile.id, CandidateFile.candidate_id, CandidateFile.training_scheme, Parchment.id,
               Parchment.number, ParchmentVersion.version, ParchmentVersion.holder, JurySession.date,
               Cqp.code, Cqp.repertoire, Cqp.repertoire_code)
        .join(Decision, Decision.file_id == CandidateFile.id)
        .join(JurySession, JurySession.id == Decision.session_id)
        .join(Cqp, Cqp.id == CandidateFile.cqp_id)
        .join(Parchment, Parchment.file_id == CandidateFile.id)
        .outerjoin(latest, latest.c.parchment_id == Parchment.id)
        .outerjoin(ParchmentVersion, and_(ParchmentVersion.parchment_id == Parchment.id,
                                          ParchmentVersion.version == latest.c.version))
        .where(CandidateFile.status == FileStatus.VALIDE.value, JurySession.published_at.is_not(None),
               Cqp.repertoire_code.is_not(None), Cqp.repertoire_code != "")
        .order_by(Cqp.code, CandidateFile.id)
    )


def _holder_of_row(row, lookup) -> Holder:
    (file_id, candidate_id, scheme, parchment_id, number, version, holder, jury_date, cqp_code, repertoire,
     repertoire_code) = row
    if holder is None:  # a parchment written without a version (bulk tools): its version 1 is the candidate now
        from app.jury.versions import ensure_first_version

        current = ensure_first_version(db.session.get(Parchment, parchment_id))
        holder, version = current.holder, current.version
    code = repertoire_code.strip().upper()
    item = Holder(file_id=file_id, candidate_id=candidate_id, number=number, version=version, holder=holder or {},
                  jury_date=jury_date, cqp_code=cqp_code,
                  repertoire=(repertoire or ("RS" if code.startswith("RS") else "RNCP")), repertoire_code=code,
                  training_scheme=scheme)
    item.missing = missing_of(item.holder, lookup)
    return item


def _cached_lookup():
    cache: dict[str, object] = {}

    def lookup(code: str):
        if code not in cache:
            cache[code] = _place(code)
        return cache[code]
    return lookup


def _last_passages(file_ids: list[int] | None = None) -> dict[int, CdcPassage]:
    """The last passage sent of each file (its CPF status), by file id."""
    last = select(func.max(CdcPassage.id)).group_by(CdcPassage.file_id)
    if file_ids is not None:
        last = last.where(CdcPassage.file_id.in_(file_ids))
    passages = db.session.scalars(select(CdcPassage).where(CdcPassage.id.in_(last))).all()
    return {p.file_id: p for p in passages}


def register_entries() -> list[Holder]:
    """Every holder of the register with its CPF status, overdue ones first, then by deadline."""
    lookup = _cached_lookup()
    items = [_holder_of_row(row, lookup) for row in db.session.execute(_registered_valide())]
    last = _last_passages()
    for item in items:
        passage = last.get(item.file_id)
        if passage is not None:
            item.status, item.error = passage.status, passage.error
    items.sort(key=lambda i: (not i.overdue, i.status == "accepte", i.deadline, i.file_id))
    return items


def overdue_count() -> int:
    """How many holders are past their deadline and neither accepted nor awaiting a report (one query,
    grouped by jury date: the secretariat's home shows it)."""
    query = (select(JurySession.date, func.count())
             .select_from(CandidateFile)
             .join(Decision, Decision.file_id == CandidateFile.id)
             .join(JurySession, JurySession.id == Decision.session_id)
             .join(Cqp, Cqp.id == CandidateFile.cqp_id)
             .join(Parchment, Parchment.file_id == CandidateFile.id)
             .where(CandidateFile.status == FileStatus.VALIDE.value, JurySession.published_at.is_not(None),
                    Cqp.repertoire_code.is_not(None), Cqp.repertoire_code != "", ~_already_sent(),
                    JurySession.date < today())
             .group_by(JurySession.date))
    current = today()
    return sum(count for day, count in db.session.execute(query) if deadline_of(day) < current)


def _cpf_session(file: CandidateFile) -> JurySession | None:
    """The published session of a `valide` file on a registered CQP (its CPF status is due), else None."""
    if file.status != FileStatus.VALIDE.value or file.decision is None:
        return None
    session = file.decision.jury_session
    if session is None or session.published_at is None or not getattr(file.cqp, "repertoire_code", None):
        return None
    return session


def preload_cpf(files: Iterable[CandidateFile]) -> None:
    """The last passage of each `valide` file of a list, read in one statement for the request (g), so that
    cpf_of_file reads none per file."""
    ids = [f.id for f in files if _cpf_session(f) is not None]
    if ids:
        found = _last_passages(ids)
        g.setdefault("cpf_passages", {}).update({i: found.get(i) for i in ids})


def cpf_of_file(file: CandidateFile) -> dict | None:
    """`cpf: {status, deadline, error}` of a `valide` file on a registered CQP, published; else None."""
    session = _cpf_session(file)
    if session is None:
        return None
    preloaded = g.get("cpf_passages", {})
    passage = preloaded[file.id] if file.id in preloaded else _last_passages([file.id]).get(file.id)
    return {"status": passage.status if passage else "a_transmettre",
            "deadline": deadline_of(session.date).isoformat(), "error": passage.error if passage else None}


# ---------------------------------------------------------------- the flux


def missing_settings() -> list[str]:
    config = current_app.config
    return [name for name in ("CDC_ID_CLIENT", "CDC_ID_CONTRAT") if not (config.get(name) or "").strip()]


def _check_settings() -> tuple[str, str]:
    missing = missing_settings()
    if missing:
        raise Conflict("Configuration manquante pour le registre CPF : " + " et ".join(missing)
                       + " (identifiants donnés par la Caisse des Dépôts).")
    client = current_app.config["CDC_ID_CLIENT"].strip()
    contract = current_app.config["CDC_ID_CONTRAT"].strip()
    if len(client) != 8:
        raise Conflict(f"CDC_ID_CLIENT doit compter 8 caractères (reçu : {client!r}).")
    if len(contract) > 20:
        raise Conflict(f"CDC_ID_CONTRAT compte au plus 20 caractères (reçu : {contract!r}).")
    return client, contract


def _el(xf, name: str, text) -> None:
    """A leaf written inside the open elements (their namespace declarations serve: none repeated)."""
    if text is None:
        with xf.element(f"{{{CPF_NS}}}{name}", {f"{{{XSI_NS}}}nil": "true"}):
            pass
    else:
        with xf.element(f"{{{CPF_NS}}}{name}"):
            xf.write(str(text))


def _passage_element(item: Holder, base_url: str) -> etree._Element:
    cpf = f"{{{CPF_NS}}}"
    nil = f"{{{XSI_NS}}}nil"
    p = etree.Element(cpf + "passageCertification", nsmap=NSMAP)

    def sub(parent, name, text):
        e = etree.SubElement(parent, cpf + name)
        if text is None:
            e.set(nil, "true")
        else:
            e.text = str(text)
        return e

    sub(p, "idTechnique", item.number)
    sub(p, "urlPreuve", f"{base_url}/verifier/{item.number}")
    sub(p, "obtentionCertification", "PAR_ADMISSION")
    sub(p, "donneeCertifiee", "true")
    sub(p, "dateDebutValidite", item.jury_date.isoformat())
    sub(p, "dateFinValidite", None)
    sub(p, "presenceNiveauLangueEuro", "false")
    sub(p, "presenceNiveauNumeriqueEuro", "false")
    sub(p, "scoring", None)
    sub(p, "mentionValidee", None)
    modes = etree.SubElement(p, cpf + "modalitesInscription")
    sub(modes, "modaliteAcces", ACCESS_MODES.get(item.training_scheme or ""))
    ident = etree.SubElement(p, cpf + "identificationTitulaire")
    t = etree.SubElement(ident, cpf + "titulaire")
    h = item.holder
    born = date.fromisoformat(h["birth_date"])
    sub(t, "nomNaissance", h["last_name"].strip())
    sub(t, "nomUsage", (h.get("usage_name") or "").strip() or None)
    sub(t, "prenom1", h["first_name"].strip())
    for index, other in enumerate(h.get("other_first_names") or [], start=2):
        sub(t, f"prenom{index}", str(other).strip())
    sub(t, "anneeNaissance", born.year)
    sub(t, "moisNaissance", born.month)
    sub(t, "jourNaissance", born.day)
    sub(t, "sexe", h["sex"])
    commune = etree.SubElement(t, cpf + "codeCommuneNaissance")
    insee = etree.SubElement(commune, cpf + "codeInseeNaissance")
    sub(insee, "codeInsee", h["birth_place_code"].strip().upper())
    if (h.get("birth_place") or "").strip():
        sub(t, "libelleCommuneNaissance", h["birth_place"].strip())
    country = (h.get("birth_country") or "").strip() or (
        None if h["birth_place_code"].startswith("99") else "France")
    if country:
        sub(t, "libellePaysNaissance", country)
    return p


def write_flux(out, flux_id: str, client: str, contract: str, holders: Iterable[Holder], base_url: str,
               timestamp=None) -> int:
    """Writes the flux to `out` (a binary file) one passage at a time; `holders` in CQP order. The number
    of passages written."""
    cpf = f"{{{CPF_NS}}}"
    stamp = (timestamp or now()).replace(tzinfo=None)
    horodatage = stamp.replace(tzinfo=UTC).astimezone(PARIS).isoformat(timespec="seconds")
    count = 0
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(cpf + "flux", nsmap=NSMAP):
            _el(xf, "idFlux", flux_id)
            _el(xf, "horodatage", horodatage)
            with xf.element(cpf + "emetteur"):
                _el(xf, "idClient", client)
                with xf.element(cpf + "certificateurs"), xf.element(cpf + "certificateur"):
                    _el(xf, "idClient", client)
                    _el(xf, "idContrat", contract)
                    with xf.element(cpf + "certifications"):
                        for (repertoire, code), group in groupby(holders, key=lambda i: (i.repertoire,
                                                                                        i.repertoire_code)):
                            with xf.element(cpf + "certification"):
                                _el(xf, "type", repertoire)
                                _el(xf, "code", code)
                                _el(xf, "natureDeposant", "CERTIFICATEUR")
                                with xf.element(cpf + "passageCertifications"):
                                    for item in group:
                                        xf.write(_passage_element(item, base_url))
                                        count += 1
                                        if count % CHUNK == 0:
                                            xf.flush()
    return count


def flux_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "cdc"


def flux_path(export: CdcExport) -> Path:
    return flux_dir() / f"{export.flux_id}.xml"


def _already_sent() -> select:
    return exists().where(CdcPassage.file_id == CandidateFile.id, CdcPassage.status.in_(("transmis", "accepte")))


def pending() -> tuple[list[Holder], list[Holder]]:
    """(ready, incomplete): the holders not yet in an accepted flux or one awaiting its report."""
    lookup = _cached_lookup()
    ready, incomplete = [], []
    for row in db.session.execute(_registered_valide().where(~_already_sent())):
        item = _holder_of_row(row, lookup)
        (incomplete if item.missing else ready).append(item)
    return ready, incomplete


def _ready_holders(incomplete: list[Holder], record_passage) -> Iterable[Holder]:
    """The holders to send, streamed from the database (`yield_per`): each one is recorded as a passage
    as it is written; the incomplete ones are collected into `incomplete` instead."""
    lookup = _cached_lookup()
    query = _registered_valide().where(~_already_sent()).execution_options(yield_per=CHUNK)
    for row in db.session.execute(query):
        item = _holder_of_row(row, lookup)
        if item.missing:
            incomplete.append(item)
        else:
            record_passage(item)
            yield item


def create_export(actor) -> tuple[CdcExport, list[Holder]]:
    """Builds the next flux: every holder ready, once, written as it is read (flat memory). 409 without
    the CDC's identifiers or with nothing new (nothing written then). Returns the export and the holders
    left out (identity to complete)."""
    client, contract = _check_settings()
    directory = flux_dir()
    directory.mkdir(parents=True, exist_ok=True)
    base_url = current_app.config["BASE_URL"].rstrip("/")
    incomplete: list[Holder] = []
    export = CdcExport(flux_id=str(uuid.uuid4()), created_at=now(), created_by_id=getattr(actor, "id", None))
    path = flux_path(export)
    partial = path.with_suffix(".part")
    try:
        with db.session.begin_nested():  # nothing stays of a refused export
            db.session.add(export)
            db.session.flush()
            rows: list[dict] = []

            def record_passage(item: Holder) -> None:
                rows.append({"export_id": export.id, "file_id": item.file_id, "number": item.number,
                             "version": item.version, "status": "transmis"})
                if len(rows) >= CHUNK:
                    db.session.execute(insert(CdcPassage), rows)
                    rows.clear()

            with open(partial, "wb") as out:
                count = write_flux(out, export.flux_id, client, contract, _ready_holders(incomplete, record_passage),
                                   base_url, timestamp=export.created_at)
            if rows:
                db.session.execute(insert(CdcPassage), rows)
            if not count:
                detail = ""
                if incomplete:
                    detail = (f" ({pluriel(len(incomplete), 'identité')} à compléter avant l'envoi : voir le "
                              "registre CPF)")
                raise Conflict("Aucun titulaire à transmettre au registre CPF : tous ont déjà été transmis ou "
                               "acceptés" + detail + ".")
            export.passages_count = count
            db.session.flush()
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return export, incomplete


def exports() -> list[CdcExport]:
    return list(db.session.scalars(select(CdcExport).order_by(CdcExport.id.desc())))


def get_export(export_id: int) -> CdcExport:
    export = db.session.get(CdcExport, export_id)
    if export is None:
        raise NotFound(f"Le flux {export_id} n'existe pas.")
    return export


def export_json(export: CdcExport) -> dict:
    return {"id": export.id, "flux_id": export.flux_id, "created_at": export.created_at,
            "passages": export.passages_count, "accepted": export.accepted, "rejected": export.rejected,
            "report_received_at": export.report_received_at}


# ---------------------------------------------------------------- the CDC's processing report


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element, name: str) -> list:
    return [c for c in element if isinstance(c.tag, str) and _local(c) == name]


def _text_of(element, name: str) -> str | None:
    found = _children(element, name)
    return (found[0].text or "").strip() if found else None


def parse_report(content: bytes) -> dict:
    """{flux_id, report_id, ok: [idTechnique], ko: {idTechnique: message}} of a processing report; 422 with a
    French message when it is not one. Entities are not resolved and nothing is fetched (no XXE)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             dtd_validation=False, remove_comments=True)
    try:
        root = etree.fromstring(content, parser)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise ValidationFailed.for_field("file", "Le rapport n'est pas un fichier XML lisible "
                                                 f"({error}).") from None
    namespace = etree.QName(root).namespace
    if _local(root) != "rapport" or namespace not in (REPORT_NS, None):
        raise ValidationFailed.for_field("file", "Ce fichier n'est pas un rapport de traitement de la Caisse des "
                                                 f"Dépôts (élément racine « rapport » de l'espace {REPORT_NS} "
                                                 "attendu).")
    flux_id = _text_of(root, "idFlux")
    if not flux_id:
        raise ValidationFailed.for_field("file", "Le rapport ne donne pas d'idFlux.")
    ok: list[str] = []
    for block in _children(root, "PassagesOK"):
        ok.extend((e.text or "").strip() for e in _children(block, "idTechnique"))
    ko: dict[str, str] = {}
    for block in _children(root, "PassagesKO"):
        for passage in _children(block, "passage"):
            number = _text_of(passage, "idTechnique")
            if number:
                ko[number] = _text_of(passage, "messageErreur") or "Rejeté sans message"
    return {"flux_id": flux_id, "report_id": _text_of(root, "idTraitement"), "ok": [n for n in ok if n], "ko": ko}


def import_report(export: CdcExport, content: bytes) -> dict:
    """Applies the CDC's report to the flux's passages: accepted, or rejected with the CDC's message (those
    go into the next flux); a passage the report does not name is rejected as such. Nothing changes when
    the report is not this flux's (422)."""
    report = parse_report(content)
    if report["flux_id"] != export.flux_id:
        raise ValidationFailed.for_field("file", f"Ce rapport est celui du flux {report['flux_id']}, pas du flux "
                                                 f"{export.flux_id}.")
    passages = {p.number: p for p in export.passages}
    unknown = [n for n in [*report["ok"], *report["ko"]] if n not in passages]
    if unknown:
        raise ValidationFailed.for_field("file", "Le rapport cite des passages absents du flux : "
                                                 + ", ".join(unknown[:10]) + ".")
    accepted = rejected = 0
    for number, passage in passages.items():
        if number in report["ko"]:
            passage.status, passage.error = "rejete", report["ko"][number]
            rejected += 1
        elif number in report["ok"]:
            passage.status, passage.error = "accepte", None
            accepted += 1
        else:
            passage.status, passage.error = "rejete", "Absent du rapport de traitement de la Caisse des Dépôts"
            rejected += 1
    export.accepted, export.rejected = accepted, rejected
    export.report_received_at, export.report_id = now(), report["report_id"]
    db.session.flush()
    return {"accepted": accepted, "rejected": rejected}


def load_entries_for_page() -> dict:
    entries = register_entries()
    return {"entries": [e for e in entries if not e.missing], "incomplete": [e for e in entries if e.missing],
            "overdue": sum(1 for e in entries if e.overdue), "missing_settings": missing_settings(),
            "exports": exports()}

