"""PDFs of the jury area, rendered by WeasyPrint from Jinja templates in templates/pdf/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import segno
from flask import Response, current_app, make_response, render_template
from weasyprint import HTML

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


def _render(template: str, **context) -> bytes:
    html = render_template(template, branch=BRANCH, **context)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


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


def _documents(items: list[dict]) -> bytes:
    config = current_app.config
    sig = current_signature()
    return _render("pdf/parchments.html", items=items, signature=sig,
                   signature_uri=sig.data_uri() if sig else None,
                   certifier=config.get("CERTIFIER_NAME") or CERTIFIER,
                   issue_place=config.get("ISSUE_PLACE") or ISSUE_PLACE)


def parchment_pdf(parchment: Parchment) -> bytes:
    """A parchment (valide) or an attestation of validated competences (partiel)."""
    return _documents([_parchment_context(parchment)])


def parchments_batch_pdf(parchments: list[Parchment], part_size: int | None = None,
                         on_part: Callable[[int], None] | None = None) -> bytes:
    """Every parchment and attestation of a session in one PDF, one page each. With `part_size` (the
    worker's exports) rendered that many at a time, `on_part(documents done)` called after each part,
    and the parts' pages written as one PDF."""
    if not part_size or len(parchments) <= part_size:
        data = _documents([_parchment_context(p) for p in parchments])
        if on_part:
            on_part(len(parchments))
        return data
    config = current_app.config
    sig = current_signature()
    rendered = []
    for start in range(0, len(parchments), part_size):
        part = parchments[start:start + part_size]
        html = render_template("pdf/parchments.html", branch=BRANCH, items=[_parchment_context(p) for p in part],
                               signature=sig, signature_uri=sig.data_uri() if sig else None,
                               certifier=config.get("CERTIFIER_NAME") or CERTIFIER,
                               issue_place=config.get("ISSUE_PLACE") or ISSUE_PLACE)
        rendered.append(HTML(string=html, base_url=current_app.root_path).render())
        if on_part:
            on_part(start + len(part))
    return rendered[0].copy([page for document in rendered for page in document.pages]).write_pdf()


def booklet_pdf(jury_session: JurySession, files: list[CandidateFile]) -> bytes:
    """The jury members' booklet: one section per file to examine."""
    return _render("pdf/booklet.html", jury_session=jury_session, files=files)


def as_response(data: bytes, filename: str) -> Response:
    """A PDF shown in the browser (web pages and API alike)."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
