"""Uploads: the type comes from the first bytes, never the name or the declared type; the size is
capped; files land under UPLOAD_DIR with generated names and are served with safe headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import uploads
from app.core.errors import NotFound, TooLarge, ValidationFailed
from tests.files.conftest import EXE, JPEG, PDF, PNG, upload


@pytest.mark.parametrize("data,content_type,extension", [
    (PDF, "application/pdf", "pdf"), (PNG, "image/png", "png"), (JPEG, "image/jpeg", "jpg"),
])
def test_pdf_png_and_jpeg_are_recognised_by_their_first_bytes(app_ctx, data, content_type, extension):
    stored = uploads.store_upload(upload(data, name="scan sans extension", content_type="text/plain"))
    assert stored.content_type == content_type and stored.size == len(data)
    assert stored.stored_name.endswith(f".{extension}") and "scan" not in stored.stored_name
    assert (uploads.upload_dir() / stored.stored_name).read_bytes() == data


@pytest.mark.parametrize("data", [EXE, b"<html><script>alert(1)</script>", b"GIF89a" + b"\0" * 10, b"%PD"])
def test_a_disguised_file_is_refused_whatever_its_name(app_ctx, data):
    before = set(uploads.upload_dir().iterdir())
    with pytest.raises(ValidationFailed, match="ni un PDF") as refused:
        uploads.store_upload(upload(data, name="diplome.pdf", content_type="application/pdf"))
    assert refused.value.status_code == 422 and "file" in refused.value.errors
    assert set(uploads.upload_dir().iterdir()) == before  # nothing written


def test_the_size_limit_is_10_mb(app, app_ctx):
    limit = app.config["MAX_UPLOAD_BYTES"]
    assert limit == 10 * 1024 * 1024
    assert uploads.store_upload(upload(b"%PDF-" + b"0" * (limit - 5))).size == limit
    with pytest.raises(TooLarge, match="10 Mo") as refused:
        uploads.store_upload(upload(b"%PDF-" + b"0" * (limit - 4)))
    assert refused.value.status_code == 413


def test_an_empty_or_missing_file_is_refused(app_ctx):
    with pytest.raises(ValidationFailed, match="vide"):
        uploads.store_upload(upload(b"", name="vide.pdf"))
    with pytest.raises(ValidationFailed, match="Choisissez un fichier"):
        uploads.store_upload(None)


def test_the_given_name_is_kept_for_display_only_and_cleaned(app_ctx):
    stored = uploads.store_upload(upload(PDF, name="../../etc/pass\"wd.pdf"))
    assert stored.filename == "passwd.pdf"
    assert Path(uploads.upload_dir(), stored.stored_name).parent == uploads.upload_dir()


def test_served_with_its_type_as_an_attachment_and_nosniff(app):
    with app.test_request_context():
        stored = uploads.store_upload(upload(PNG, name="photo.png"))

        class Doc:
            stored_name, content_type, filename = stored.stored_name, stored.content_type, "photo du diplôme.png"

        response = uploads.serve_document(Doc())
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        response.direct_passthrough = False
        assert response.get_data() == PNG


def test_only_stored_names_inside_the_upload_dir_are_served(app_ctx):
    with pytest.raises(NotFound):
        uploads.stored_path("../secret_key")
    with pytest.raises(NotFound):
        uploads.stored_path("absent.pdf")
