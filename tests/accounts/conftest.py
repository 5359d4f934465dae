"""Helpers of the accounts tests: a valid account request form, page text, counts."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from app.extensions import db
from tests.factories import valid_siret


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def request_form():
    """What a company types in the account request form (a fresh valid SIRET each time)."""

    def make(**changes) -> dict:
        data = {
            "siret": valid_siret(), "establishment_name": "Chimie du Rhône SAS", "address": "3 quai des Usines",
            "postcode": "69007", "city": "Lyon", "contact_first_name": "Claire", "contact_last_name": "Dubois",
            "email": "claire.dubois@chimie-rhone.fr", "phone": "04 72 00 00 00",
        }
        data.update(changes)
        return data

    return make
