"""The API's schema base (app.api.schemas): French messages, unknown fields refused, the viewer an
answer is dumped for, fields computed from the object and typed in the OpenAPI description."""

import pytest
from marshmallow import ValidationError, fields

from app.accounts.models import Role
from app.api.schemas import BaseSchema, ComputedList, ComputedString, dump_for, viewer
from tests.factories import make_user


class Sample(BaseSchema):
    name = fields.String(required=True)
    count = fields.Integer()


class Greeting(BaseSchema):
    text = ComputedString(compute=lambda obj: f"{obj['name']} pour {viewer().email}")
    words = ComputedList(fields.String(), compute=lambda obj: obj["name"].split())


def test_messages_are_french_and_unknown_fields_refused():
    with pytest.raises(ValidationError) as error:
        Sample().load({"count": "beaucoup", "surprise": 1})
    assert error.value.messages == {"name": ["Ce champ est obligatoire."], "count": ["Doit être un nombre entier."],
                                    "surprise": ["Champ inconnu."]}


def test_an_answer_is_dumped_for_the_viewer_it_names(app_ctx):
    one, other = make_user(Role.SECRETARIAT), make_user(Role.ENTREPRISE)
    assert dump_for(one, Greeting(), {"name": "Léa Martin"}) == {
        "text": f"Léa Martin pour {one.email}", "words": ["Léa", "Martin"]}
    assert dump_for(other, Greeting(), {"name": "Léa"})["text"] == f"Léa pour {other.email}"


def test_without_a_named_viewer_the_answer_is_the_requests_user(app, app_ctx):
    from flask_login import login_user

    user = make_user(Role.JURY)
    with app.test_request_context("/api/v1/files"):
        login_user(user)
        assert Greeting().dump({"name": "Hugo"})["text"] == f"Hugo pour {user.email}"


def test_computed_fields_keep_their_type_in_the_openapi_description(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    file = schemas["FileOut"]["properties"]
    assert file["status"]["type"] == "string" and "valide" in file["status"]["enum"]
    assert file["history"] == {"type": "array", "items": {"$ref": "#/components/schemas/HistoryOut"}}
    assert {"$ref": "#/components/schemas/DecisionOut"} in file["decision"]["anyOf"]
    assert schemas["HistoryOut"]["properties"]["by"] == {"type": "string", "nullable": True}


def _check(spec: dict, schema: dict, value, where: str, seen: list) -> None:
    """`value` has exactly the keys `schema` lists (recursively), with the JSON type it names."""
    seen.append(where)
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        if value is None:
            assert any(option.get("nullable") for option in schema["anyOf"]), where
            return
        schema = next(option for option in schema["anyOf"] if "$ref" in option)
        return _check(spec, schema, value, where, seen)
    if value is None:
        assert schema.get("nullable"), f"{where}: null but not nullable"
        return
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        assert set(value) == set(schema["properties"]), f"{where}: {sorted(set(value) ^ set(schema['properties']))}"
        for key, item in value.items():
            _check(spec, schema["properties"][key], item, f"{where}.{key}", seen)
    elif kind == "array":
        for index, item in enumerate(value):
            _check(spec, schema["items"], item, f"{where}[{index}]", seen)
    else:
        python = {"string": str, "integer": int, "boolean": bool, "number": (int, float), "object": dict}
        assert kind is None or isinstance(value, python[kind]), f"{where}: {value!r} is not {kind}"


def test_the_answers_have_exactly_what_the_openapi_description_shows(app_ctx, api_as, client, today_is):
    from datetime import date, datetime

    from app.extensions import db
    from app.files.models import StatusChange
    from tests.factories import make_establishment, make_file, make_parchment, make_session
    from tests.stats.dataset import build_branch
    from tests.stats.test_partners import decide

    today_is("2026-03-15")
    build_branch()
    establishment = make_establishment()
    company = make_user(Role.ENTREPRISE, establishment=establishment)
    decided = make_file("partiel", establishment=establishment,
                        session=make_session(on=date(2026, 1, 10), published_at=datetime(2026, 1, 11)))
    decide(decided, [True, False, True])
    make_parchment(decided)
    db.session.add(StatusChange(file_id=decided.id, from_status="inscription_jury", to_status="partiel",
                                event="record_decision", actor_id=company.id, at=datetime(2026, 1, 10, 15)))
    moving = make_file("en_attente_evaluation", establishment=establishment)
    db.session.commit()
    spec = client.get("/api/v1/openapi.json").json

    def answer_of(path: str, method: str = "get"):
        return spec["paths"][f"/api/v1{path}"][method]["responses"]["200"]["content"]["application/json"]["schema"]

    seen: list = []
    company_api, secretariat_api = api_as(company), api_as(make_user(Role.SECRETARIAT))
    for api in (company_api, secretariat_api):
        for file in (decided, moving):
            _check(spec, answer_of("/files/{file_id}"), api.get(f"/files/{file.id}").json, "file", seen)
        _check(spec, answer_of("/files"), api.get("/files").json, "files", seen)
    _check(spec, answer_of("/candidates/{candidate_id}"), company_api.get(f"/candidates/{decided.candidate_id}").json,
           "candidate", seen)
    _check(spec, answer_of("/cqps"), company_api.get("/cqps").json, "cqps", seen)
    _check(spec, answer_of("/assessors"), company_api.get("/assessors").json, "assessors", seen)
    _check(spec, answer_of("/stats"), secretariat_api.get("/stats").json, "stats", seen)
    trace = {"context": "Financement", "recipient": "73282932000074", "object": "Dossier 1"}
    certifications = secretariat_api.get(f"/establishments/{establishment.siret}/certifications", query_string=trace)
    _check(spec, answer_of("/establishments/{siret}/certifications"), certifications.json, "certifications", seen)
    # what was checked: a published decision, a history, what a file waits for, the stats' nested figures
    assert {"file.decision.results[0].validated", "file.history[0].by", "file.next_action.since",
            "stats.by_cqp[0].valide_rate", "certifications.certifications[0].decision.jury_date"} <= set(seen)
