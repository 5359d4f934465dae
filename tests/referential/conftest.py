from tests.accounts.conftest import request_form  # noqa: F401  (shared fixture)
