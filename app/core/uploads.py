"""Scanned documents: type checked by the first bytes (never the name or the declared type), size
capped, stored under UPLOAD_DIR with a generated name, served only by views that checked access."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage

from app.core.errors import NotFound, TooLarge, ValidationFailed

# First bytes → (content type, extension)
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
ACCEPTED_LABEL = "PDF, PNG ou JPEG"


@dataclass(frozen=True)
class StoredUpload:
    filename: str  # the name the user gave, for display and download only
    stored_name: str  # generated, the only name used on disk
    content_type: str
    size: int


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def sniff_type(head: bytes) -> tuple[str, str] | None:
    for signature, content_type, extension in SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    return None


def _clean_filename(name: str | None, extension: str) -> str:
    base = Path((name or "").replace("\\", "/")).name.strip()
    base = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')[:200]
    return base or f"document.{extension}"


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(upload: FileStorage | None, field: str = "file") -> StoredUpload:
    """Checks and writes the upload; raises ValidationFailed (422) or TooLarge (413)."""
    if upload is None or not getattr(upload, "filename", None):
        raise ValidationFailed.for_field(field, "Choisissez un fichier à déposer.")
    limit = max_upload_bytes()
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge.for_field(field, f"Le fichier dépasse la taille maximale de {limit // (1024 * 1024)} Mo.")
    if not data:
        raise ValidationFailed.for_field(field, "Le fichier est vide.")
    sniffed = sniff_type(data[:16])
    if sniffed is None:
        raise ValidationFailed.for_field(
            field, f"Ce fichier n'est ni un PDF, ni une image PNG ou JPEG (formats acceptés : {ACCEPTED_LABEL})."
        )
    content_type, extension = sniffed
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    (upload_dir() / stored_name).write_bytes(data)
    return StoredUpload(_clean_filename(upload.filename, extension), stored_name, content_type, len(data))


def discard(stored_name: str) -> None:
    """Removes a stored file whose database row will not be committed."""
    try:
        (upload_dir() / stored_name).unlink(missing_ok=True)
    except OSError:
        pass


def stored_path(stored_name: str) -> Path:
    path = (upload_dir() / stored_name).resolve()
    if path.parent != upload_dir().resolve() or not path.is_file():
        raise NotFound("Ce document est introuvable.")
    return path


def serve_document(document, *, inline: bool = False) -> Response:
    """The bytes of a Document the caller was allowed to see (check access BEFORE calling)."""
    # Read at once (≤ 10 MB): no file handle is left open for the server to close.
    response = send_file(
        BytesIO(stored_path(document.stored_name).read_bytes()),
        mimetype=document.content_type,
        as_attachment=not inline,
        download_name=document.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
