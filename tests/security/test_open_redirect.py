"""Open redirects (issue 17): `next` after login is followed only when it is a path of this site once a
browser has read it; every other payload is ignored (the home page), never a 500."""

from __future__ import annotations

import pytest

from app.core.redirects import safe_next
from tests.conftest import submit_form
from tests.factories import PASSWORD, make_user

PAYLOADS = [
    "/%09/evil.example", "/\t/evil.example", "//evil.example", "///evil.example", "\\\\evil.example",
    "/\\evil.example", "/%5Cevil.example", "/%2F%2Fevil.example", "%2F%2Fevil.example", "/\tevil",
    "https://evil.example/x", "http:/evil.example", "javascript:alert(1)", "data:text/html,x", "evil.example",
    "/%0D%0ALocation:%20https://evil.example", "/\r\nLocation: https://evil.example", "/%00", "/\x00x",
    "/%E2%80%A8//evil.example", " //evil.example", "/" + "a" * 3000, "",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_next_that_leaves_the_site_is_ignored(payload):
    assert safe_next(payload) is None


@pytest.mark.parametrize("target, expected", [
    ("/dossiers/12", "/dossiers/12"), ("/dossiers?statut=en_cours#haut", "/dossiers?statut=en_cours#haut"),
    ("/secretariat/jurys/3/presence", "/secretariat/jurys/3/presence"), ("/a%20b", "/a%20b"),
])
def test_a_path_of_the_site_is_kept(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize("query", [
    "next=/%09/evil.example", "next=//evil.example", "next=%5C%5Cevil.example", "next=/%5Cevil", "next=/%09evil",
    "next=%0D%0ASet-Cookie:x=1", "next=https://evil.example", "next=/%2F%2Fevil.example",
])
def test_login_never_redirects_off_site_nor_fails(app_ctx, client, query):
    user = make_user("secretariat")
    response = submit_form(client, f"/connexion?{query}", {"email": user.email, "password": PASSWORD},
                           form_url="/connexion")
    assert response.status_code in (302, 303), response.status_code
    location = response.headers["Location"]
    assert location.endswith("/accueil"), location
    assert "evil" not in location and "\r" not in location and "\n" not in location
    print(f"{query} → {location}")


def test_login_follows_a_local_next(app_ctx, client):
    user = make_user("secretariat")
    response = submit_form(client, "/connexion?next=/mon-compte", {"email": user.email, "password": PASSWORD},
                           form_url="/connexion")
    assert response.status_code == 302 and response.headers["Location"].endswith("/mon-compte")
