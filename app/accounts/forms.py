"""Forms of the accounts area: login, password, company account request, the secretariat's actions."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Email, Length

from app.core.forms import BaseForm


def strip(value):
    """People paste addresses with spaces around them."""
    return value.strip() if isinstance(value, str) else value


class LoginForm(BaseForm):
    email = EmailField("Adresse email", filters=[strip],
                       validators=[DataRequired(message="Saisissez votre adresse email."),
                                   Email(message="L'adresse email n'est pas valide.")])
    password = PasswordField("Mot de passe", validators=[DataRequired(message="Saisissez votre mot de passe.")])
    remember = BooleanField("Rester connecté sur cet appareil")


def _new_password_field() -> PasswordField:
    return PasswordField(
        "Nouveau mot de passe (12 caractères au moins)",
        validators=[DataRequired(message="Saisissez un mot de passe."),
                    Length(min=12, message="Le mot de passe doit contenir au moins 12 caractères.")],
    )


def _confirm_field() -> PasswordField:
    return PasswordField("Confirmez le mot de passe", validators=[DataRequired(message="Confirmez le mot de passe.")])


class _NewPassword:
    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError("Les deux mots de passe ne sont pas identiques.")


class SetPasswordForm(_NewPassword, BaseForm):
    password = _new_password_field()
    confirm = _confirm_field()


class AccountRequestForm(BaseForm):
    """The manual's « demande de création de compte » (one account per establishment, R12)."""

    siret = StringField("SIRET de l'établissement", validators=[
        DataRequired(message="Le SIRET est obligatoire."), Length(max=20, message="Le SIRET comporte 14 chiffres.")])
    establishment_name = StringField("Raison sociale de l'établissement", validators=[
        DataRequired(message="La raison sociale de l'établissement est obligatoire."), Length(max=255)])
    address = StringField("Adresse", validators=[DataRequired(message="L'adresse est obligatoire."), Length(max=255)])
    postcode = StringField("Code postal", validators=[DataRequired(message="Le code postal est obligatoire."),
                                                      Length(max=10)])
    city = StringField("Ville", validators=[DataRequired(message="La ville est obligatoire."), Length(max=120)])
    contact_first_name = StringField("Prénom du contact", validators=[
        DataRequired(message="Le prénom est obligatoire."), Length(max=120)])
    contact_last_name = StringField("Nom du contact", validators=[
        DataRequired(message="Le nom est obligatoire."), Length(max=120)])
    email = EmailField("Adresse email du contact", validators=[
        DataRequired(message="L'adresse email est obligatoire."), Length(max=255)])
    phone = StringField("Téléphone", validators=[DataRequired(message="Le téléphone est obligatoire."),
                                                 Length(max=40)])


class ForgotPasswordForm(BaseForm):
    email = EmailField("Adresse email de votre compte", filters=[strip], validators=[
        DataRequired(message="Saisissez votre adresse email."), Email(message="L'adresse email n'est pas valide.")])


class RefuseRequestForm(BaseForm):
    reason = TextAreaField("Motif du refus (envoyé au demandeur)", validators=[
        DataRequired(message="Indiquez le motif du refus : il est envoyé au demandeur."), Length(max=2000)])


class ConfirmForm(BaseForm):
    """A button-only form: the CSRF token is all it carries."""


class InviteUserForm(BaseForm):
    role = SelectField("Rôle", choices=[SelectChoice("jury", "Membre du jury"),
                                SelectChoice("partenaire", "Partenaire (OPCO, administration)")],
                       validators=[DataRequired(message="Choisissez le rôle.")])
    first_name = StringField("Prénom", validators=[DataRequired(message="Le prénom est obligatoire."), Length(max=120)])
    last_name = StringField("Nom", validators=[DataRequired(message="Le nom est obligatoire."), Length(max=120)])
    email = EmailField("Adresse email", validators=[DataRequired(message="L'adresse email est obligatoire."),
                                                    Length(max=255)])


class ProfileForm(BaseForm):
    """« Mon compte »: the user's name and address."""

    first_name = StringField("Prénom", filters=[strip], validators=[
        DataRequired(message="Le prénom est obligatoire."), Length(max=120)])
    last_name = StringField("Nom", filters=[strip], validators=[
        DataRequired(message="Le nom est obligatoire."), Length(max=120)])
    email = EmailField("Adresse email", filters=[strip], validators=[
        DataRequired(message="L'adresse email est obligatoire."), Email(message="L'adresse email n'est pas valide."),
        Length(max=255)])


class ChangePasswordForm(_NewPassword, BaseForm):
    """« Mon compte »: the current password, then the new one twice."""

    current_password = PasswordField("Mot de passe actuel", validators=[
        DataRequired(message="Saisissez votre mot de passe actuel.")])
    password = _new_password_field()
    confirm = _confirm_field()


class InviteColleagueForm(BaseForm):
    """A company user invites a colleague of the same establishment (prefixed: the account page also
    holds the user's own name and email fields)."""

    first_name = StringField("Prénom du collègue", filters=[strip], validators=[
        DataRequired(message="Le prénom est obligatoire."), Length(max=120)])
    last_name = StringField("Nom du collègue", filters=[strip], validators=[
        DataRequired(message="Le nom est obligatoire."), Length(max=120)])
    email = EmailField("Adresse email du collègue", filters=[strip], validators=[
        DataRequired(message="L'adresse email est obligatoire."), Email(message="L'adresse email n'est pas valide."),
        Length(max=255)])
