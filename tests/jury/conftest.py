"""Fixtures of the jury tests."""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from tests.factories import make_user


@pytest.fixture
def secretariat(app_ctx):
    return make_user(Role.SECRETARIAT)
