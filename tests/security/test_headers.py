"""Response headers (issue 17): `Cache-Control: no-store` on every answer to a logged-in user (pages, JSON)
and on every document, static files cacheable; `Allow` on a 405 (pages and API)."""

from __future__ import annotations

from tests.factories import make_user


def test_pages_of_a_logged_in_user_are_not_stored(app_ctx, client, login_as):
    login_as(make_user("secretariat"))
    for url in ("/accueil", "/mon-compte", "/secretariat"):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store", url


def test_api_answers_to_a_token_are_not_stored(app_ctx, api_as):
    api = api_as(make_user("secretariat"))
    for url in ("/cqps", "/jury-sessions", "/files"):
        response = api.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", url


def test_static_files_keep_their_cache_for_everyone(app_ctx, client, login_as):
    login_as(make_user("secretariat"))
    page = client.get("/mon-compte").get_data(as_text=True)
    css = page.split('href="/static/css/', 1)[1].split('"', 1)[0]
    with client.get(f"/static/css/{css}") as response:
        assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")


def test_the_login_page_of_an_anonymous_visitor_is_not_marked(client):
    assert "no-store" not in client.get("/connexion").headers.get("Cache-Control", "")


def test_a_405_says_which_methods_are_allowed(app_ctx, client, api_as):
    page = client.put("/connexion")
    assert page.status_code == 405 and set(page.headers["Allow"].split(", ")) >= {"GET", "POST"}
    api = api_as(make_user("secretariat"))
    answer = api.delete("/cqps")
    assert answer.status_code == 405 and "GET" in answer.headers["Allow"]
    assert answer.mimetype == "application/problem+json"
