"""The signature of the jury's president printed on parchments and attestations (France compétences: a
parchment bears the signature of the certifier's authority). The secretariat uploads it once: a PNG or JPEG
image, checked by its first bytes (app.core.uploads) and decoded, stored under UPLOAD_DIR/signature/ with
the signatory's name. No database row: the file is the setting."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from werkzeug.datastructures import FileStorage

from app.core import audit
from app.core.clock import now
from app.core.errors import NotFound, ValidationFailed
from app.core.uploads import discard, store_upload, upload_dir

IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg"}
MAX_NAME = 120


@dataclass(frozen=True)
class Signature:
    signatory: str  # « Prénom NOM », printed under the image
    content_type: str
    uploaded_at: str
    path: Path

    @property
    def uploaded_on(self):
        from datetime import datetime

        try:
            return datetime.fromisoformat(self.uploaded_at).date()
        except ValueError:
            return None

    def data_uri(self) -> str:
        return f"data:{self.content_type};base64," + base64.b64encode(self.path.read_bytes()).decode("ascii")


def _dir() -> Path:
    path = upload_dir() / "signature"
    path.mkdir(parents=True, exist_ok=True)
    return path


def current_signature() -> Signature | None:
    """The uploaded signature, or None (the documents then print a line to sign by hand)."""
    try:
        meta = json.loads((_dir() / "signature.json").read_text(encoding="utf-8"))
        path = _dir() / f"president.{IMAGE_TYPES[meta['content_type']]}"
        if not path.is_file():
            return None
        return Signature(meta.get("signatory") or "", meta["content_type"], meta.get("uploaded_at") or "", path)
    except (OSError, ValueError, KeyError):
        return None


def _check_image(data: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as image:
            image.verify()
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationFailed.for_field("file", "Cette image est illisible : déposez la signature en PNG ou en "
                                                 "JPEG.") from None
    if width < 60 or height < 20:
        raise ValidationFailed.for_field("file", f"L'image est trop petite ({width} × {height} pixels) : il faut au "
                                                 "moins 60 × 20 pixels pour une signature lisible.")


def save_signature(upload: FileStorage | None, signatory: str | None, *, actor=None) -> Signature:
    """Replaces the signature; every mistake named (the file, the signatory's name), nothing kept then."""
    errors: dict[str, list[str]] = {}
    name = " ".join((signatory or "").split())
    if not name:
        errors["signatory"] = ["Le nom du signataire (le président du jury) est obligatoire."]
    elif len(name) > MAX_NAME:
        errors["signatory"] = [f"Le nom du signataire : {MAX_NAME} caractères au plus."]
    stored = None
    try:
        stored = store_upload(upload, field="file")
        if stored.content_type not in IMAGE_TYPES:
            raise ValidationFailed.for_field("file", "La signature doit être une image PNG ou JPEG (pas un PDF).")
        _check_image((upload_dir() / stored.stored_name).read_bytes())
    except ValidationFailed as error:
        errors.update(error.errors)
    if errors:
        if stored is not None:
            discard(stored.stored_name)
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors)
    folder = _dir()
    for old in folder.glob("president.*"):
        old.unlink(missing_ok=True)
    target = folder / f"president.{IMAGE_TYPES[stored.content_type]}"
    os.replace(upload_dir() / stored.stored_name, target)
    meta = {"signatory": name, "content_type": stored.content_type, "uploaded_at": now().isoformat(),
            "filename": stored.filename}
    (folder / "signature.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    audit.record("signature.upload", actor, None, signatory=name)
    return current_signature()


def remove_signature(*, actor=None) -> None:
    if current_signature() is None:
        raise NotFound("Aucune signature n'est enregistrée.")
    for old in _dir().glob("president.*"):
        old.unlink(missing_ok=True)
    (_dir() / "signature.json").unlink(missing_ok=True)
    audit.record("signature.remove", actor, None)
