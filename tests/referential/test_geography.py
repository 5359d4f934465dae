"""The official geographic code: lookup, search, postcodes (on the shipped data), `flask cog refresh` (on the
small extracts of tests/referential/data/, taken from the real packages), the picker's endpoints."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from app.referential import geography
from tests.factories import make_user

DATA = Path(__file__).parent / "data"
COMMUNES = DATA / "decoupage-administratif-mini.tgz"
CODES = DATA / "res_country-mini.xml"
NAMES = DATA / "world-countries-mini.json"


# ------------------------------------------------------------------ lookup, search, postcodes


def test_lookup_a_commune():
    place = geography.lookup("42218")
    assert place == geography.Place("42218", "Saint-Étienne", "commune", ("42000", "42100", "42230"), "42")


def test_lookup_a_municipal_arrondissement_the_code_of_birth_certificates():
    assert geography.lookup("75112").label == "Paris 12e Arrondissement"
    assert geography.lookup("75112").postcodes == ("75012",)
    assert geography.lookup("13201").label == "Marseille 1er Arrondissement"
    assert geography.lookup("69381").label == "Lyon 1er Arrondissement"
    assert geography.lookup("75056").label == "Paris"


def test_lookup_a_country_for_a_birth_abroad():
    germany = geography.lookup("99109")
    assert (germany.label, germany.kind, germany.postcodes, germany.department) == ("Allemagne", "pays", (), None)
    # One code for a state and its territories (before the COG 2024): the state names the code.
    assert geography.lookup("99132").label == "Royaume-Uni"


def test_lookup_corsica_overseas_former_communes_and_spaces():
    assert geography.lookup("2A004").label == "Ajaccio"
    assert geography.lookup("2a004").label == "Ajaccio"
    assert geography.lookup(" 97101 ").label == "Les Abymes"
    # A commune déléguée keeps its own name; its code, shared with the commune nouvelle, names the latter.
    assert geography.lookup("01015").label == "Arboys en Bugey"
    assert geography.lookup("01340").label == "Saint-Bois"  # a commune déléguée of its own code
    # A former commune merged without a commune déléguée: its code still answers, with today's commune.
    assert geography.lookup("01126") == geography.Place("01126", "Valserhône", "commune",
                                                        geography.lookup("01033").postcodes, "01")


@pytest.mark.parametrize("code", ["00000", "99999", "99100", "7511", "751120", "", "ABCDE", None])
def test_lookup_of_an_unknown_code(code):
    assert geography.lookup(code) is None


@pytest.mark.parametrize("query", ["saint-étienne", "SAINT ETIENNE", "St Étienne", "st-etienne", "Saint-Etienne"])
def test_search_by_name_ignores_accents_case_hyphens_and_the_saint_abbreviation(query):
    found = geography.search(query)
    assert found[0].code == "42218"
    assert all(geography.fold(p.label).startswith("saint etienne") for p in found)


def test_search_st_is_saint_or_the_start_of_a_name():
    found = [p.code for p in geography.search("St")]
    assert "67482" in found and "42218" in found  # Strasbourg and Saint-Étienne, the larger first
    assert geography.search("Stains")[0].code == "93072"


def test_search_apostrophes_and_leading_article():
    assert geography.search("L’Haÿ")[0].code == "94038"
    assert geography.search("l'hay-les")[0].code == "94038"
    assert geography.search("Haÿ-les-Roses")[0].code == "94038"


def test_search_a_city_then_its_arrondissements_in_order():
    found = geography.search("paris", limit=4)
    assert [p.code for p in found] == ["75056", "75101", "75102", "75103"]


def test_search_communes_before_countries_the_exact_name_first():
    found = geography.search("Allemagne", limit=10)
    assert found[0] == geography.lookup("99109")
    assert "04004" in [p.code for p in found]  # Allemagne-en-Provence
    found = geography.search("Allem", limit=50)
    kinds = [p.kind for p in found]
    assert kinds.index("pays") > max(i for i, k in enumerate(kinds) if k == "commune")


def test_search_finds_a_territory_by_its_own_name_with_its_code():
    assert [(p.code, p.label) for p in geography.search("Jersey")] == [("99132", "Jersey")]


def test_search_by_postcode_and_by_code():
    assert [p.code for p in geography.search("75012")] == ["75112", "75056"]
    found = geography.search("42100")
    assert found[0].code == "42218" and all("42100" in p.postcodes or p.code == "42100" for p in found)
    assert geography.search("99109") == [geography.lookup("99109")]
    assert geography.search("75112") == [geography.lookup("75112")]
    assert len(geography.search("750", limit=5)) == 5
    assert [p.code for p in geography.search("9910", limit=3)] == ["99101", "99102", "99103"]
    assert all(p.kind == "pays" for p in geography.search("99"))


def test_search_is_bounded_deterministic_and_quiet_on_nonsense():
    assert len(geography.search("sa", limit=10)) == 10
    assert geography.search("sa", limit=10) == geography.search("sa", limit=10)
    assert len(geography.search("sa", limit=1000)) == 50
    for query in ("", "   ", "zzzzzz", "-", "'", "\x00", "é" * 200):
        assert geography.search(query) == []


def test_by_postcode_the_arrondissement_first():
    assert [p.code for p in geography.by_postcode("75012")] == ["75112", "75056"]
    assert geography.by_postcode("00000") == []


def test_data_says_its_sources():
    info = geography.info()
    assert info["sources"]["communes"]["package"] == "@etalab/decoupage-administratif"
    assert info["counts"]["communes"] > 34000
    assert info["counts"]["countries"] > 190


# ------------------------------------------------------------------ flask cog refresh


@pytest.fixture
def instance(app, tmp_path, monkeypatch):
    """An empty instance folder of its own: what refresh writes, and what lookups then read."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


@pytest.fixture
def small_current(instance, tmp_path, monkeypatch):
    """A shipped copy as small as the fixture, so that the fixture is not refused as too small."""
    shipped = tmp_path / "shipped" / "cog.json.gz"
    geography.write_data(geography.build_data(COMMUNES, CODES, NAMES), shipped)
    monkeypatch.setattr(geography, "SHIPPED_PATH", shipped)
    return shipped


def refresh(runner, *args):
    return runner.invoke(args=["cog", "refresh", "--from", str(COMMUNES), "--countries-from", str(CODES),
                               "--names-from", str(NAMES), *args])


def test_refresh_writes_the_instance_copy_which_then_answers(app, runner, small_current, instance):
    result = refresh(runner)
    assert result.exit_code == 0, result.output
    written = instance / geography.INSTANCE_FILE
    assert written.exists()
    assert "8 communes, 3 arrondissements municipaux, 2 communes déléguées ou associées, 5 codes de pays" \
        in result.output
    assert "@etalab/decoupage-administratif 6.0.0-mini" in result.output
    data = json.loads(gzip.decompress(written.read_bytes()))
    assert data["sources"]["communes"]["version"] == "6.0.0-mini"
    assert data["sources"]["countries"]["names"]["package"] == "world-countries"
    with app.app_context():
        assert geography.data_path() == written
        assert geography.lookup("75112").label == "Paris 12e Arrondissement"
        assert geography.lookup("69381") is None  # not in the small file: the instance copy is the one read
        assert geography.lookup("99109").label == "Allemagne"
        assert geography.lookup("99132").label == "Royaume-Uni"


def test_refresh_refuses_far_fewer_communes_than_the_current_data(app, runner, instance):
    result = refresh(runner)
    assert result.exit_code == 1
    assert "refusé" in result.output and "34969" in result.output
    assert not (instance / geography.INSTANCE_FILE).exists()


@pytest.mark.parametrize("option,content", [
    ("--from", b"{pas du json"),
    ("--from", b'{"code": "75112"}'),
    ("--from", b"[]"),
    ("--countries-from", b"<odoo><record"),
    ("--names-from", b"[1, 2]"),
])
def test_refresh_refuses_a_file_that_does_not_parse(app, runner, small_current, instance, tmp_path, option, content):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    args = {"--from": str(COMMUNES), "--countries-from": str(CODES), "--names-from": str(NAMES), option: str(bad)}
    result = runner.invoke(args=["cog", "refresh", *[x for pair in args.items() for x in pair]])
    assert result.exit_code == 1, result.output
    assert "Erreur : " in result.output and "Rien n'a été modifié" in result.output
    assert not (instance / geography.INSTANCE_FILE).exists()


def test_refresh_of_the_communes_only_keeps_the_countries(app, runner, small_current, instance):
    result = runner.invoke(args=["cog", "refresh", "--from", str(COMMUNES), "--communes-only"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert geography.lookup("99109").label == "Allemagne"


def test_refresh_reads_the_bare_json_files_too(app, runner, small_current, instance, tmp_path):
    import tarfile

    with tarfile.open(COMMUNES) as archive:
        (tmp_path / "communes.json").write_bytes(archive.extractfile("package/data/communes.json").read())
    result = runner.invoke(args=["cog", "refresh", "--from", str(tmp_path / "communes.json"),
                                 "--countries-from", str(CODES), "--names-from", str(NAMES)])
    assert result.exit_code == 0, result.output
    assert "inconnue" in result.output  # a bare file does not say its version


def test_refresh_to_an_output_file(app, runner, small_current, tmp_path):
    target = tmp_path / "out" / "cog.json.gz"
    result = refresh(runner, "--output", str(target))
    assert result.exit_code == 0, result.output
    assert geography.read_data(target)["counts"]["communes"] == 8


def test_shipped_copy_is_what_refresh_builds_from_the_packages():
    data = geography.read_data(geography.SHIPPED_PATH)
    assert data["format"] == geography.FORMAT
    assert data["sources"]["communes"]["version"]
    assert data["counts"] == geography.counts_of(data)


# ------------------------------------------------------------------ the picker's endpoints


def test_api_places(app_ctx, api_as):
    api = api_as(make_user("entreprise"))
    response = api.get("/geo/places?q=paris 12")
    assert response.status_code == 200
    assert response.json == [{"code": "75112", "label": "Paris 12e Arrondissement", "kind": "commune",
                               "postcodes": ["75012"], "department": "75"}]
    assert len(api.get("/geo/places?q=sa").json) == 10
    assert len(api.get("/geo/places?q=sa&limit=3").json) == 3
    assert api.get("/geo/places/99109").json == {"code": "99109", "label": "Allemagne", "kind": "pays",
                                                  "postcodes": [], "department": None}


@pytest.mark.parametrize("query,field", [("", "q"), ("q=", "q"), ("q=a&limit=0", "limit"), ("q=a&limit=21", "limit"),
                                         ("q=a&limit=x", "limit"), ("q=" + "a" * 101, "q"), ("q=a%00b", "q")])
def test_api_places_bad_input_is_a_french_422(app_ctx, api_as, query, field):
    response = api_as(make_user("secretariat")).get(f"/geo/places?{query}")
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_api_place_unknown_code_is_a_404(app_ctx, api_as):
    response = api_as(make_user("secretariat")).get("/geo/places/99999")
    assert response.status_code == 404
    assert "99999" in response.json["detail"]


def test_api_places_need_a_token(app_ctx, api_as):
    assert api_as(None).get("/geo/places?q=paris").status_code == 401


@pytest.mark.parametrize("role", ["entreprise", "candidat", "secretariat", "evaluateur"])
def test_web_places_for_any_logged_in_page(app_ctx, client, login_as, role):
    login_as(make_user(role))
    response = client.get("/referentiel/lieux?q=Saint-Étienne")
    assert response.status_code == 200
    assert response.json[0] == {"code": "42218", "label": "Saint-Étienne", "kind": "commune",
                                "postcodes": ["42000", "42100", "42230"], "department": "42"}
    assert len(response.json) == 10
    assert client.get("/referentiel/lieux").json == []
    assert client.get("/referentiel/lieux?q=%00").status_code == 422  # a NUL is refused (input safety)


def test_web_places_not_for_anonymous(app_ctx, client):
    assert client.get("/referentiel/lieux?q=paris").status_code in (302, 401)


def test_api_openapi_lists_the_places(app_ctx, client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/geo/places" in spec["paths"] or "/geo/places" in json.dumps(spec["paths"])


def test_shipped_file_is_small():
    assert geography.SHIPPED_PATH.stat().st_size < 1_500_000


def test_the_macro_without_javascript_is_two_labelled_inputs(app):
    from flask import render_template_string
    from wtforms import StringField

    from app.core.forms import BaseForm

    class PlaceForm(BaseForm):
        birth_place = StringField("Commune de naissance")
        birth_place_code = StringField("Code INSEE du lieu de naissance")

    with app.test_request_context("/"):
        form = PlaceForm(meta={"csrf": False})
        form.birth_place_code.errors = ["Le code « 99999 » n'existe pas dans le code officiel géographique."]
        html = render_template_string('{% from "macros/geo.html" import commune_field %}'
                                      "{{ commune_field(form.birth_place_code, form.birth_place) }}", form=form)
    assert '<label for="birth_place">Commune de naissance</label>' in html
    assert '<label for="birth_place_code">Code INSEE du lieu de naissance</label>' in html
    assert 'list="birth_place-suggestions"' in html and '<datalist id="birth_place-suggestions">' in html
    assert 'data-geo-url="/referentiel/lieux"' in html and 'data-geo-code="birth_place_code"' in html
    assert 'aria-describedby="birth_place-aide"' in html
    assert 'aria-describedby="birth_place_code-aide birth_place_code-erreur"' in html and 'aria-invalid="true"' in html
    assert 'id="birth_place_code-erreur">Le code « 99999 »' in html
    assert 'maxlength="5"' in html and "aria-live" in html and "/static/js/geo" in html


def test_an_unreadable_instance_copy_falls_back_to_the_shipped_one(app, instance, caplog):
    (instance / geography.INSTANCE_FILE).write_bytes(b"not gzip")
    with app.app_context():
        assert geography.lookup("75112").label == "Paris 12e Arrondissement"
    assert "illisible" in caplog.text


def test_lookup_takes_what_a_form_may_hand_in():
    assert geography.lookup(75112).label == "Paris 12e Arrondissement"
    assert geography.search(75012)[0].code == "75112"
    assert geography.by_postcode(75012)[0].code == "75112"
