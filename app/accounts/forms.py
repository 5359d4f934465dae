from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from app.core.forms import BaseForm


class LoginForm(BaseForm):
    email = EmailField("Adresse email", validators=[DataRequired(message="Saisissez votre adresse email."),
                                                    Email(message="L'adresse email n'est pas valide.")])
    password = PasswordField("Mot de passe", validators=[DataRequired(message="Saisissez votre mot de passe.")])
    remember = BooleanField("Rester connecté sur cet appareil")


class SetPasswordForm(BaseForm):
    password = PasswordField(
        "Nouveau mot de passe (12 caractères au moins)",
        validators=[DataRequired(message="Saisissez un mot de passe."),
                    Length(min=12, message="Le mot de passe doit contenir au moins 12 caractères.")],
    )
    confirm = PasswordField("Confirmez le mot de passe",
                            validators=[DataRequired(message="Confirmez le mot de passe.")])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            from wtforms import ValidationError

            raise ValidationError("Les deux mots de passe ne sont pas identiques.")


class EstablishmentNameForm(BaseForm):
    name = StringField("Raison sociale", validators=[DataRequired(message="La raison sociale est obligatoire.")])
