"""`flask reminders send`: the daily reminders of docs/api.md (meant for a daily cron)."""

from __future__ import annotations

import click
from flask import Flask

from app.core.templating import pluriel
from app.extensions import db

REMINDER_LABELS = {
    "assessor_window": "évaluateurs (fin de saisie des résultats dans 2 jours)",
    "job_assessor_invitation": "évaluateurs métier (invitation sans réponse depuis 7 jours)",
    "company_deadline": "entreprises (fin des inscriptions au jury dans 7 jours)",
    "session_unpublished": "secrétariat (session non publiée 48 heures après le jury)",
    "habilitation_end": "évaluateurs (habilitation finissant dans 9 mois, dans 3 mois, ce jour)",
    "carry_over_expiry": "entreprises (compétences acquises valables encore 6 mois)",
    "stalled_file": "dossiers sans activité (60 jours : qui doit agir ; 120 jours : abandonner ou relancer)",
}


def register(app: Flask) -> None:
    reminders = click.Group("reminders", help="Rappels par email (à lancer chaque jour).")
    app.cli.add_command(reminders)

    @reminders.command("send")
    def reminders_send():
        """Envoie les rappels dus aujourd'hui ; chacun n'est envoyé qu'une fois."""
        from app.core.mail import send_pending
        from app.jury.notifications import send_reminders

        counts = send_reminders()
        db.session.commit()
        delivery = send_pending()
        for kind, count in counts.items():
            click.echo(f"{pluriel(count, 'rappel')} aux {REMINDER_LABELS[kind]}")
        click.echo(f"Emails : {pluriel(delivery['sent'], 'envoyé', 'envoyés')}, {delivery['retry']} à réessayer, "
                   f"{delivery['failed']} en échec.")
