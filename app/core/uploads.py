"""Scanned documents: type checked by the first bytes (never the name or the declared type), size
capped, stored under UPLOAD_DIR with a generated name, served only by views that checked access."""

from __future__ import annotations

import re
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage

from app.core import antivirus
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


# The extensions each sniffed type may keep; any other is replaced by the sniffed type's.
EXTENSIONS = {"pdf": {"pdf"}, "png": {"png"}, "jpg": {"jpg", "jpeg"}}


def _clean_filename(name: str | None, extension: str) -> str:
    """The user's name, cleaned, with the extension of the type the content has (`poly.html` that is a PDF is
    downloaded as `poly.pdf`): a browser or a desktop then opens it as what it is."""
    base = Path((name or "").replace("\\", "/")).name.strip()
    base = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')[:200]
    stem, dot, given = base.rpartition(".")
    if dot and stem.strip(" .") and given.lower() in EXTENSIONS[extension]:
        return base
    stem = (stem if dot and stem.strip(" .") else base).rstrip(" .")
    return f"{stem or 'document'}.{extension}"


# PDF names are `/Name`, where any character may be written `#xx`: `/J#61vaScript` is `/JavaScript`.
_PDF_NAME = re.compile(rb"/((?:[A-Za-z0-9]|#[0-9A-Fa-f]{2})+)")
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
ACTIVE_PDF_NAMES = {b"JavaScript", b"JS", b"Launch"}
MAX_INFLATED_BYTES = 64 * 1024 * 1024  # the compressed streams read for active content, at most


def _pdf_names(data: bytes) -> set[bytes]:
    return {re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), m.group(1))
            for m in _PDF_NAME.finditer(data)}


def pdf_active_content(data: bytes) -> set[str]:
    """The active-content actions (JavaScript, Launch) a PDF declares, in its objects or in its compressed
    object streams (read up to MAX_INFLATED_BYTES)."""
    names = _pdf_names(data) & ACTIVE_PDF_NAMES
    budget = MAX_INFLATED_BYTES
    for match in _PDF_STREAM.finditer(data):
        if budget <= 0:
            break
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(match.group(1), budget)
        except zlib.error:
            continue
        budget -= len(inflated)
        names |= _pdf_names(inflated) & ACTIVE_PDF_NAMES
    return {"JavaScript" if n in (b"JavaScript", b"JS") else n.decode() for n in names}


def _check_content(data: bytes, content_type: str, field: str) -> None:
    if content_type == "application/pdf":
        active = pdf_active_content(data)
        if active:
            raise ValidationFailed.for_field(
                field, f"Ce PDF contient du contenu actif ({', '.join(sorted(active))}), refusé : enregistrez-le "
                       "de nouveau en PDF simple (« Imprimer » puis « Enregistrer au format PDF ») ou scannez le "
                       "document.")
    socket_path = current_app.config.get("CLAMAV_SOCKET")
    if socket_path:
        try:
            verdict = antivirus.scan_bytes(data, socket_path)
        except antivirus.ScannerUnavailable as error:
            current_app.logger.error("Analyse antivirus impossible : %s", error)
            raise ValidationFailed.for_field(
                field, "L'analyse antivirus du fichier est momentanément impossible : le fichier n'est pas déposé. "
                       "Réessayez dans quelques minutes.") from error
        if not verdict.clean:
            raise ValidationFailed.for_field(
                field, f"L'antivirus a détecté un contenu malveillant dans ce fichier ({verdict.signature}) : "
                       "il n'est pas déposé.")


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(upload: FileStorage | None, field: str = "file",
                 check_room: Callable[[int], None] | None = None) -> StoredUpload:
    """Checks and writes the upload; raises ValidationFailed (422) or TooLarge (413). `check_room(size)`
    raises when the upload does not fit a quota (called before anything is written)."""
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
    if check_room is not None:
        check_room(len(data))
    _check_content(data, content_type, field)
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
    """The bytes of a Document the caller was allowed to see (check access BEFORE calling); the read is audited."""
    from app.core import audit

    audit.record_read(f"pièce « {document.filename} »", getattr(document, "candidate_id", None))
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
