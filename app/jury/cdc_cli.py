"""`flask cdc export` and `flask cdc report FILE`: the CPF register (R16) from the command line."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click
from flask import Flask

from app.core.errors import DomainError
from app.core.templating import pluriel
from app.extensions import db


def _fail(error: DomainError) -> None:
    db.session.rollback()
    click.echo(f"Erreur : {error.message if hasattr(error, 'message') else error}", err=True)
    sys.exit(1)


def register(app: Flask) -> None:
    group = click.Group("cdc", help="Registre CPF : flux vers la Caisse des Dépôts (R16).")
    app.cli.add_command(group)

    @group.command("export")
    @click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Copie du flux XML à écrire ici (par défaut : flux-cpf-<idFlux>.xml).")
    def cdc_export(output: Path | None):
        """Construit le flux des titulaires à transmettre, l'écrit et affiche les comptes."""
        from app.jury import cdc

        try:
            export, incomplete = cdc.create_export(None)
        except DomainError as error:
            _fail(error)
        db.session.commit()
        target = output or Path(f"flux-cpf-{export.flux_id}.xml")
        shutil.copyfile(cdc.flux_path(export), target)
        click.echo(f"Flux {export.flux_id} : {pluriel(export.passages_count, 'titulaire')} écrit dans {target}.")
        if incomplete:
            click.echo(f"{pluriel(len(incomplete), 'identité')} à compléter, non transmises :")
            for item in incomplete:
                click.echo(f"  dossier {item.file_id} ({item.number}) : {cdc.describe_missing(item.missing)}")

    @group.command("report")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def cdc_report(file: Path):
        """Importe le rapport de traitement de la Caisse des Dépôts (FILE, XML)."""
        from app.jury import cdc

        content = file.read_bytes()
        try:
            flux_id = cdc.parse_report(content)["flux_id"]
            export = db.session.scalar(db.select(cdc.CdcExport).where(cdc.CdcExport.flux_id == flux_id))
            if export is None:
                raise cdc.ValidationFailed.for_field("file", f"Aucun flux {flux_id} n'a été déposé par Certifia.")
            counts = cdc.import_report(export, content)
        except DomainError as error:
            _fail(error)
        db.session.commit()
        click.echo(f"Flux {export.flux_id} : {pluriel(counts['accepted'], 'passage accepté', 'passages acceptés')}, "
                   f"{pluriel(counts['rejected'], 'passage rejeté', 'passages rejetés')}.")
