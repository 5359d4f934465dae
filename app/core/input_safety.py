"""What any input must be before it reaches a service: text without control characters, integers that fit
their column, dates the calendar code can add days to. One layer for forms, JSON bodies and query strings.

- Control characters: NUL (PostgreSQL refuses it in text) and the other C0 controls and DEL, and lone
  UTF-16 surrogates (not encodable in UTF-8), are refused (422), never stripped: a value the user did not
  mean is not silently changed into one they did not type. Tab, carriage return and line feed are
  harmless in text and kept (a textarea's lines).
- Integers: 32-bit signed, the range of an `Integer` column, unless the column says otherwise.
- Dates: from 1900-01-01 to 2100-12-31 (beyond, `date + timedelta` overflows at 9999, and no candidate,
  session or habilitation lies there).

`check_request` (a before_request hook) refuses a query string, form or JSON body holding a control
character, naming every such field at once, except where the endpoint declares a schema for that part
of the request (the API's @blp.arguments): there the schema refuses it along with every other invalid
field (app/api/schemas.py). The WTForms base (app/core/forms.py) applies the integer and date ranges."""

from __future__ import annotations

import math
import re
from datetime import date

from flask import Flask, current_app, request

from app.core.errors import ValidationFailed

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2100, 12, 31)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

CONTROL_MESSAGE = "Caractère de contrôle interdit ({}) : retirez-le."
INTEGER_MESSAGE = f"Doit être un nombre entier compris entre {INT32_MIN} et {INT32_MAX}."
DATE_TOO_EARLY = "La date est antérieure au 1er janvier 1900 (dates acceptées : du 01/01/1900 au 31/12/2100)."
DATE_TOO_LATE = "La date est postérieure au 31 décembre 2100 (dates acceptées : du 01/01/1900 au 31/12/2100)."
NUMBER_MESSAGE = "Nombre non fini (NaN ou infini) refusé."
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def control_character_in(value) -> str | None:
    """The first forbidden character of `value` (text, or lists / dicts of it, keys included) as `U+0000`,
    else None."""
    if isinstance(value, str):
        found = CONTROL_CHARACTERS.search(value)
        return f"U+{ord(found.group()):04X}" if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = control_character_in(key) or control_character_in(item)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = control_character_in(item)
            if found:
                return found
    return None


def control_message(value) -> str | None:
    found = control_character_in(value)
    return CONTROL_MESSAGE.format(found) if found else None


def non_finite_number_in(value) -> bool:
    """NaN or an infinity, which Python's JSON parser accepts though JSON has neither."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(non_finite_number_in(item) for item in value.values())
    if isinstance(value, list):
        return any(non_finite_number_in(item) for item in value)
    return False


def date_problem(value) -> str | None:
    """The French message for a date outside 1900–2100, else None."""
    if value is None:
        return None
    day = value.date() if hasattr(value, "date") else value
    if day < MIN_DATE:
        return DATE_TOO_EARLY
    if day > MAX_DATE:
        return DATE_TOO_LATE
    return None


def int32(value: int | None) -> bool:
    return value is None or INT32_MIN <= value <= INT32_MAX


# ---------------------------------------------------------------- the request hook


def _declared_locations() -> set[str]:
    """The parts of the request (json, query, form …) the endpoint's own schemas validate."""
    view = current_app.view_functions.get(request.endpoint)
    method = getattr(getattr(view, "view_class", None), request.method.lower(), None) or view
    arguments = (getattr(method, "_apidoc", None) or {}).get("arguments") or {}
    return {parameter.get("in") for parameter in arguments.get("parameters", ()) if isinstance(parameter, dict)}


def _multidict_problems(values, prefix: str = "") -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name in values:
        found = control_message(name) or control_message(values.getlist(name))
        if found:
            shown = CONTROL_CHARACTERS.sub("?", name) or "?"
            problems[prefix + shown] = [found]
    return problems


def _json_problems(data, path: str = "") -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, item in data.items():
            name = f"{path}.{key}" if path else str(key)
            name = CONTROL_CHARACTERS.sub("?", name) or "?"
            if control_character_in(key):
                problems[name] = [CONTROL_MESSAGE.format(control_character_in(key))]
            else:
                problems.update(_json_problems(item, name))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            problems.update(_json_problems(item, f"{path}.{index}" if path else str(index)))
    elif isinstance(data, str):
        message = control_message(data)
        if message:
            problems[path or "_schema"] = [message]
    elif isinstance(data, float) and not math.isfinite(data):
        problems[path or "_schema"] = [NUMBER_MESSAGE]
    return problems


def check_request() -> None:
    """Refuses (422) a request whose query string, form or JSON body holds a control character or a
    non-finite number, naming each field, unless the endpoint's schema validates that part itself."""
    if request.endpoint in (None, "static"):
        return
    declared = _declared_locations()
    problems: dict[str, list[str]] = {}
    if "query" not in declared:
        problems.update(_multidict_problems(request.args))
    if request.mimetype in FORM_TYPES and "form" not in declared:
        problems.update(_multidict_problems(request.form))
    if request.is_json:
        data = request.get_json(silent=True)
        if "json" not in declared:
            problems.update(_json_problems(data))
        elif non_finite_number_in(data):
            problems.update({k: v for k, v in _json_problems(data).items() if v == [NUMBER_MESSAGE]})
    if problems:
        names = ", ".join(problems)
        raise ValidationFailed(f"Caractère interdit ou valeur invalide dans : {names}.", problems)


def init_app(app: Flask) -> None:
    app.before_request(check_request)
