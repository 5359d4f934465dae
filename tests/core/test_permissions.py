"""One mechanism decides access: every endpoint declares its roles; anonymous users are sent to
login (pages) or get 401 (API); a wrong role gets 403."""

import pytest

from app.accounts.models import Role
from app.core.permissions import PUBLIC, allowed_roles
from tests.factories import make_user

HOMES = {
    "entreprise": "/entreprise",
    "candidat": "/candidat",
    "evaluateur": "/evaluateur",
    "jury": "/jury",
    "secretariat": "/secretariat",
    "partenaire": "/partenaire",
}


def test_every_endpoint_declares_who_may_call_it(app):
    with app.test_request_context():
        missing = []
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                with app.test_request_context(rule.rule, method=method):
                    if allowed_roles(rule.endpoint) is None:
                        missing.append(f"{method} {rule.rule}")
        assert missing == []


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_reaches_its_home_and_no_other(app_ctx, client, login_as, role):
    user = make_user(role)
    login_as(user)
    home = client.get("/accueil")
    assert home.status_code == 302 and home.headers["Location"].endswith(HOMES[role])
    assert client.get(HOMES[role]).status_code == 200
    for other_role, url in HOMES.items():
        if other_role != role:
            assert client.get(url).status_code == 403, (role, url)


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/secretariat")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_anonymous_api_call_is_401_problem(client):
    response = client.get("/api/v1/cqps")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "Jeton" in response.json["detail"]


# Pages anyone may open without logging in: each one is here on purpose.
PUBLIC_ALLOWLIST = {
    "index", "accounts.login", "core.personal_data", "api-docs.openapi_json",
    "jury.verify", "api_jury.Verify", "health.health",  # GET /health: the load balancer's check
    # files: the job assessor's one-time link (no account) and the candidate's invitation link
    "files.job_assessor_observations", "files.candidate_invitation", "api_files.JobAssessorObservations",
    # accounts: the company account request and the emailed password links
    "accounts.account_request", "accounts.account_request_sent", "accounts.forgot_password", "accounts.set_password",
    # referential: the public list of habilitated assessors (issue 14), page, CSV and API, no email in any of them
    "public_assessors.assessor_list", "public_assessors.assessor_csv", "api_assessors.PublicAssessors",
    "api_assessors.PublicAssessorsCsv",
}


def test_public_endpoints_are_only_the_allowlisted_ones(app):
    public = {
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and PUBLIC in (_roles(app, rule) or ())
    }
    assert public <= PUBLIC_ALLOWLIST, public - PUBLIC_ALLOWLIST


def _roles(app, rule):
    method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    with app.test_request_context(rule.rule, method=method):
        return allowed_roles(rule.endpoint)


def test_role_values_are_the_design_slugs():
    assert [r.value for r in Role] == [
        "entreprise", "candidat", "evaluateur", "evaluateur_metier", "jury", "secretariat", "partenaire",
    ]
