"""The restore drill (deploy/backup.py, `make backup` / `make restore`): a deployment's PostgreSQL database
and uploads are dumped, restored into a fresh database and an empty upload directory, and the app on the
restored copy is healthy and serves a known file's page, its document and its parchment."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.deploy.conftest import ROOT, deploy_database_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.multihost

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _fresh_database(url: str) -> str:
    parsed = make_url(url)
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    server.dispose()
    return url


def _app(url: str, uploads):
    from app import create_app

    return create_app({"APP_ENV": "testing", "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": url,
                       "UPLOAD_DIR": str(uploads), "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://",
                       "MAIL_DEV_MAILBOX": True})


def _known_file(app, monkeypatch) -> dict:
    """A file with a document, decided (valide) by a published session, with its parchment."""
    from datetime import date
    from io import BytesIO

    from flask_migrate import upgrade
    from werkzeug.datastructures import FileStorage

    from app.extensions import db
    from app.files import services
    from app.files.models import FileStatus
    from app.jury import decisions
    from app.referential.services import load_referential
    from tests.factories import make_file, make_session, make_user
    from tests.jury.helpers import decide

    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        load_referential()
        db.session.commit()
        monkeypatch.setenv("APP_TODAY", "2027-03-01")
        secretariat = make_user("secretariat", email="secretariat@sauvegarde.fr")
        jury_session = make_session(on=date(2027, 3, 20))
        file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session)
        company = make_user("entreprise", establishment=file.establishment)
        registered = file.status
        file.status = FileStatus.EN_COURS_INSCRIPTION.value  # the scan was sent while the file was being made
        document = services.upload_document(company, kind="dossier_candidature", candidate=file.candidate,
                                            file=file, upload=FileStorage(BytesIO(PDF), "scan.pdf", "application/pdf"))
        file.status = registered
        db.session.commit()
        monkeypatch.setenv("APP_TODAY", "2027-03-20")
        decide(file, secretariat, True)
        db.session.commit()
        monkeypatch.setenv("APP_TODAY", "2027-03-21")
        decisions.publish_session(jury_session, secretariat)
        db.session.commit()
        known = {"file": file.id, "document": document.id, "last_name": file.candidate.last_name,
                 "number": file.parchment.number, "secretariat": secretariat.email}
        db.session.remove()
        db.engine.dispose()
    return known


def test_a_backup_restores_into_a_fresh_database_and_upload_dir(deploy_database_url, tmp_path,  # noqa: F811
                                                                 monkeypatch):
    from tests.conftest import login
    from tests.factories import PASSWORD

    source_url = deploy_database_url.rsplit("/", 1)[0] + "/certifia_ops_backup_source"
    target_url = deploy_database_url.rsplit("/", 1)[0] + "/certifia_ops_backup_restored"
    _fresh_database(source_url)
    source_uploads, restored_uploads = tmp_path / "uploads", tmp_path / "restored-uploads"
    known = _known_file(_app(source_url, source_uploads), monkeypatch)

    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "DATABASE_URL": source_url, "UPLOAD_DIR": str(source_uploads)}
    saved = subprocess.run([sys.executable, "deploy/backup.py", "backup", "--dir", str(tmp_path / "backups")],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert saved.returncode == 0, saved.stderr
    (dump,) = (tmp_path / "backups").glob("certifia-*.dump")
    prefix = str(dump).removesuffix(".dump")
    assert (tmp_path / "backups" / f"{dump.stem}.uploads.tar.gz").is_file()
    assert "Sauvegarde écrite" in saved.stdout

    _fresh_database(target_url)
    env.update(DATABASE_URL=target_url, UPLOAD_DIR=str(restored_uploads))
    restored = subprocess.run([sys.executable, "deploy/backup.py", "restore", prefix], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
    assert restored.returncode == 0, restored.stderr
    again = subprocess.run([sys.executable, "deploy/backup.py", "restore", prefix], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "UPLOAD_DIR n'est pas vide" in again.stderr  # never over live data

    app = _app(target_url, restored_uploads)
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 200 and health.json["status"] == "ok", health.json
    assert login(client, known["secretariat"], PASSWORD).status_code == 302
    page = client.get(f"/dossiers/{known['file']}")
    assert page.status_code == 200 and known["last_name"] in page.get_data(as_text=True)
    document = client.get(f"/dossiers/{known['file']}/documents/{known['document']}")
    assert document.status_code == 200 and document.data == PDF
    parchment = client.get(f"/dossiers/{known['file']}/parchemin.pdf")
    assert parchment.status_code == 200 and parchment.data.startswith(b"%PDF")
    assert client.get(f"/verify/{known['number']}", follow_redirects=True).status_code == 200
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
