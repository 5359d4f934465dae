"""problem+json answers (app.api.problems): RFC 9457 fields, French titles, errors by field."""

from app.api.problems import TITLES, problem


def test_a_problem_has_the_rfc_9457_fields_and_a_french_title(app):
    with app.test_request_context():
        response = problem(409, "Ce dossier est déjà inscrit.", errors={"jury_session_id": ["Complète."]},
                           instance="/api/v1/files/3")
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert response.json == {"type": "about:blank", "title": "Conflit avec l'état actuel", "status": 409,
                             "detail": "Ce dossier est déjà inscrit.", "errors": {"jury_session_id": ["Complète."]},
                             "instance": "/api/v1/files/3"}


def test_no_errors_key_without_errors_and_a_title_for_any_status(app):
    with app.test_request_context():
        body = problem(418, "Je suis une théière.").json
    assert "errors" not in body and body["title"] == "Erreur"
    assert all(title and title[0].isupper() for title in TITLES.values())
