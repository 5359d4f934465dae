"""`flask retention purge [--dry-run]`: the retention policy applied, what it removed printed."""

from __future__ import annotations

import sys

import click
from flask import Flask

from app.core.errors import DomainError
from app.extensions import db


def register(app: Flask) -> None:
    group = click.Group("retention", help="Conservation des données personnelles (RGPD).")
    app.cli.add_command(group)

    @group.command("purge")
    @click.option("--dry-run", is_flag=True, help="Compte seulement : aucun avis envoyé, rien n'est supprimé.")
    def retention_purge(dry_run: bool):
        """Applique la politique de conservation (avis aux entreprises avant un effacement)."""
        from app.jury.retention import purge

        try:
            report = purge(dry_run=dry_run)
        except DomainError as error:
            db.session.rollback()
            click.echo(f"Erreur : {error.message}", err=True)
            sys.exit(1)
        if dry_run:
            db.session.rollback()
            click.echo("Simulation (--dry-run) : rien n'est modifié.")
        else:
            db.session.commit()
        for line in report.lines():
            click.echo(line)
