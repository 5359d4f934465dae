"""The webhooks page (a company: its establishment's; the secretariat: every file): register a URL (the secret is
shown once, on the page that answers the registration), delete, re-enable, and each hook's delivery log."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.errors import DomainError, NotFound, refusal_goes_back_to
from app.core.forms import BaseForm
from app.core.permissions import require, roles_required
from app.files import webhooks
from app.files.web import bp
from app.files.webhook_models import WEBHOOK_EVENTS

OWNERS = ("entreprise", "secretariat")


class WebhookForm(BaseForm):
    url = StringField("Adresse (URL) qui recevra les évènements, en https://")
    events = SelectMultipleField("Évènements", choices=[SelectChoice(k, v) for k, v in WEBHOOK_EVENTS.items()], validate_choice=False,
                                 default=["file.status_changed"], widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())


class ActionForm(BaseForm):
    pass


def _me():
    return current_user._get_current_object()


def _webhook(webhook_id: int):
    try:
        return webhooks.get_webhook(_me(), webhook_id)
    except NotFound:
        require(False)


@bp.route("/webhooks", methods=["GET", "POST"])
@roles_required(*OWNERS)
def webhook_list():
    form = WebhookForm()
    status, created = 200, None
    if form.validate_on_submit():
        try:
            created, _secret = webhooks.register_webhook(_me(), form.url.data, form.events.data or [])
        except DomainError as error:
            form.add_domain_errors(error)
            status = error.status_code
        else:
            status = 201
            form = WebhookForm(formdata=None)
    elif form.is_submitted():
        status = 422
    return render_template("files/webhooks.html", form=form, created=created, action_form=ActionForm(),
                           hooks=webhooks.list_webhooks(_me()), events=WEBHOOK_EVENTS), status


@bp.route("/webhooks/<int:webhook_id>")
@roles_required(*OWNERS)
def webhook_deliveries(webhook_id: int):
    webhook = _webhook(webhook_id)
    return render_template("files/webhook_deliveries.html", webhook=webhook, deliveries=webhooks.deliveries(webhook),
                           action_form=ActionForm())


@bp.route("/webhooks/<int:webhook_id>/supprimer", methods=["POST"])
@roles_required(*OWNERS)
def webhook_delete(webhook_id: int):
    webhook = _webhook(webhook_id)
    if ActionForm().validate_on_submit():
        url = webhook.url
        webhooks.delete_webhook(_me(), webhook)
        flash(f"Le webhook {url} est supprimé.", "success")
    return redirect(url_for("files.webhook_list"), 303)


@bp.route("/webhooks/<int:webhook_id>/reactiver", methods=["POST"])
@roles_required(*OWNERS)
def webhook_enable(webhook_id: int):
    webhook = _webhook(webhook_id)
    if ActionForm().validate_on_submit():
        with refusal_goes_back_to(url_for("files.webhook_list")):
            webhooks.enable_webhook(_me(), webhook)
        flash(f"Le webhook {webhook.url} est réactivé.", "success")
    return redirect(url_for("files.webhook_list"), 303)
