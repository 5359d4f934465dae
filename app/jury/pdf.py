"""PDFs of the jury area, rendered by WeasyPrint from Jinja templates in templates/pdf/.

Parchments and attestations (templates/pdf/parchments.html) share one stylesheet, pdf/parchments.css, parsed
once per process and thread with the fonts it finds (`_stylesheet`), instead of once per document. A
session's batch in the worker (`part_size`) is rendered by parts; from two parts on, and with
PDF_PROCESSES (default 2) above 1, the parts are laid out by that many child processes (both cores), each
part one WeasyPrint document, and their pages joined into one PDF by pypdf."""

from __future__ import annotations

import io
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable
from datetime import date

import segno
from flask import Response, current_app, make_response, render_template
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app.files.models import CandidateFile
from app.jury.carry_over import over_juries, where_validated
from app.jury.models import JurySession, Parchment
from app.jury.signature import current_signature
from app.jury.versions import record_of, registration_of

BRANCH = "Industries Chimiques"
# Who delivers the certification and where its documents are issued (France compétences: the certifier, the
# date and place of issue): config CERTIFIER_NAME and ISSUE_PLACE, these by default.
CERTIFIER = "Commission paritaire nationale de l'emploi des Industries Chimiques"
ISSUE_PLACE = "Paris"
REPERTOIRE_LABELS = {"RNCP": "au répertoire national des certifications professionnelles (RNCP)",
                     "RS": "au répertoire spécifique (RS)"}


def verify_url(number: str) -> str:
    """The public verification page of a number, printed on the document and in its QR code. Documents
    printed before it moved to /verifier carry /verify/<number>, which redirects there."""
    return f"{current_app.config['BASE_URL']}/verifier/{number}"


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def _render(template: str, **context) -> bytes:  # the booklet and the minutes
    html = render_template(template, branch=BRANCH, **context)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


PARCHMENTS_CSS = "pdf/parchments.css"
PART_TIMEOUT = 600  # seconds for one part in a child process (a child killed never answers: the job fails)
_shared = threading.local()  # WeasyPrint's font configuration is not for several threads at once


def _stylesheet(source: str) -> tuple[CSS, FontConfiguration]:
    """The parchments' stylesheet parsed once per process and thread (for a given text of it), with the
    font configuration it was parsed for."""
    cached = getattr(_shared, "parchments", None)
    if cached is None or cached[0] != (os.getpid(), source):
        fonts = FontConfiguration()
        cached = ((os.getpid(), source), CSS(string=source, font_config=fonts), fonts)
        _shared.parchments = cached
    return cached[1], cached[2]


def _parchments_css() -> str:
    return current_app.jinja_env.loader.get_source(current_app.jinja_env, PARCHMENTS_CSS)[0]


def _layout(html: str, base_url: str, css_source: str):
    css, fonts = _stylesheet(css_source)
    return HTML(string=html, base_url=base_url).render(stylesheets=[css], font_config=fonts)


def _part_pdf(html: str, base_url: str, css_source: str) -> bytes:
    """One part of a batch, in a child process: laid out and written (no database, no Flask)."""
    return _layout(html, base_url, css_source).write_pdf()


def _blocks(competences: list[dict]) -> list[tuple[str | None, list[dict]]]:
    """The validated competences grouped by their block (in order) when the referential has blocks; one
    group without a name otherwise."""
    groups: list[tuple[str | None, list[dict]]] = []
    for competence in competences:
        if not competence.get("validated"):
            continue
        block = competence.get("block") or None
        if not groups or groups[-1][0] != block:
            groups.append((block, []))
        groups[-1][1].append(competence)
    return groups


def _parchment_context(parchment: Parchment, president: str | None = None) -> dict:
    """What one page shows: the document's current version (R15), never the live candidate or decision;
    the CQP's registration as the version keeps it (the CQP's for a version issued before they were kept)."""
    record = record_of(parchment)
    url = verify_url(parchment.number)
    registration = dict(record.cqp_registration or registration_of(parchment))
    if registration.get("registered_on"):
        registration["registered_on"] = date.fromisoformat(registration["registered_on"])
    if president is None:  # the session's president as the attendance recorded it (R14), when it did
        president = getattr(getattr(parchment.file.jury_session, "president", None), "full_name", None)
    return {"parchment": parchment, "record": record, "holder": record.holder,
            "validated": record.validated_competences,
            # R13: each competence with the jury that validated it, when the CQP was completed over several
            "blocks": _blocks(where_validated(record.competences, record.jury_date,
                                              getattr(parchment.file.jury_session, "location", None))),
            "over_juries": over_juries(record.competences),
            "registration": registration,
            "repertoire_label": REPERTOIRE_LABELS.get(registration.get("repertoire") or ""),
            # the date of issue: the first version's (a later version says when it was issued besides)
            "issued_on": (parchment.created_at or record.issued_at).date(),
            "president": president, "verify_url": url, "qr": qr_data_uri(url)}


def _documents_html(items: list[dict]) -> str:
    config = current_app.config
    sig = current_signature()
    return render_template("pdf/parchments.html", branch=BRANCH, items=items, signature=sig,
                           signature_uri=sig.data_uri() if sig else None,
                           certifier=config.get("CERTIFIER_NAME") or CERTIFIER,
                           issue_place=config.get("ISSUE_PLACE") or ISSUE_PLACE)


def _documents(items: list[dict]) -> bytes:
    return _layout(_documents_html(items), current_app.root_path, _parchments_css()).write_pdf()


def parchment_pdf(parchment: Parchment) -> bytes:
    """A parchment (valide) or an attestation of validated competences (partiel)."""
    return _documents([_parchment_context(parchment)])


def parchments_batch_pdf(parchments: list[Parchment], part_size: int | None = None,
                         on_part: Callable[[int], None] | None = None) -> bytes:
    """Every parchment and attestation of a session in one PDF, one page each. With `part_size` (the
    worker's exports) rendered that many at a time, `on_part(documents done)` called after each part in
    order, and the parts' pages written as one PDF: laid out by PDF_PROCESSES child processes from two
    parts on (at most two parts waiting for each child, so memory stays bounded), else in this process."""
    if not part_size or len(parchments) <= part_size:
        data = _documents([_parchment_context(p) for p in parchments])
        if on_part:
            on_part(len(parchments))
        return data
    parts = [parchments[start:start + part_size] for start in range(0, len(parchments), part_size)]
    processes = min(int(current_app.config.get("PDF_PROCESSES") or 1), len(parts))
    if processes > 1:
        return _parts_in_children(parts, processes, on_part)
    css_source = _parchments_css()
    rendered = []
    done = 0
    for part in parts:
        rendered.append(_layout(_documents_html([_parchment_context(p) for p in part]), current_app.root_path,
                                css_source))
        done += len(part)
        if on_part:
            on_part(done)
    return rendered[0].copy([page for document in rendered for page in document.pages]).write_pdf()


def _parts_in_children(parts: list[list[Parchment]], processes: int,
                       on_part: Callable[[int], None] | None) -> bytes:
    """This process reads each part's documents and writes its HTML (database, Flask, QR codes), while
    `processes` fresh child processes (spawned: nothing of this process's threads or connections is
    inherited) lay out and write the parts; the parts' PDFs joined in order."""
    from pypdf import PdfReader, PdfWriter

    css_source, base_url = _parchments_css(), current_app.root_path
    writer = PdfWriter()
    pending: deque = deque()
    done = 0

    def collect() -> None:
        nonlocal done
        count, result = pending.popleft()
        reader = PdfReader(io.BytesIO(result.get(timeout=PART_TIMEOUT)))
        if not done and reader.metadata:  # the title WeasyPrint wrote (« Parchemins CQP »)
            writer.add_metadata(dict(reader.metadata))
        writer.append(reader)
        done += count
        if on_part:
            on_part(done)

    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        for part in parts:
            html = _documents_html([_parchment_context(p) for p in part])
            pending.append((len(part), pool.apply_async(_part_pdf, (html, base_url, css_source))))
            while len(pending) > 2 * processes or (pending and pending[0][1].ready()):
                collect()
        while pending:
            collect()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def booklet_pdf(jury_session: JurySession, files: list[CandidateFile]) -> bytes:
    """The jury members' booklet: one section per file to examine."""
    return _render("pdf/booklet.html", jury_session=jury_session, files=files)


def as_response(data: bytes, filename: str) -> Response:
    """A PDF shown in the browser (web pages and API alike)."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
