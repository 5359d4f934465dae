"""NUL, overflow and date fuzz on every JSON field, query parameter and form field (issue 17): never a 500.

- JSON: every operation of /api/v1/openapi.json with a JSON body, for every role allowed to call it; each
  property in turn set to each hostile value, the other properties filled with plausible values (so that
  the request goes as deep as the value lets it). Every 422 names the fuzzed field.
- Query strings: every API GET operation's parameters, and every page of the site (URL map), with NUL,
  2**31 and 9999-12-31.
- Forms: every POST route of the site, for each role that can open its page, every field at once set to
  each hostile value, with the page's CSRF token.
The ids in paths are those of a small world (tests/security/world.py). Counts are printed."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import pytest

from tests.security.world import ROLES, build_world

HOSTILE = {
    "nul": "a\u0000b",
    "control": "a\u001bb",
    "surrogate": "a\ud800b",
    "int32_overflow": 2147483648,
    "int_negative_overflow": -2147483649,
    "huge_float": 1e308,
    "far_date": "9999-12-31",
    "old_date": "0001-01-01",
    "long_text": "x" * 5000,
}
FORM_HOSTILE = {k: str(v) for k, v in HOSTILE.items() if k not in ("surrogate",)}
QUERY_HOSTILE = ["a%00b", "2147483648", "9999-12-31", "%0D%0Ax", "1e308"]
NAME_RE = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', re.I)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _plausible(spec: dict, schema: dict, world):
    schema = _resolve(spec, schema)
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    kind = schema.get("type")
    if kind == "integer":
        return world.ids["registered"]
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return [_plausible(spec, schema.get("items", {}), world)] if schema.get("items") else []
    if kind == "object":
        return {name: _plausible(spec, sub, world) for name, sub in (schema.get("properties") or {}).items()}
    if schema.get("format") == "date":
        return (date.today() + timedelta(days=30)).isoformat()
    return "Texte"


def _path(path: str, world) -> str:
    values = {"file_id": world.ids["registered"], "candidate_id": world.ids["candidate"],
              "session_id": world.ids["session"], "siret": world.ids["siret"], "code": "FAB-OPF"}
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), path)


def _json_operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            content = (operation.get("requestBody") or {}).get("content") or {}
            if "application/json" in content:
                yield method, path, _resolve(spec, content["application/json"]["schema"])


@pytest.fixture
def world(app_ctx):
    return build_world()


def _api(app, world, role):
    from tests.conftest import ApiClient

    return ApiClient(app.test_client(), world.tokens[role])


def test_every_json_field_refuses_hostile_values_without_a_500(app, world):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    clients = {role: _api(app, world, role) for role in ROLES}
    counts: Counter = Counter()
    server_errors, unnamed = [], []
    for method, path, schema in _json_operations(spec):
        url = _path(path.removeprefix("/api/v1"), world)
        allowed = [role for role, api in clients.items()
                   if getattr(api, method)(url, json={}).status_code not in (401, 403, 405)]
        counts["operations"] += 1
        base = {name: _plausible(spec, sub, world) for name, sub in (schema.get("properties") or {}).items()}
        for role in allowed:
            counts["operation_roles"] += 1
            for name in base:
                for label, value in HOSTILE.items():
                    answer = getattr(clients[role], method)(url, json={**base, name: value})
                    counts["requests"] += 1
                    counts[answer.status_code] += 1
                    if answer.status_code >= 500:
                        server_errors.append(f"{method.upper()} {path} [{role}] {name}={label}: {answer.status_code}")
                    elif answer.status_code == 422 and label in ("nul", "control", "int32_overflow", "far_date"):
                        errors = (answer.get_json() or {}).get("errors") or {}
                        named = isinstance(errors, dict) and any(k == name or k.startswith(f"{name}.") for k in errors)
                        if not named and isinstance(value, str) and "\u0000" in value:
                            unnamed.append(f"{method.upper()} {path} {name}={label}: {sorted(errors)[:5]}")
    print(f"\nfuzz JSON : {counts['operations']} opérations, {counts['operation_roles']} couples opération × rôle, "
          f"{counts['requests']} requêtes, statuts {dict(sorted((k, v) for k, v in counts.items() if isinstance(k, int)))}")
    assert not server_errors, "\n".join(server_errors[:40])
    assert not unnamed, "\n".join(unnamed[:40])


def test_every_query_parameter_refuses_hostile_values_without_a_500(app, world):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    counts: Counter = Counter()
    server_errors = []
    api = _api(app, world, "secretariat")
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"] or ["q"]
        url = _path(path.removeprefix("/api/v1"), world)
        for name in names:
            for value in QUERY_HOSTILE:
                answer = api.get(f"{url}?{name}={value}")
                answer.close()  # a streamed export's generator ends with its request
                counts["requests"] += 1
                if answer.status_code >= 500:
                    server_errors.append(f"GET {path}?{name}={value}: {answer.status_code}")
    pages = _pages(app, world)
    clients = _logged_in_clients(app, world)
    for url in pages:
        for role, client in clients.items():
            for value in QUERY_HOSTILE:
                answer = client.get(f"{url}?q={value}&page={value}&date={value}&statut={value}&annee={value}")
                answer.close()
                counts["requests"] += 1
                if answer.status_code >= 500:
                    server_errors.append(f"GET {url}?…={value} [{role}]: {answer.status_code}")
    print(f"\nfuzz des paramètres : {len(spec['paths'])} chemins d'API, {len(pages)} pages × {len(clients)} rôles, "
          f"{counts['requests']} requêtes")
    assert not server_errors, "\n".join(server_errors[:40])


def _pages(app, world) -> list[str]:
    values = {"file_id": world.ids["registered"], "candidate_id": world.ids["candidate"],
              "session_id": world.ids["session"], "siret": world.ids["siret"], "code": "FAB-OPF"}
    urls = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/static")) or "GET" not in rule.methods:
            continue
        urls.add(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), 1)), rule.rule))
    return sorted(urls)


def _logged_in_clients(app, world) -> dict:
    from tests.conftest import login
    from tests.factories import PASSWORD

    clients = {}
    for role in ("secretariat", "entreprise", "evaluateur", "jury", "candidat"):
        client = app.test_client()
        assert login(client, world.users[role].email, PASSWORD).status_code == 302, role
        clients[role] = client
    return clients


def test_every_form_field_refuses_hostile_values_without_a_500(app, world):
    clients = _logged_in_clients(app, world)
    anonymous = app.test_client()
    values = {"file_id": world.ids["file"], "candidate_id": world.ids["candidate"],
              "session_id": world.ids["session"], "siret": world.ids["siret"], "code": "FAB-OPF"}
    counts: Counter = Counter()
    server_errors = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(("/api/", "/static")) or "POST" not in rule.methods:
            continue
        if rule.endpoint in ("accounts.logout", "accounts.logout_everywhere"):
            continue  # would end the sessions the other routes use
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m.group(1), 1)), rule.rule)
        counts["routes"] += 1
        for role, client in [*clients.items(), ("anonyme", anonymous)]:
            page = client.get(url) if "GET" in rule.methods else client.get("/mon-compte")
            html = page.get_data(as_text=True)
            page.close()
            token = CSRF_RE.search(html)
            if page.status_code != 200 or token is None:
                continue
            names = sorted(set(NAME_RE.findall(html)) - {"csrf_token"}) if "GET" in rule.methods else ["motif"]
            counts["route_roles"] += 1
            for label, value in FORM_HOSTILE.items():
                answer = client.post(url, data={**{name: value for name in names}, "csrf_token": token.group(1)})
                answer.close()
                counts["requests"] += 1
                counts[answer.status_code] += 1
                if answer.status_code >= 500:
                    server_errors.append(f"POST {url} [{role}] {label}: {answer.status_code}")
    print(f"\nfuzz des formulaires : {counts['routes']} routes POST, {counts['route_roles']} couples route × rôle, "
          f"{counts['requests']} requêtes, statuts {dict(sorted((k, v) for k, v in counts.items() if isinstance(k, int)))}")
    assert not server_errors, "\n".join(server_errors[:40])
