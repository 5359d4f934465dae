"""`flask training-orgs import FILE`: the public list of training organisations (data.gouv.fr) loaded in one
transaction, with a progress bar (rich, on the error output) and a summary."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from app.core.templating import pluriel
from app.extensions import db
from app.referential import training_orgs


def register(app: Flask) -> None:
    group = AppGroup("training-orgs", help="Organismes de formation (liste publique, API Carif-Oref).")
    app.cli.add_command(group)

    @group.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--batch-size", type=click.IntRange(min=1), default=training_orgs.BATCH_SIZE, show_default=True,
                  help="Lignes écrites par lot.")
    def import_command(path: Path, batch_size: int):
        """Charge la liste publique des organismes de formation (CSV de data.gouv.fr, séparé par des
        points-virgules) : idempotent, une seule transaction, rien de remplacé si le fichier est illisible."""
        console = Console(stderr=True)
        columns = (TextColumn("Organismes de formation"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        try:
            with path.open("rb") as stream, Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("import", total=path.stat().st_size)
                summary = training_orgs.import_public_list(
                    stream, progress=lambda done: bar.advance(task, done), batch_size=batch_size)
        except training_orgs.ImportRefused as error:
            db.session.rollback()
            click.echo(f"Erreur : {error.message}", err=True)
            sys.exit(1)
        db.session.commit()
        click.echo(
            f"Liste publique importée : {pluriel(summary.lines, 'ligne lue', 'lignes lues')}, "
            f"{pluriel(summary.organisations, 'organisme', 'organismes')} "
            f"({pluriel(summary.created, 'créé', 'créés')}, {pluriel(summary.updated, 'mis à jour', 'mis à jour')}).")
        if summary.skipped_siret:
            shown = ", ".join(str(n) for n in summary.skipped_lines)
            more = " …" if summary.skipped_siret > len(summary.skipped_lines) else ""
            click.echo(f"{pluriel(summary.skipped_siret, 'ligne ignorée', 'lignes ignorées')} : SIRET mal formé "
                       f"(lignes {shown}{more}).")
        if summary.withdrawn:
            click.echo(f"{pluriel(summary.withdrawn, 'organisme absent', 'organismes absents')} de cette liste : "
                       "numéro de déclaration d'activité désormais inactif.")
