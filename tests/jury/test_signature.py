"""The president's signature printed on parchments and attestations: the secretariat uploads it once on
/secretariat/signature (PNG or JPEG, checked by its first bytes and decoded), replaces or removes it."""

from __future__ import annotations

import io

import pytest

from app.jury import signature
from tests.accounts.conftest import page_text
from tests.conftest import submit_form
from tests.factories import make_user
from tests.jury.test_pdf import _png

URL = "/secretariat/signature"


@pytest.fixture(autouse=True)
def _no_signature(app):
    """The upload directory lives as long as the test session: no signature before or after each test."""
    import shutil
    from pathlib import Path

    folder = Path(app.config["UPLOAD_DIR"]) / "signature"
    shutil.rmtree(folder, ignore_errors=True)
    yield
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def secretary(app_ctx, login_as):
    user = make_user("secretariat")
    login_as(user)
    return user


def _post(client, data: bytes | None, signatory="Jeanne Martin", name="signature.png"):
    form = {"signatory": signatory}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return submit_form(client, URL, form, content_type="multipart/form-data")


def test_upload_replace_and_remove(client, secretary):
    assert "Aucune signature n'est enregistrée" in page_text(client.get(URL))
    response = _post(client, _png())
    assert response.status_code == 302
    current = signature.current_signature()
    assert current.signatory == "Jeanne Martin" and current.content_type == "image/png"
    html = page_text(client.get(URL))
    assert "data:image/png;base64," in html and "Jeanne Martin" in html
    from PIL import Image

    jpeg = io.BytesIO()
    Image.open(io.BytesIO(_png())).save(jpeg, format="JPEG")
    assert _post(client, jpeg.getvalue(), "Paul  Durand", "sig.jpg").status_code == 302
    current = signature.current_signature()
    assert current.signatory == "Paul Durand" and current.content_type == "image/jpeg"
    assert len(list(current.path.parent.glob("president.*"))) == 1
    response = submit_form(client, URL, {"action": "remove"})
    assert response.status_code == 302 and signature.current_signature() is None


@pytest.mark.parametrize("data, signatory, name, field, message", [
    (None, "Jeanne Martin", None, "file", "Choisissez un fichier"),
    (b"", "Jeanne Martin", "vide.png", "file", "Le fichier est vide"),
    (b"%PDF-1.7 du texte", "Jeanne Martin", "sig.pdf", "file", "pas un PDF"),
    (b"GIF89a......", "Jeanne Martin", "sig.gif", "file", "ni un PDF"),
    (b"\x89PNG\r\n\x1a\n truncated", "Jeanne Martin", "sig.png", "file", "illisible"),
    ("tiny", "Jeanne Martin", "sig.png", "file", "trop petite"),
    ("png", "", "sig.png", "signatory", "nom du signataire"),
    ("png", "x" * 121, "sig.png", "signatory", "120 caractères"),
])
def test_every_bad_input_is_named_and_nothing_is_kept(client, secretary, data, signatory, name, field, message):
    from app.core.uploads import upload_dir

    before = sorted(p.name for p in upload_dir().iterdir() if p.is_file())
    if data == "png":
        data = _png()
    elif data == "tiny":
        data = _png(30, 10)
    response = _post(client, data, signatory, name or "x.png") if data is not None else _post(client, None, signatory)
    assert response.status_code == 422
    html = page_text(response)
    assert message in html and f'id="{field}-erreur"' in html
    assert signature.current_signature() is None
    assert sorted(p.name for p in upload_dir().iterdir() if p.is_file()) == before


@pytest.mark.parametrize("role", ["entreprise", "jury", "evaluateur", "candidat", "partenaire"])
def test_only_the_secretariat(app_ctx, client, login_as, role):
    login_as(make_user(role))
    assert client.get(URL).status_code in (302, 403, 404)
