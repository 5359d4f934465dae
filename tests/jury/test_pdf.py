"""R11: the parchment (valide), the attestation (partiel), the session batch and the jury booklet
are real PDFs whose text says what they should."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from app.files.models import FileStatus
from app.jury import parchments, pdf
from tests.factories import make_session
from tests.jury.helpers import decide, make_file


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def jury_session(secretariat, today_is):
    today_is("2027-05-01")
    jury_session = make_session(on=date(2027, 6, 15), location="Paris")
    today_is("2027-06-15")
    return jury_session


def test_parchment_of_a_valid_file(jury_session, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, True)
    parchment = file.parchment
    text = pdf_text(pdf.parchment_pdf(parchment))
    assert "Certificat de Qualification Professionnelle" in text
    assert "Industries Chimiques" in text and file.cqp.title in text
    assert file.candidate.first_name in text and file.candidate.last_name.upper() in text
    assert "15 juin 2027" in text and parchment.number in text
    assert f"http://certifia.test/verifier/{parchment.number}" in text


def test_attestation_lists_only_the_validated_competences(jury_session, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, [True, False, True])
    text = pdf_text(pdf.parchment_pdf(file.parchment))
    assert "Attestation de compétences" in text
    first, second, third = file.competences
    assert first.code in text and third.code in text and f"{second.code} —" not in text


def test_qr_code_encodes_the_verification_url(app_ctx):
    uri = pdf.qr_data_uri(pdf.verify_url("CQP-7K4M-QX2D"))
    assert uri.startswith("data:image/svg+xml")


def test_batch_has_one_page_per_document(jury_session, secretariat):
    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(3)]
    decide(files[0], secretariat, True)
    decide(files[1], secretariat, [True, False, False])
    decide(files[2], secretariat, False)
    printable = parchments.printable_files(jury_session)
    assert printable == files[:2]
    data = pdf.parchments_batch_pdf([f.parchment for f in printable])
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    assert files[1].parchment.number in reader.pages[1].extract_text()


def test_booklet_has_a_section_per_file(jury_session):
    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(2)]
    text = pdf_text(pdf.booklet_pdf(jury_session, files))
    assert "Livret du jury paritaire national du 15 juin 2027" in text
    for f in files:
        assert f.candidate.full_name in text
    assert "Maîtrisé au poste." in text and "Entretien constructif." in text


def test_as_response_shows_the_pdf_in_the_browser(app):
    with app.test_request_context():
        response = pdf.as_response(b"%PDF-1.7", "livret.pdf")
    assert response.mimetype == "application/pdf" and response.data == b"%PDF-1.7"
    assert response.headers["Content-Disposition"] == 'inline; filename="livret.pdf"'
