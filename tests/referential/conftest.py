from tests.accounts.conftest import isolated_csrf, request_form  # noqa: F401  (shared fixtures)
