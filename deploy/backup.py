"""Backups of a Certifia deployment (docs/deploy.md): the PostgreSQL database in pg_dump's custom format
and the uploads directory (the scans) as a tar archive, side by side; and their restore.

    python deploy/backup.py backup  [--dir BACKUP_DIR]           (make backup)
    python deploy/backup.py restore PREFIX [--force]             (make restore BACKUP=PREFIX)

Read from the environment as the app does: DATABASE_URL (postgresql+psycopg://… or postgresql://…) and
UPLOAD_DIR. A backup is two files, PREFIX.dump and PREFIX.uploads.tar.gz (PREFIX = DIR/certifia-<UTC
date and time>), written under a temporary name then renamed, so that a half-written backup never looks
complete. The restore goes into an EMPTY database (created beforehand: `createdb`) and an empty or
missing UPLOAD_DIR, unless --force (then the database's objects are replaced, pg_restore --clean,
and the uploads are extracted over the directory). Needs pg_dump/pg_restore (postgresql-client) of a
version ≥ the server's."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def libpq_url(database_url: str) -> str:
    """SQLAlchemy's URL as libpq reads it: postgresql+psycopg://… → postgresql://…"""
    parts = urlsplit(database_url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        sys.exit(f"DATABASE_URL doit désigner une base PostgreSQL (reçu : {parts.scheme}://…).")
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


def _settings() -> tuple[str, Path]:
    database_url = os.environ.get("DATABASE_URL")
    upload_dir = os.environ.get("UPLOAD_DIR")
    if not database_url:
        sys.exit("DATABASE_URL est requis (la base PostgreSQL à sauvegarder ou à restaurer).")
    if not upload_dir:
        sys.exit("UPLOAD_DIR est requis (le répertoire des pièces déposées).")
    return libpq_url(database_url), Path(upload_dir)


def backup(directory: Path) -> Path:
    database, uploads = _settings()
    if not uploads.is_dir():
        sys.exit(f"UPLOAD_DIR n'est pas un répertoire : {uploads}")
    directory.mkdir(parents=True, exist_ok=True)
    prefix = directory / f"certifia-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    dump, archive = Path(f"{prefix}.dump"), Path(f"{prefix}.uploads.tar.gz")
    partial_dump, partial_archive = Path(f"{dump}.partial"), Path(f"{archive}.partial")
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial_dump}",
                    f"--dbname={database}"], check=True)
    with tarfile.open(partial_archive, "w:gz") as tar:
        tar.add(uploads, arcname=".")
    partial_dump.rename(dump)
    partial_archive.rename(archive)
    print(f"Sauvegarde écrite : {dump} et {archive}")
    return prefix


def restore(prefix: str, force: bool = False) -> None:
    database, uploads = _settings()
    dump, archive = Path(f"{prefix}.dump"), Path(f"{prefix}.uploads.tar.gz")
    for path in (dump, archive):
        if not path.is_file():
            sys.exit(f"Fichier de sauvegarde introuvable : {path}")
    if uploads.exists() and any(uploads.iterdir()) and not force:
        sys.exit(f"UPLOAD_DIR n'est pas vide ({uploads}) : restaurez dans un répertoire vide, ou ajoutez --force.")
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={database}"]
    if force:
        command += ["--clean", "--if-exists"]
    subprocess.run([*command, str(dump)], check=True)
    uploads.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(uploads, filter="data")
    print(f"Restauré : base depuis {dump}, pièces dans {uploads}. Vérifiez : flask --app app check")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python deploy/backup.py", description="Sauvegarde et restauration de Certifia.")
    commands = parser.add_subparsers(dest="command", required=True)
    save = commands.add_parser("backup", help="sauvegarde la base (pg_dump -Fc) et UPLOAD_DIR (tar.gz)")
    save.add_argument("--dir", default=os.environ.get("BACKUP_DIR", "backups"), help="répertoire des sauvegardes")
    load = commands.add_parser("restore", help="restaure une sauvegarde dans DATABASE_URL et UPLOAD_DIR")
    load.add_argument("prefix", help="chemin commun des deux fichiers, sans .dump ni .uploads.tar.gz")
    load.add_argument("--force", action="store_true", help="remplace ce que la base et UPLOAD_DIR contiennent")
    args = parser.parse_args(argv)
    if args.command == "backup":
        backup(Path(args.dir))
    else:
        restore(args.prefix.removesuffix(".dump").removesuffix(".uploads.tar.gz"), force=args.force)


if __name__ == "__main__":
    main()
