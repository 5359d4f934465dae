"""A client generated from /api/v1/openapi.json by openapi-python-client parses the answers of every
operation, for each role (issue 17): the description matches what the server answers.

The client is generated into a temporary directory and imported; its httpx transport is the app itself
(WSGI). Each operation is called once per role with the world's ids (tests/security/world.py) and a body
of plausible values from the description; `raise_on_unexpected_status` makes an undocumented status an
error, and a body the generated models cannot read fails their `from_dict`. Documents (PDF, XML, CSV) are
generated as bytes (content_type_overrides: the generator reads only application/octet-stream as binary)."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
import typing
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.security.test_input_fuzz import _plausible, _resolve
from tests.security.world import ROLES, build_world

PACKAGE = "certifia_api_client"
BINARY_TYPES = ["application/pdf", "application/xml", "text/csv", "image/png", "image/jpeg",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"]


@pytest.fixture(scope="module")
def generated(app, tmp_path_factory):
    folder = tmp_path_factory.mktemp("client")
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    (folder / "openapi.json").write_text(json.dumps(spec))
    (folder / "config.json").write_text(json.dumps({
        "package_name_override": PACKAGE, "post_hooks": [],
        "content_type_overrides": {kind: "application/octet-stream" for kind in BINARY_TYPES}}))
    generator = Path(sys.executable).with_name("openapi-python-client")
    run = subprocess.run([str(generator), "generate", "--path", str(folder / "openapi.json"), "--meta", "none",
                          "--output-path", str(folder / PACKAGE), "--config", str(folder / "config.json")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    warnings = [line for line in run.stdout.splitlines() if line.startswith("WARNING")]
    assert not warnings, run.stdout[-4000:]
    for source in (folder / PACKAGE / "api").rglob("*.py"):
        # The generator's own slip (0.29.1): an optional body offered in two content types is typed
        # `… | Unset` without importing Unset.
        code = source.read_text()
        if "| Unset" in code and "import Unset" not in code and ", Unset" not in code:
            source.write_text(code.replace("from ...types import Response, UNSET", "from ...types import Response, UNSET, Unset"))
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE), spec
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module_name(method: str, path: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", f"{method}_{path}".lower())).strip("_")


def _operations(package, spec):
    """(method, path, operation, the generated module's sync_detailed) for every operation of the spec."""
    modules = {}
    for folder in (Path(package.__file__).parent / "api").iterdir():
        if folder.is_dir():
            for source in folder.glob("*.py"):
                if source.stem != "__init__":
                    modules[source.stem] = f"{PACKAGE}.api.{folder.name}.{source.stem}"
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            name = modules.get(_module_name(method, path))
            assert name, f"pas de module généré pour {method.upper()} {path}"
            yield method, path, operation, importlib.import_module(name).sync_detailed


def _body_class(annotation):
    for candidate in (annotation, *typing.get_args(annotation)):
        if hasattr(candidate, "from_dict"):
            return candidate
    return None


def _arguments(sync_detailed, spec, operation, world) -> dict:
    ids = {"file_id": world.ids["registered"], "candidate_id": world.ids["candidate"],
           "session_id": world.ids["session"], "siret": world.ids["siret"], "code": "FAB-OPF"}
    arguments = {}
    for name, parameter in inspect.signature(sync_detailed).parameters.items():
        if name == "client" or parameter.default is not inspect.Parameter.empty:
            continue
        if name == "body":
            content = operation["requestBody"]["content"]
            media = next(iter(content))
            schema = _resolve(spec, content[media]["schema"])
            data = _plausible(spec, schema, world)
            for prop, sub in (schema.get("properties") or {}).items():
                if sub.get("format") == "binary":
                    data[prop] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
            cls = _body_class(parameter.annotation)
            arguments[name] = cls.from_dict(data) if cls else data
        elif name in ids:
            arguments[name] = ids[name] if parameter.annotation is not str else str(ids[name])
        else:
            arguments[name] = 1 if parameter.annotation is int else "x"
    return arguments


@pytest.mark.parametrize("role", [*ROLES, None])
def test_the_generated_client_parses_every_answer(app, app_ctx, generated, role):
    package, spec = generated
    world = build_world()
    from certifia_api_client import AuthenticatedClient, Client  # noqa: I001 (generated above)

    transport = httpx.WSGITransport(app=app)
    if role:
        client = AuthenticatedClient(base_url="http://localhost", token=world.tokens[role],
                                     raise_on_unexpected_status=True, httpx_args={"transport": transport})
    else:
        client = Client(base_url="http://localhost", raise_on_unexpected_status=True,
                        httpx_args={"transport": transport})
    failures, statuses = [], Counter()
    operations = 0
    for method, path, operation, sync_detailed in _operations(package, spec):
        operations += 1
        try:
            response = sync_detailed(client=client, **_arguments(sync_detailed, spec, operation, world))
            statuses[int(response.status_code)] += 1
            if int(response.status_code) >= 500:
                failures.append(f"{method.upper()} {path}: {int(response.status_code)}")
        except Exception as error:  # noqa: BLE001 (every operation tried, then all failures reported)
            failures.append(f"{method.upper()} {path}: {type(error).__name__}: {str(error)[:400]}")
    print(f"\nclient généré, rôle {role or 'anonyme'} : {operations} opérations appelées, "
          f"statuts {dict(sorted(statuses.items()))}, {len(failures)} échecs")
    assert not failures, "\n".join(failures)
