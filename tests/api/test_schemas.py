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
