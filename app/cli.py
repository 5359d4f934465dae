"""Command line (README): seed, demo, users create, tokens create, outbox send."""

from __future__ import annotations

import sys

import click
from flask import Flask

from app.core.errors import DomainError
from app.core.templating import pluriel
from app.extensions import db


def _fail(error: DomainError) -> None:
    db.session.rollback()
    messages = [m for field_messages in error.errors.values() for m in field_messages if m != error.message]
    click.echo(" ".join([f"Erreur : {error.message}", *messages]), err=True)
    sys.exit(1)


def _synthetic_branch_generator():
    """tests/perf/synthetic.py's generator: a benchmark tool of the repository, not of the application
    (run from the repository's root, as `make run` does)."""
    try:
        from tests.perf.synthetic import generate_branch
    except ImportError:
        click.echo("Erreur : --files a besoin du générateur de branche synthétique tests/perf/synthetic.py : "
                   "lancez la commande depuis la racine du dépôt Certifia.", err=True)
        sys.exit(1)
    return generate_branch


def register(app: Flask) -> None:
    @app.cli.command("seed")
    def seed():
        """Charge le référentiel CQP de seed_data/ (idempotent)."""
        from app.referential.services import load_referential

        counts = load_referential()
        db.session.commit()
        click.echo(
            f"Référentiel chargé : {pluriel(counts['cqps_created'], 'CQP créé', 'CQP créés')}, "
            f"{pluriel(counts['cqps_updated'], 'mis à jour', 'mis à jour')}, "
            f"{pluriel(counts['competences_created'], 'compétence créée', 'compétences créées')}, "
            f"{pluriel(counts['competences_updated'], 'mise à jour', 'mises à jour')}."
        )

    @app.cli.command("demo")
    @click.option("--files", "n_files", type=click.IntRange(min=0), default=None,
                  help="Génère aussi une branche synthétique de N dossiers (ex. 100000), pour les statistiques.")
    def demo(n_files):
        """Charge un petit jeu de démonstration, un utilisateur par rôle, et affiche leurs identifiants."""
        from app.demo import load_demo

        generate_branch = _synthetic_branch_generator() if n_files else None
        try:
            logins = load_demo()
        except DomainError as error:
            _fail(error)
        db.session.commit()
        if n_files:
            with click.progressbar(length=n_files, label=f"Branche synthétique ({n_files} dossiers)") as bar:
                done = 0
                for written in generate_branch(n_files):
                    db.session.commit()  # one batch at a time: memory stays flat
                    bar.update(written - done)
                    done = written
            db.session.commit()
            click.echo(f"{pluriel(n_files, 'dossier synthétique créé', 'dossiers synthétiques créés')}.")
        click.echo("Comptes de démonstration (mot de passe commun) :")
        for role, email, password in logins:
            click.echo(f"  {role:<18} {email:<40} {password}")

    users = click.Group("users", help="Gestion des utilisateurs.")
    app.cli.add_command(users)

    @users.command("create")
    @click.argument("email")
    @click.option("--role", required=True, help="entreprise, candidat, evaluateur, evaluateur_metier, jury, secretariat, partenaire")
    @click.option("--siret", default=None, help="Établissement (créé s'il n'existe pas) pour le rôle entreprise.")
    @click.option("--password", default=None, help="Mot de passe (12 caractères au moins).")
    @click.option("--name", default="", help="Prénom Nom (ou raison sociale pour un nouvel établissement).")
    def users_create(email, role, siret, password, name):
        """Crée un utilisateur."""
        from app.accounts import services

        first, _, last = (name or "").strip().partition(" ")
        try:
            establishment = None
            if siret:
                establishment = services.find_establishment(siret)
                if establishment is None:
                    establishment = services.create_establishment(siret, name or f"Établissement {siret}")
            user = services.create_user(email, role, password=password, first_name=first, last_name=last,
                                        establishment=establishment)
        except DomainError as error:
            _fail(error)
        db.session.commit()
        click.echo(f"Utilisateur créé : {user.email} ({user.role}), id {user.id}.")

    tokens = click.Group("tokens", help="Jetons d'API.")
    app.cli.add_command(tokens)

    @tokens.command("create")
    @click.argument("email")
    def tokens_create(email):
        """Affiche un nouveau jeton d'API pour cet utilisateur (une seule fois)."""
        from app.accounts import services

        user = services.find_user_by_email(email)
        if user is None:
            click.echo(f"Erreur : aucun utilisateur pour l'adresse {email}.", err=True)
            sys.exit(1)
        token = services.create_api_token(user, name="cli")
        db.session.commit()
        click.echo(f"Jeton créé pour {user.email} ({user.role}). Conservez-le : il ne sera plus affiché.")
        click.echo(token)

    from app.jury.cdc_cli import register as register_cdc_cli
    from app.jury.cli import register as register_jury_cli
    from app.jury.retention_cli import register as register_retention_cli

    register_jury_cli(app)
    register_cdc_cli(app)
    register_retention_cli(app)

    outbox = click.Group("outbox", help="Emails en attente d'envoi.")
    app.cli.add_command(outbox)

    @outbox.command("send")
    def outbox_send():
        """Envoie les emails et les appels de webhooks en attente, avec reprises ; code 0 quand il ne reste rien."""
        from app.core.mail import pending_count
        from app.files import webhooks
        from app.worker import send_outbox

        counts = send_outbox()
        left = pending_count()
        click.echo(f"{pluriel(counts['sent'], 'email envoyé', 'emails envoyés')}, {counts['retry']} à réessayer, "
                   f"{counts['failed']} en échec, {left} en attente.")
        hooks_left = webhooks.pending_count()
        if counts["webhooks_delivered"] or counts["webhooks_retry"] or counts["webhooks_failed"] or hooks_left:
            click.echo(f"Webhooks : {pluriel(counts['webhooks_delivered'], 'appel livré', 'appels livrés')}, "
                       f"{counts['webhooks_retry']} à réessayer, {counts['webhooks_failed']} en échec, "
                       f"{hooks_left} en attente.")
        sys.exit(0 if left == 0 and hooks_left == 0 else 1)

    @app.cli.command("check")
    def check():
        """Vérifie la base (joignable, schéma à jour) et Redis, comme GET /health ; code 0 si tout va bien."""
        from app.core.health import health_report

        report, _status = health_report()
        labels = {"database": "Base de données", "migrations": "Migrations", "redis": "Redis"}
        for part, label in labels.items():
            click.echo(f"{label} : {report[part]}")
        for problem in report.get("problems", []):
            click.echo(f"Problème : {problem}", err=True)
        sys.exit(0 if report["status"] == "ok" else 1)
