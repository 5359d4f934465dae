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


# ---------------------------------------------------------------- France compétences' mentions (issue 12)


@pytest.fixture(autouse=True)
def _no_signature(app):
    """The upload directory lives as long as the test session: no signature before or after each test."""
    import shutil
    from pathlib import Path

    folder = Path(app.config["UPLOAD_DIR"]) / "signature"
    shutil.rmtree(folder, ignore_errors=True)
    yield
    shutil.rmtree(folder, ignore_errors=True)


def _register(cqp, **changes):
    from app.referential.services import update_cqp_registration

    values = {"repertoire": "RNCP", "repertoire_code": "RNCP35842", "level": 3, "nsf_code": "222t",
              "registered_on": "2024-03-28"} | changes
    update_cqp_registration(cqp, values)


def _png(width=240, height=80) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).line([(10, 60), (80, 15), (150, 65), (230, 20)], fill="navy", width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _upload(data: bytes, name="signature.png"):
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(data), filename=name)


def test_parchment_bears_every_mention_france_competences_requires(jury_session, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    _register(file.cqp)
    decide(file, secretariat, True)
    text = " ".join(pdf_text(pdf.parchment_pdf(file.parchment)).split())
    assert file.cqp.title in text
    assert "RNCP35842" in text and "par décision de France compétences du 28 mars 2024" in text
    assert "répertoire national des certifications professionnelles (RNCP)" in text
    assert "niveau 3 du cadre national des certifications professionnelles" in text
    assert file.candidate.first_name in text and file.candidate.last_name.upper() in text
    assert "17 mai 1990" in text  # the factories' birth date
    assert "Commission paritaire nationale de l'emploi des Industries Chimiques" in text
    assert "Fait à Paris, le 15 juin 2027" in text and file.parchment.number in text
    assert "Le président du jury" in text


def test_rs_registration_without_level_and_an_unregistered_cqp(jury_session, secretariat):
    registered, plain = (make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(2))
    _register(registered.cqp, repertoire="RS", repertoire_code="RS5614", level=None)
    for file in (registered, plain):
        decide(file, secretariat, True)
    text = " ".join(pdf_text(pdf.parchment_pdf(registered.parchment)).split())
    assert "répertoire spécifique (RS)" in text and "RS5614" in text and "niveau" not in text.lower().split("rs5614")[1][:80]
    if plain.cqp.id != registered.cqp.id:
        text = " ".join(pdf_text(pdf.parchment_pdf(plain.parchment)).split())
        assert "France compétences" not in text and "RS5614" not in text


def test_the_version_keeps_the_registration_of_its_issue(jury_session, secretariat):
    """The registration as of the decision: a later change of the CQP does not change a delivered document."""
    from app.jury.versions import registration_of

    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    _register(file.cqp)
    decide(file, secretariat, True)
    version = file.parchment.current_version
    assert version.cqp_registration["repertoire_code"] == "RNCP35842"
    assert version.cqp_registration["title"] == file.cqp.title
    _register(file.cqp, repertoire_code="RNCP40001", level=4)
    text = " ".join(pdf_text(pdf.parchment_pdf(file.parchment)).split())
    assert "RNCP35842" in text and "RNCP40001" not in text
    assert registration_of(file.parchment, version)["repertoire_code"] == "RNCP35842"


def test_a_version_issued_before_registrations_were_kept_prints_the_cqps(jury_session, secretariat):
    from app.extensions import db

    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, True)
    file.parchment.current_version.cqp_registration = None
    db.session.flush()
    _register(file.cqp)
    assert "RNCP35842" in pdf_text(pdf.parchment_pdf(file.parchment))


def test_the_holder_is_the_frozen_one_never_the_live_candidate(jury_session, secretariat):
    from app.extensions import db

    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, True)
    frozen = file.candidate.last_name.upper()
    file.candidate.last_name = "Changé"
    file.candidate.first_name = "Autre"
    db.session.flush()
    text = pdf_text(pdf.parchment_pdf(file.parchment))
    assert frozen in text and "CHANGÉ" not in text and "Autre" not in text


def test_the_attestation_names_each_validated_competence_and_the_mentions(jury_session, secretariat):
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    _register(file.cqp)
    decide(file, secretariat, [True, False, True])
    text = " ".join(pdf_text(pdf.parchment_pdf(file.parchment)).split())
    first, second, third = file.competences
    assert f"{first.code} — {first.title}"[:60] in text and f"{third.code} —" in text
    assert f"{second.code} —" not in text
    assert "RNCP35842" in text and "niveau 3 du cadre national" in text and "Fait à Paris" in text


def test_blocks_group_the_validated_competences_when_the_referential_has_them():
    groups = pdf._blocks([{"code": "C1", "label": "a", "validated": True, "block": "Bloc 1"},
                          {"code": "C2", "label": "b", "validated": False, "block": "Bloc 1"},
                          {"code": "C3", "label": "c", "validated": True, "block": "Bloc 2"}])
    assert [(b, [c["code"] for c in cs]) for b, cs in groups] == [("Bloc 1", ["C1"]), ("Bloc 2", ["C3"])]
    assert pdf._blocks([{"code": "C1", "label": "a", "validated": True}])[0][0] is None


def test_without_signature_a_line_with_it_the_image_above_the_name(jury_session, secretariat):
    from app.jury import signature

    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
    decide(file, secretariat, True)
    without = pdf.parchment_pdf(file.parchment)
    assert not _images(without)
    signature.save_signature(_upload(_png()), "Jeanne Présidente", actor=secretariat)
    data = pdf.parchment_pdf(file.parchment)
    assert len(_images(data)) == 1
    assert "Jeanne Présidente" in pdf_text(data)


def _images(data: bytes) -> list:
    page = PdfReader(io.BytesIO(data)).pages[0]
    return [image for image in page.images if image.name and not image.name.lower().endswith(".svg")] \
        if hasattr(page, "images") else []


# ---------------------------------------------------------------- the batch by parts (issue 16)


def _pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


@pytest.mark.parametrize("processes", [1, 2])
def test_a_batch_by_parts_has_every_document_in_order_in_this_process_or_in_children(
        app, jury_session, secretariat, monkeypatch, processes):
    """Parts of 2 for 5 documents: laid out here (PDF_PROCESSES=1) or by two child processes, the same pages
    in the same order as the one render, progress after each part, the title kept."""
    monkeypatch.setitem(app.config, "PDF_PROCESSES", processes)
    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(5)]
    for i, file in enumerate(files):
        decide(file, secretariat, True if i % 2 else [True, False, False])
    documents = [f.parchment for f in parchments.printable_files(jury_session)]
    progress: list[int] = []
    data = pdf.parchments_batch_pdf(documents, part_size=2, on_part=progress.append)
    assert progress == [2, 4, 5]
    pages = _pages(data)
    assert pages == _pages(pdf.parchments_batch_pdf(documents))
    assert [p.number in page for p, page in zip(documents, pages, strict=True)] == [True] * 5
    assert "Attestation de compétences" in pages[0] and "Certificat de Qualification Professionnelle" in pages[1]
    assert PdfReader(io.BytesIO(data)).metadata.title == "Parchemins CQP"


def test_a_batch_reads_its_documents_in_a_fixed_number_of_statements(jury_session, secretariat):
    """The files, their parchments with versions and decisions, the session's president: never one
    statement per document (each document's file is set on its parchment, not loaded again)."""
    from tests.jury.helpers import count_statements

    files = [make_file(FileStatus.INSCRIPTION_JURY, session=jury_session) for _ in range(4)]
    for file in files:
        decide(file, secretariat, True)
    from app.extensions import db

    db.session.expunge_all()
    with count_statements() as statements:
        documents = [f.parchment for f in parchments.printable_files(jury_session)]
        contexts = [pdf._parchment_context(p) for p in documents]
    assert len(contexts) == 4 and all(c["holder"]["first_name"] for c in contexts)
    assert len(statements) <= 5, statements


def test_the_parchments_stylesheet_is_parsed_once_per_thread(app_ctx):
    source = pdf._parchments_css()
    assert "@page" in source and ".footer" in source
    css, fonts = pdf._stylesheet(source)
    assert pdf._stylesheet(source) == (css, fonts)
    assert pdf._stylesheet(source + "\n")[0] is not css  # a changed stylesheet is parsed again
