"""Access to the files pages: each role tries each page of a file that is not theirs (another
establishment, another assessor, another candidate, another jury session) and gets a 404; a role
that never uses a page gets a 403."""

from __future__ import annotations

import pytest

from tests.api.test_files import outsider, someone_elses_file  # noqa: F401 (fixture)
from tests.conftest import csrf_token
from tests.files.conftest import login

READERS = {"entreprise", "evaluateur", "candidat", "secretariat", "jury"}
PAGES = [
    ("get", "/dossiers/{id}", READERS),
    ("get", "/candidat/dossiers/{id}", READERS),
    ("get", "/dossiers/{id}/modifier", {"entreprise"}),
    ("post", "/dossiers/{id}/modifier", {"entreprise"}),
    ("post", "/dossiers/{id}/confirmer-evaluateur", {"entreprise"}),
    ("post", "/dossiers/{id}/abandon", {"entreprise", "secretariat"}),
    ("post", "/dossiers/{id}/documents", {"entreprise", "candidat", "evaluateur"}),
    ("get", "/dossiers/{id}/documents/{doc}", READERS),
    ("get", "/dossiers/{id}/evaluateur-metier", {"evaluateur"}),
    ("get", "/dossiers/{id}/evaluation", {"evaluateur"}),
    ("post", "/dossiers/{id}/evaluation", {"evaluateur"}),
    ("post", "/dossiers/{id}/transmettre", {"evaluateur"}),
    ("get", "/entreprise/candidats/{candidate}", {"entreprise"}),
    ("post", "/entreprise/candidats/{candidate}/inviter", {"entreprise"}),
    ("get", "/candidats/{candidate}/documents/{doc}", READERS),
]


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "candidat", "jury"])
def test_a_file_page_that_is_not_yours_is_a_404(app, someone_elses_file, client, role):  # noqa: F811
    """One login per role (password hashing is slow), every page tried; all mismatches reported."""
    file, document = someone_elses_file
    user = outsider(role)
    assert login(client, user.email).status_code == 302
    token = csrf_token(client, "/dossiers")
    wrong = []
    for method, template, roles in PAGES:
        url = template.format(id=file.id, doc=document.id, candidate=file.candidate_id)
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, "reason": "x", "kind": "diplome"})
        expected = 404 if role in roles else 403
        if response.status_code != expected:
            wrong.append((method, url, response.status_code, expected))
    assert wrong == []
