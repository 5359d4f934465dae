"""Forms of the exchanges on a file: a correction request, its answer, a message of the thread. Field names are
the service's (and API's), so that a refusal lands on the right field."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import SelectMultipleField, TextAreaField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.forms import BaseForm
from app.files.exchange_models import CORRECTABLE_FIELDS
from app.files.forms import choices

# The service says what is missing (French, naming the field): the forms only bound the length.


class CorrectionRequestForm(BaseForm):
    message = TextAreaField("Ce que l'entreprise doit corriger", validators=[Length(max=5000)], id="correction-message")
    fields = SelectMultipleField("Éléments concernés (facultatif)", id="correction-fields", choices=choices(CORRECTABLE_FIELDS.items()),
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                 validate_choice=False)


class CorrectionAnswerForm(BaseForm):
    message = TextAreaField("Votre réponse (ce qui a été corrigé)", validators=[Length(max=5000)],
                            id="correction-answer")


class MessageForm(BaseForm):
    body = TextAreaField("Votre message", validators=[Length(max=5000)], id="message-body")
    # Not `file`: the documents' upload form of the same page has that id.
    attachment = FileField("Pièce jointe facultative (PDF, PNG ou JPEG, 10 Mo au maximum)", id="message-attachment")
