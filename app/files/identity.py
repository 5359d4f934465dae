"""The checks of a holder's identity (what the CPF register needs) and of a candidate's contact fields:
each mistake collected, so that a form or a request names them all at once (app/files/candidates.py)."""

from __future__ import annotations

import re
from datetime import date

from app.accounts import services as accounts
from app.core.clock import today
from app.core.errors import ValidationFailed

MIN_AGE_YEARS = 15
SEXES = {"M": "Homme", "F": "Femme"}
# The holder's identity (R15): on an issued record, only the secretariat rectifies it (app.jury.record).
IDENTITY_FIELDS = ("last_name", "usage_name", "first_name", "other_first_names", "birth_date", "sex",
                   "birth_place_code", "birth_place", "birth_country")
CONTACT_FIELDS = ("email", "phone", "address", "job_title", "highest_diploma")
MAX_OTHER_FIRST_NAMES = 2
TEXT_SIZES = {"last_name": 120, "first_name": 120, "usage_name": 120, "birth_place": 120, "birth_country": 120,
              "phone": 40, "address": 255, "job_title": 255, "highest_diploma": 255}
FIELD_LABELS = {"last_name": "Le nom de naissance", "first_name": "Le prénom", "usage_name": "Le nom d'usage",
                "birth_place": "Le lieu de naissance", "birth_country": "Le pays de naissance",
                "phone": "Le téléphone", "address": "L'adresse postale", "job_title": "L'emploi occupé",
                "highest_diploma": "Le diplôme le plus élevé"}
INSEE_CODE = re.compile(r"(?:[0-9][0-9AB]|2[AB])[0-9]{3}")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _check_birth_date(value, on: date | None = None) -> date:
    """A plausible birth date: not before 1900, not in the future, at least 15 years before `on` (the day
    the candidate is created, today by default)."""
    if value is None or value == "":
        raise ValidationFailed.for_field("birth_date", "La date de naissance est obligatoire.")
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed.for_field(
                "birth_date", "La date de naissance n'est pas valide (format attendu AAAA-MM-JJ)."
            ) from None
    on = on or today()
    if value > today():
        raise ValidationFailed.for_field("birth_date", "La date de naissance n'est pas plausible : elle est dans le "
                                         "futur.")
    if value.year < 1900:
        raise ValidationFailed.for_field("birth_date", "La date de naissance n'est pas plausible : elle est "
                                         "antérieure au 1er janvier 1900.")
    latest = _years_before(on, MIN_AGE_YEARS)
    if value > latest:
        raise ValidationFailed.for_field(
            "birth_date", f"La date de naissance n'est pas plausible : le candidat doit avoir au moins "
            f"{MIN_AGE_YEARS} ans (né le {latest.strftime('%d/%m/%Y')} au plus tard).")
    return value


def lookup_place(code: str):
    """The place of the official geographic code (COG) behind an INSEE code, or None."""
    from app.referential import geography  # the COG index (loaded once)

    return geography.lookup(code)


class FieldErrors(dict):
    """Every field's messages of one request, raised at once."""

    def run(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except ValidationFailed as error:
            for name, messages in (error.errors or {"": [error.message]}).items():
                self.setdefault(name, []).extend(messages)
            return None

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            names = ", ".join(FIELD_NAMES_FR.get(name, name) for name in self)
            first = next(iter(self.values()))[0] if len(self) == 1 else f"Champs à corriger : {names}."
            raise ValidationFailed(first, dict(self))


FIELD_NAMES_FR = {"last_name": "nom de naissance", "first_name": "prénom", "usage_name": "nom d'usage",
                  "other_first_names": "autres prénoms", "birth_date": "date de naissance", "sex": "sexe",
                  "birth_place_code": "code INSEE du lieu de naissance", "birth_place": "commune de naissance",
                  "birth_country": "pays de naissance", "email": "adresse email", "reason": "motif"}


def _text(value, name: str, *, required: bool = False) -> str | None:
    label = FIELD_LABELS.get(name, name)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed.for_field(name, f"{label} doit être un texte.")
    text = (value or "").strip()
    if "\x00" in text:
        raise ValidationFailed.for_field(name, f"{label} contient un caractère invalide.")
    if not text:
        if required:
            raise ValidationFailed.for_field(name, f"{label} est obligatoire.")
        return None
    size = TEXT_SIZES.get(name)
    if size and len(text) > size:
        raise ValidationFailed.for_field(name, f"{label} fait {size} caractères au plus.")
    return text


def _other_first_names(value) -> list[str] | None:
    """Up to two other first names, from a list (API) or a text separated by commas (a form's field)."""
    if value is None or value == "":
        return None
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str | None) for item in items):
        raise ValidationFailed.for_field("other_first_names", "Les autres prénoms doivent être une liste de textes.")
    names = [item.strip() for item in items if item and item.strip()]
    if len(names) > MAX_OTHER_FIRST_NAMES:
        raise ValidationFailed.for_field(
            "other_first_names", f"Deux autres prénoms au plus (le premier prénom est à part) : {len(names)} reçus.")
    if any(len(name) > 120 or "\x00" in name for name in names):
        raise ValidationFailed.for_field("other_first_names", "Un des autres prénoms n'est pas valide "
                                         "(120 caractères au plus).")
    return names or None


def _sex(value) -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().upper() if isinstance(value, str) else value
    if code not in SEXES:
        raise ValidationFailed.for_field("sex", "Le sexe doit valoir « M » (homme) ou « F » (femme).")
    return code


def _birth_place_code(value):
    """(code, place) of the official geographic code, (None, None) when empty."""
    if value is None or value == "":
        return None, None
    code = value.strip().upper() if isinstance(value, str) else None
    if not code:
        return None, None
    if not INSEE_CODE.fullmatch(code):
        raise ValidationFailed.for_field(
            "birth_place_code", "Le code du lieu de naissance doit faire 5 caractères : le code INSEE de la commune "
            "(par exemple 69123), ou 99 suivi du code du pays pour une naissance à l'étranger (par exemple 99109).")
    place = lookup_place(code)
    if place is None:
        raise ValidationFailed.for_field(
            "birth_place_code", f"Le code du lieu de naissance {code} est inconnu du code officiel géographique "
            "(INSEE) : choisissez la commune, ou le pays pour une naissance à l'étranger.")
    return code, place


def clean_identity(data: dict, errors: FieldErrors, *, on: date | None = None) -> dict:
    """The identity fields present in `data`, cleaned; each mistake goes to `errors`. The labels of the
    place of birth follow its code when they are not given."""
    clean: dict = {}
    for name in ("last_name", "first_name"):
        if name in data:
            clean[name] = errors.run(_text, data[name], name, required=True)
    for name in ("usage_name", "birth_place", "birth_country"):
        if name in data:
            clean[name] = errors.run(_text, data[name], name)
    if "other_first_names" in data:
        clean["other_first_names"] = errors.run(_other_first_names, data["other_first_names"])
    if "birth_date" in data:
        clean["birth_date"] = errors.run(_check_birth_date, data["birth_date"], on)
    if "sex" in data:
        clean["sex"] = errors.run(_sex, data["sex"])
    if "birth_place_code" in data:
        code, place = errors.run(_birth_place_code, data["birth_place_code"]) or (None, None)
        clean["birth_place_code"] = code
        if place is not None:
            _labels_from_place(clean, data, place)
    return {name: value for name, value in clean.items() if name not in errors}


def _labels_from_place(clean: dict, data: dict, place) -> None:
    """A commune names the birth place (and France); a country names the birth country. A label sent with
    the code is kept (the form's widget sends both)."""
    if place.kind == "pays":
        if not clean.get("birth_country"):
            clean["birth_country"] = place.label
    else:
        if not clean.get("birth_place"):
            clean["birth_place"] = place.label
        if not clean.get("birth_country"):
            clean["birth_country"] = "France"


def clean_contact(data: dict, errors: FieldErrors) -> dict:
    clean: dict = {}
    if "email" in data:
        email = errors.run(_text, data["email"], "email")
        clean["email"] = errors.run(accounts.check_email, email) if email else None
    for name in ("phone", "address", "job_title", "highest_diploma"):
        if name in data:
            clean[name] = errors.run(_text, data[name], name)
    return {name: value for name, value in clean.items() if name not in errors}
