"""Raw values from forms and JSON bodies: ids, required texts, dates, each refusal in French naming the field."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.errors import ValidationFailed
from app.core.validation import as_id, parse_date, required_text


@pytest.mark.parametrize(("raw", "expected"), [
    (12, 12), ("12", 12), (" 7 ", 7), ("2147483647", 2147483647), ("2147483648", None),  # ids are INTEGER columns: 1 to 2**31 - 1
    ("99999999999", None),
    (True, None), (False, None), ("", None), (None, None), ("abc", None), ("-3", None), ("1.5", None),
    ("999999999999", None),  # 12 digits: beyond any row (and PostgreSQL's integer)
    ("²", None), ("١٢", None),  # digits for str.isdigit(), not for int() or not ASCII: never a 500
])
def test_as_id(raw, expected):
    assert as_id(raw) == expected


def test_required_text_strips_and_names_the_field():
    assert required_text("  Élodie ", "first_name", "Le prénom") == "Élodie"
    with pytest.raises(ValidationFailed) as refused:
        required_text("   ", "first_name", "Le prénom")
    assert refused.value.errors == {"first_name": ["Le prénom est obligatoire."]}


def test_parse_date():
    assert parse_date("2027-03-12", "birth_date", "La date") == date(2027, 3, 12)
    assert parse_date(date(2027, 3, 12), "birth_date", "La date") == date(2027, 3, 12)
    assert parse_date("", "birth_date", "La date") is None
    with pytest.raises(ValidationFailed) as refused:
        parse_date("12/03/2027", "birth_date", "La date de naissance")
    assert refused.value.errors == {
        "birth_date": ["La date de naissance n'est pas valide (format attendu AAAA-MM-JJ)."]}
