"""PDFs of the jury area, rendered by WeasyPrint from Jinja templates in templates/pdf/."""

from __future__ import annotations

import segno
from flask import Response, current_app, make_response, render_template
from weasyprint import HTML

from app.files.models import CandidateFile
from app.jury.models import JurySession, Parchment
from app.jury.versions import record_of

BRANCH = "Industries Chimiques"


def verify_url(number: str) -> str:
    """The public verification page of a number, printed on the document and in its QR code. Documents
    printed before it moved to /verifier carry /verify/<number>, which redirects there."""
    return f"{current_app.config['BASE_URL']}/verifier/{number}"


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def _render(template: str, **context) -> bytes:
    html = render_template(template, branch=BRANCH, **context)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


def _parchment_context(parchment: Parchment) -> dict:
    """What one page shows: the document's current version (R15), never the live candidate or decision."""
    record = record_of(parchment)
    url = verify_url(parchment.number)
    return {"parchment": parchment, "record": record, "holder": record.holder,
            "validated": record.validated_competences, "verify_url": url, "qr": qr_data_uri(url)}


def parchment_pdf(parchment: Parchment) -> bytes:
    """A parchment (valide) or an attestation of validated competences (partiel)."""
    return _render("pdf/parchments.html", items=[_parchment_context(parchment)])


def parchments_batch_pdf(parchments: list[Parchment]) -> bytes:
    """Every parchment and attestation of a session in one PDF, one page each."""
    return _render("pdf/parchments.html", items=[_parchment_context(p) for p in parchments])


def booklet_pdf(jury_session: JurySession, files: list[CandidateFile]) -> bytes:
    """The jury members' booklet: one section per file to examine."""
    return _render("pdf/booklet.html", jury_session=jury_session, files=files)


def as_response(data: bytes, filename: str) -> Response:
    """A PDF shown in the browser (web pages and API alike)."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
