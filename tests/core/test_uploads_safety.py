"""Uploads, issue 17: downloads named with the extension of the sniffed type, PDFs with active content refused,
quotas per candidature and per establishment, and the optional ClamAV scan against a real clamd."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.core import antivirus, uploads
from app.core.errors import TooLarge, ValidationFailed
from app.extensions import db
from app.files import services
from app.files.models import Document
from tests import factories
from tests.files.conftest import JPEG, PDF, PNG, upload

# ---------------------------------------------------------------- the download name follows the content


@pytest.mark.parametrize("data,given,expected", [
    (PDF, "poly.html", "poly.pdf"),
    (PDF, "poly.PDF", "poly.PDF"),
    (PDF, "rapport", "rapport.pdf"),
    (PDF, "archive.tar.gz", "archive.tar.pdf"),
    (PNG, "photo.jpg", "photo.png"),
    (JPEG, "photo.jpeg", "photo.jpeg"),
    (JPEG, "photo.JPG", "photo.JPG"),
    (JPEG, "x.svg", "x.jpg"),
    (PDF, ".htaccess", ".htaccess.pdf"),
    (PDF, "...", "document.pdf"),
])
def test_the_name_gets_the_extension_of_the_sniffed_type(app_ctx, data, given, expected):
    assert uploads.store_upload(upload(data, name=given, content_type="text/html")).filename == expected


def test_a_pdf_named_html_is_downloaded_as_pdf(app_ctx, client, login_as):
    company = factories.make_user(Role.ENTREPRISE)
    file = factories.make_file(establishment=company.establishment)
    login_as(company)
    page = f"/dossiers/{file.id}"
    from tests.conftest import csrf_token

    answer = client.post(f"{page}/documents", data={"csrf_token": csrf_token(client, page), "kind": "diplome",
                                                    "file": (BytesIO(PDF), "poly.html")})
    assert answer.status_code in (200, 302, 303), answer.get_data(as_text=True)[:500]
    document = db.session.scalars(select(Document)).one()
    served = client.get(f"/dossiers/{file.id}/documents/{document.id}")
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert 'filename=poly.pdf' in served.headers["Content-Disposition"]


# ---------------------------------------------------------------- PDFs with active content


def _pdf_with(obj: bytes) -> bytes:
    return b"%PDF-1.7\n1 0 obj\n" + obj + b"\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _object_stream(content: bytes) -> bytes:
    packed = zlib.compress(content)
    return _pdf_with(b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length "
                     + str(len(packed)).encode() + b" >>\nstream\n" + packed + b"\nendstream")


@pytest.mark.parametrize("data,named", [
    (_pdf_with(b"<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"), "JavaScript"),
    (_pdf_with(b"<< /AA << /O << /JS 5 0 R >> >> >>"), "JavaScript"),
    (_pdf_with(b"<< /OpenAction << /S /Launch /F (cmd.exe) >> >>"), "Launch"),
    (_pdf_with(b"<< /OpenAction << /S /J#61va#53cript /J#53 (x) >> >>"), "JavaScript"),  # names written in hex
    (_object_stream(b"1 0 << /S /Launch /F (calc) >>"), "Launch"),  # hidden in a compressed object stream
])
def test_a_pdf_with_javascript_or_launch_is_refused_naming_the_field(app_ctx, data, named):
    before = set(uploads.upload_dir().iterdir())
    with pytest.raises(ValidationFailed, match=f"contenu actif \\({named}") as refused:
        uploads.store_upload(upload(data, name="diplome.pdf"))
    assert refused.value.status_code == 422 and list(refused.value.errors) == ["file"]
    assert set(uploads.upload_dir().iterdir()) == before


@pytest.mark.parametrize("data", [
    _pdf_with(b"<< /Type /Catalog /JSON (not an action) /Launcher 1 /JavaScripts 2 >>"),
    _object_stream(b"1 0 << /Type /Font /BaseFont /Helvetica >>"),
    _pdf_with(b"<< /Length 5 >>\nstream\nnot zlib at all\nendstream"),
])
def test_a_plain_pdf_is_accepted(app_ctx, data):
    assert uploads.store_upload(upload(data)).content_type == "application/pdf"


def test_a_real_pdf_made_by_weasyprint_is_accepted(app_ctx):
    from weasyprint import HTML

    data = HTML(string="<h1>Diplôme</h1><p>Scan du diplôme</p>").write_pdf()
    assert uploads.store_upload(upload(data, name="diplome.pdf")).size == len(data)


def test_the_api_refuses_a_javascript_pdf_with_a_problem_naming_the_field(app_ctx, api_as):
    company = factories.make_user(Role.ENTREPRISE)
    file = factories.make_file(establishment=company.establishment)
    data = _pdf_with(b"<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>")
    answer = api_as(company).post(f"/files/{file.id}/documents",
                                  data={"kind": "diplome", "file": (BytesIO(data), "d.pdf")},
                                  content_type="multipart/form-data")
    assert answer.status_code == 422 and "contenu actif" in answer.json["errors"]["file"][0]
    assert db.session.scalar(select(func.count(Document.id))) == 0


# ---------------------------------------------------------------- quotas


def test_the_candidature_quota_refuses_the_scan_that_does_not_fit(app, app_ctx):
    app.config["FILE_UPLOAD_QUOTA_MB"] = 1
    try:
        company = factories.make_user(Role.ENTREPRISE)
        file = factories.make_file(establishment=company.establishment)
        half = PDF + b"0" * (600 * 1024)
        services.upload_document(company, kind="diplome", upload=upload(half), candidate=file.candidate, file=file)
        db.session.commit()
        before = set(uploads.upload_dir().iterdir())
        with pytest.raises(TooLarge, match="quota de pièces du dossier est atteint : 0,6 Mo déjà déposés sur 1 Mo") \
                as refused:
            services.upload_document(company, kind="dossier_candidature", upload=upload(half),
                                     candidate=file.candidate, file=file)
        assert refused.value.status_code == 413 and "file" in refused.value.errors
        assert set(uploads.upload_dir().iterdir()) == before
        # Replacing the scan frees its own size first: the same size fits again.
        document = db.session.scalars(select(Document)).one()
        services.replace_document(document, company, upload(half, name="autre.pdf"))
        db.session.commit()
        # Another candidature of another candidate has its own quota.
        other = factories.make_file(establishment=company.establishment)
        services.upload_document(company, kind="diplome", upload=upload(half), candidate=other.candidate, file=other)
    finally:
        app.config["FILE_UPLOAD_QUOTA_MB"] = 50


def test_the_establishment_quota_counts_every_candidate_of_the_establishment(app, app_ctx):
    app.config["ESTABLISHMENT_UPLOAD_QUOTA_MB"] = 1
    try:
        company = factories.make_user(Role.ENTREPRISE)
        first = factories.make_file(establishment=company.establishment)
        second = factories.make_file(establishment=company.establishment)
        scans = [upload(PDF + b"1" * (400 * 1024), name="a.pdf"), upload(PDF + b"2" * (400 * 1024), name="b.pdf")]
        services.upload_documents(company, kind="diplome", uploads=scans, candidate=first.candidate, file=first)
        db.session.commit()
        with pytest.raises(TooLarge, match="quota de pièces de l'établissement"):
            services.upload_document(company, kind="diplome", upload=upload(PDF + b"3" * (400 * 1024)),
                                     candidate=second.candidate, file=second)
        elsewhere = factories.make_file()  # another establishment: not counted
        services.upload_document(company, kind="diplome", upload=upload(PDF + b"3" * (400 * 1024)),
                                 candidate=elsewhere.candidate, file=elsewhere)
    finally:
        app.config["ESTABLISHMENT_UPLOAD_QUOTA_MB"] = 2048


def test_several_scans_at_once_are_counted_together_against_the_quota(app, app_ctx):
    app.config["FILE_UPLOAD_QUOTA_MB"] = 1
    try:
        company = factories.make_user(Role.ENTREPRISE)
        file = factories.make_file(establishment=company.establishment)
        scans = [upload(PDF + bytes([65 + i]) * (400 * 1024), name=f"{i}.pdf") for i in range(3)]
        with pytest.raises(TooLarge, match="« 2.pdf » : Le quota de pièces du dossier"):
            services.upload_documents(company, kind="diplome", uploads=scans, candidate=file.candidate, file=file)
        assert db.session.scalar(select(func.count(Document.id))) == 0
    finally:
        app.config["FILE_UPLOAD_QUOTA_MB"] = 50


# ---------------------------------------------------------------- ClamAV (clamd from Debian's clamav-daemon)

CLAMD = shutil.which("clamd") or ("/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None)
MARKER = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


@pytest.fixture(scope="module")
def clamd_socket(tmp_path_factory):
    """A real clamd on a unix socket, with a database of one signature of ours (the official databases need
    the network): any file holding the EICAR marker is detected."""
    if CLAMD is None:
        pytest.skip("clamd absent (paquet Debian clamav-daemon) : l'analyse antivirus n'est pas testée")
    root = tmp_path_factory.mktemp("clamd")
    (root / "db").mkdir()
    (root / "db" / "certifia.ndb").write_text(f"Certifia.Test.EICAR:0:*:{MARKER.hex()}\n")
    sock = root / "clamd.sock"
    (root / "clamd.conf").write_text(
        f"LocalSocket {sock}\nDatabaseDirectory {root / 'db'}\nForeground yes\nLogFile {root / 'clamd.log'}\n"
        f"PidFile {root / 'clamd.pid'}\nUser root\nStreamMaxLength 20M\n")
    process = subprocess.Popen([CLAMD, "-c", str(root / "clamd.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not sock.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    if not sock.exists():
        process.kill()
        pytest.fail(f"clamd n'a pas démarré : {(root / 'clamd.log').read_text() if (root / 'clamd.log').exists() else ''}")
    yield str(sock)
    process.terminate()
    process.wait(timeout=10)


def test_clamd_answers_ok_for_a_clean_stream_and_names_the_signature_found(clamd_socket):
    assert antivirus.scan_bytes(PDF, clamd_socket) == antivirus.Verdict(clean=True)
    big = PDF + b"x" * (3 * antivirus.CHUNK + 17) + MARKER  # several INSTREAM chunks, the marker in the last
    found = antivirus.scan_bytes(big, clamd_socket)
    assert not found.clean and found.signature.startswith("Certifia.Test.EICAR")


def test_with_clamav_socket_an_infected_upload_is_refused_and_nothing_written(app, app_ctx, clamd_socket):
    app.config["CLAMAV_SOCKET"] = clamd_socket
    try:
        assert uploads.store_upload(upload(PDF)).size == len(PDF)
        before = set(uploads.upload_dir().iterdir())
        with pytest.raises(ValidationFailed, match="antivirus a détecté.*Certifia.Test.EICAR") as refused:
            uploads.store_upload(upload(PDF + b"\n% " + MARKER + b"\n", name="diplome.pdf"))
        assert "file" in refused.value.errors
        assert set(uploads.upload_dir().iterdir()) == before
    finally:
        app.config["CLAMAV_SOCKET"] = None


def test_an_unreachable_clamd_refuses_the_upload(app, app_ctx, tmp_path):
    app.config["CLAMAV_SOCKET"] = str(tmp_path / "absent.sock")
    try:
        with pytest.raises(ValidationFailed, match="analyse antivirus du fichier est momentanément impossible"):
            uploads.store_upload(upload(PDF))
    finally:
        app.config["CLAMAV_SOCKET"] = None


def test_clamd_refusing_a_stream_too_long_is_an_error_not_a_clean_verdict(clamd_socket):
    with pytest.raises(antivirus.ScannerUnavailable, match="size limit"):
        antivirus.scan_bytes(b"%PDF-" + hashlib.sha256(b"x").digest() * (21 * 1024 * 1024 // 32), clamd_socket)
