"""GET /api/v1/stats (secretariat) and GET /api/v1/establishments/{siret}/certifications (partners)."""

import time
from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.accounts.models import ApiToken, PartnerAccessLog
from app.extensions import db
from tests.factories import make_assessor, make_establishment, make_file, make_session, make_user, valid_siret
from tests.stats.dataset import build_branch

TRACE = {"context": "Financement CQP 2027", "recipient": "73282932000074", "object": "Dossier 4521"}


@pytest.fixture
def branch(app_ctx):
    return build_branch()


def test_stats_has_the_shape_of_api_md(branch, api_as):
    response = api_as(make_user("secretariat")).get("/stats")
    assert response.status_code == 200
    body = response.json
    assert body["total_files"] == 7
    assert body["files_by_status"] == {
        "en_cours_inscription": 1, "en_attente_evaluation": 1, "validation_evaluation": 1, "inscription_jury": 0,
        "valide": 1, "partiel": 1, "non_valide": 1, "abandonne": 1,
    }
    assert body["decisions"] == {"valide": 1, "partiel": 1, "non_valide": 1}
    fab = next(c for c in body["by_cqp"] if c["cqp_code"] == "FAB-OPF")
    assert {k: fab[k] for k in ("cqp_code", "files", "valide", "partiel", "non_valide")} == {
        "cqp_code": "FAB-OPF", "files": 4, "valide": 1, "partiel": 1, "non_valide": 1}
    assert [{k: s[k] for k in ("id", "date", "capacity", "seats_taken")} for s in body["jury_sessions"]] == [
        {"id": branch.s2.id, "date": "2025-06-10", "capacity": 5, "seats_taken": 1},
        {"id": branch.s1.id, "date": "2025-03-10", "capacity": 10, "seats_taken": 2},
    ]
    assert body["median_days_to_decision"] == 50.0


@pytest.mark.parametrize(("query", "total", "median"), [
    ("?year=2025", 3, 50.0), ("?year=2026", 4, None), ("?cqp=CND-CLC", 3, None), ("?domain=Fabrication", 4, 50.0),
    ("?region=2A", 2, 50.0), ("?year=2025&cqp=FAB-OPF&domain=Fabrication", 3, 50.0),
])
def test_stats_filters(branch, api_as, query, total, median):
    body = api_as(make_user("secretariat")).get(f"/stats{query}").json
    assert (body["total_files"], body["median_days_to_decision"]) == (total, median)


def test_stats_siret_filter(branch, api_as):
    body = api_as(make_user("secretariat")).get(f"/stats?siret={branch.e1.siret}").json
    assert body["total_files"] == 3  # F1, F2, F7
    assert body["decisions"] == {"valide": 1, "partiel": 1, "non_valide": 0}


@pytest.mark.parametrize(("query", "field"), [("?year=abc", "year"), ("?cqp=NOPE", "cqp"), ("?siret=123", "siret")])
def test_stats_bad_filter_is_a_422_problem_naming_it(branch, api_as, query, field):
    response = api_as(make_user("secretariat")).get(f"/stats{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "jury", "candidat", "partenaire"])
def test_stats_are_for_the_secretariat_only(app_ctx, api_as, role):
    assert api_as(make_user(role)).get("/stats").status_code == 403


# ------------------------------------------------------------------ partner API


@pytest.fixture
def company(app_ctx):
    """An establishment with a published `valide`, an unpublished `partiel` and a file in progress."""
    establishment = make_establishment("Chimie Partenaire", postcode="13008")
    published = make_session(on=datetime(2026, 1, 10).date(), published_at=datetime(2026, 1, 11))
    unpublished = make_session(on=datetime(2026, 2, 10).date())
    assessor = make_assessor()
    decided = make_file("valide", establishment=establishment, session=published, assessor=assessor)
    hidden = make_file("partiel", establishment=establishment, session=unpublished, assessor=assessor)
    moving = make_file("en_attente_evaluation", establishment=establishment, assessor=assessor)
    from app.jury.models import Decision, DecisionResult, Parchment

    for file, session, validated in ((decided, published, [True, True, True]), (hidden, unpublished, [True, False, True])):
        decision = Decision(file=file, session_id=session.id, status=file.status)
        db.session.add(decision)  # in the session before file.competences loads (autoflush)
        for competence, ok in zip(file.competences, validated, strict=True):
            decision.results.append(DecisionResult(competence=competence, validated=ok))
        db.session.add(Parchment(file=file, number=f"CQP-{file.id:06d}",
                                 kind="parchemin" if file.status == "valide" else "attestation"))
    db.session.commit()
    return establishment, decided, hidden, moving


@pytest.mark.parametrize("role", ["partenaire", "secretariat"])
def test_certifications_show_published_decisions_only(company, api_as, role):
    establishment, decided, hidden, moving = company
    response = api_as(make_user(role)).get(f"/establishments/{establishment.siret}/certifications", query_string=TRACE)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["establishment"]["siret"] == establishment.siret
    by_id = {c["file_id"]: c for c in body["certifications"]}
    assert by_id[decided.id]["status"] == "valide"
    assert by_id[decided.id]["decision"] == {"status": "valide", "jury_date": "2026-01-10",
                                             "competences_validated": ["C1", "C2", "C3"],
                                             "parchment_number": f"CQP-{decided.id:06d}"}
    assert by_id[hidden.id]["status"] == "inscription_jury" and by_id[hidden.id]["decision"] is None
    assert by_id[moving.id]["status"] == "en_attente_evaluation" and by_id[moving.id]["cqp"]["code"] == "FAB-OPF"
    assert "partiel" not in response.get_data(as_text=True)


def test_every_call_is_logged_with_the_caller_and_its_parameters(company, api_as):
    establishment = company[0]
    partner = make_user("partenaire")
    api = api_as(partner)
    api.get(f"/establishments/{establishment.siret}/certifications", query_string=TRACE)
    api.get(f"/establishments/{establishment.siret}/certifications", query_string={**TRACE, "object": ""})
    rows = db.session.scalars(select(PartnerAccessLog).order_by(PartnerAccessLog.id)).all()
    assert [(r.user_id, r.siret, r.context, r.recipient, r.object, r.status_code) for r in rows] == [
        (partner.id, establishment.siret, TRACE["context"], TRACE["recipient"], TRACE["object"], 200),
        (partner.id, establishment.siret, TRACE["context"], TRACE["recipient"], "", 422),
    ]


@pytest.mark.parametrize("missing", [["context"], ["recipient"], ["object"], ["context", "recipient", "object"]])
def test_the_three_trace_parameters_are_required(company, api_as, missing):
    query = {k: v for k, v in TRACE.items() if k not in missing}
    response = api_as(make_user("partenaire")).get(f"/establishments/{company[0].siret}/certifications",
                                                    query_string=query)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert sorted(response.json["errors"]) == sorted(missing)
    for name in missing:
        assert name in response.json["detail"]


@pytest.mark.parametrize("recipient", ["123", "73282932000075", "7328293200007A"])
def test_recipient_must_be_a_valid_siret(company, api_as, recipient):
    response = api_as(make_user("partenaire")).get(f"/establishments/{company[0].siret}/certifications",
                                                    query_string={**TRACE, "recipient": recipient})
    assert response.status_code == 422 and list(response.json["errors"]) == ["recipient"]


def test_a_refused_call_keeps_its_log_line_and_nothing_else(company, api_as):
    """The request's own writes are rolled back with the refusal; the log line is written after, in a
    transaction of its own, without waiting on the request's write lock (SQLite). The token's last use
    is noted apart, before (issue 16), so it is kept."""
    partner = make_user("partenaire")
    api = api_as(partner)
    siret = valid_siret(988)
    started = time.monotonic()
    response = api.get(f"/establishments/{siret}/certifications", query_string=TRACE)
    assert response.status_code == 404, response.json
    assert time.monotonic() - started < 4  # SQLite's busy timeout is 5 s: no wait on a lock
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == partner.id)) is not None
    logged = db.session.scalars(select(PartnerAccessLog).where(PartnerAccessLog.siret == siret)).all()
    assert [(r.user_id, r.status_code, r.object) for r in logged] == [(partner.id, 404, TRACE["object"])]
    assert api.get(f"/establishments/{company[0].siret}/certifications", query_string=TRACE).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == partner.id)) is not None


def test_a_log_line_that_cannot_be_written_does_not_change_the_answer(company, api_as, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    from app.stats import partners

    def database_down(call):
        raise OperationalError("INSERT", {}, Exception("connexion perdue"))

    monkeypatch.setattr(partners, "log_refused_call", database_down)
    response = api_as(make_user("partenaire")).get(f"/establishments/{company[0].siret}/certifications",
                                                    query_string={**TRACE, "object": ""})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "Appel refusé non journalisé" in caplog.text


def test_unknown_establishment_is_404_and_logged(app_ctx, api_as):
    siret = valid_siret(987)
    response = api_as(make_user("partenaire")).get(f"/establishments/{siret}/certifications", query_string=TRACE)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert db.session.scalar(select(PartnerAccessLog.status_code).where(PartnerAccessLog.siret == siret)) == 404


@pytest.mark.parametrize("role", ["entreprise", "evaluateur", "jury", "candidat"])
def test_other_roles_may_not_read_certifications(company, api_as, role):
    response = api_as(make_user(role)).get(f"/establishments/{company[0].siret}/certifications", query_string=TRACE)
    assert response.status_code == 403


def test_rate_limit_headers_and_429_past_the_limit(company, api_as, app):
    app.config["PARTNER_RATE_LIMIT"] = "3 per hour"
    try:
        api = api_as(make_user("partenaire"))
        url = f"/establishments/{company[0].siret}/certifications"
        remaining = []
        for _ in range(3):
            response = api.get(url, query_string=TRACE)
            assert response.status_code == 200
            assert response.headers["RateLimit-Limit"] == "3"
            assert 0 < int(response.headers["RateLimit-Reset"]) <= 3600
            remaining.append(int(response.headers["RateLimit-Remaining"]))
        assert remaining == [2, 1, 0]
        refused = api.get(url, query_string=TRACE)
        assert refused.status_code == 429
        assert refused.mimetype == "application/problem+json" and "réessayez" in refused.json["detail"]
        assert refused.headers["RateLimit-Remaining"] == "0"
        # the limit is per caller: another partner is not affected
        assert api_as(make_user("partenaire")).get(url, query_string=TRACE).status_code == 200
    finally:
        app.config["PARTNER_RATE_LIMIT"] = "300 per hour"


def test_openapi_documents_both_endpoints(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/stats" in spec["paths"]
    params = {p["name"] for p in spec["paths"]["/api/v1/establishments/{siret}/certifications"]["get"]["parameters"]}
    assert {"context", "recipient", "object"} <= params


# ------------------------------------------------------------------ bounded queries


def test_stats_and_certifications_run_the_same_queries_for_5_and_500_files(app_ctx, api_as, today_is):
    from tests.stats.test_query_counts import add_files, count_queries

    today_is("2026-01-12")
    establishment = make_establishment(postcode="69003")
    session = make_session(on=date(2025, 12, 1), capacity=1000, published_at=datetime(2025, 12, 2))
    world = {"establishment": establishment, "assessor": make_assessor(until=date(2026, 6, 1)), "session": session}
    secretariat, partner = api_as(make_user("secretariat")), api_as(make_user("partenaire"))
    calls = {"/stats": lambda: secretariat.get("/stats"),
             "/stats?cqp=FAB-OPF&region=69": lambda: secretariat.get("/stats?cqp=FAB-OPF&region=69"),
             "certifications": lambda: partner.get(f"/establishments/{establishment.siret}/certifications",
                                                   query_string=TRACE)}

    def measure() -> dict[str, int]:
        counts = {}
        for name, call in calls.items():
            with count_queries() as statements:
                response = call()
            assert response.status_code == 200, (name, response.json)
            counts[name] = len(statements)
        return counts

    for call in calls.values():  # each token's first call notes its use (at most every 5 minutes): warm it first
        call()
    add_files(5, **world)
    with_5 = measure()
    add_files(495, offset=5, **world)
    with_500 = measure()
    assert secretariat.get("/stats").json["total_files"] == 500
    assert with_500 == with_5
    assert max(with_5.values()) <= 30, with_5
